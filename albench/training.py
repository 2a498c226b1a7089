"""The harness's training routine: a fresh model per round, best-validation weights kept."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from albench.config import TrainingConfig
from albench.devices import inference_batch_size
from albench.types import Dataset


@dataclass
class FitResult:
    model: nn.Module
    val_accuracy: float | None
    epochs_run: int
    seconds: float


STUDY_CHECKPOINT_DELAY = 50
"""The study's ``DelayedModelCheckpoint(delay=50)``: it keeps epochs whose 0-based index
exceeds 50."""


def keeps_epoch(rule: str, epoch: int, key: tuple[float, float],
                best: tuple[float, float] | None) -> bool:
    """Whether epoch ``epoch`` (0-based), with validation ``key`` ``(accuracy, -loss)``,
    replaces the weights kept so far (whose key is ``best``; None: nothing kept yet)."""
    if rule == "study":
        return epoch > STUDY_CHECKPOINT_DELAY and (best is None or key[0] >= best[0])
    return best is None or key > best


def steps_per_epoch(config: TrainingConfig, n_train: int) -> int:
    """Optimizer steps in one epoch over ``n_train`` examples (a lone straggler is skipped)."""
    def counted(size: int) -> bool:
        return size >= 2 or n_train < 2

    full, rest = divmod(n_train, config.batch_size)
    return full * counted(config.batch_size) + (rest > 0 and counted(rest))


def epoch_bounds(config: TrainingConfig, n_train: int) -> tuple[int, int]:
    """(most, fewest) epochs to train: ``min_steps`` raises both above the configured ones."""
    steps = max(1, steps_per_epoch(config, n_train))
    needed = -(-config.min_steps // steps)
    return max(config.epochs, needed), needed


def l2_kernel_names(model: nn.Module) -> set[str]:
    """Names of the parameters ``l2_kernels`` applies to: the weights of every convolution
    and linear layer except the model's ``head``."""
    head = getattr(model, "head", None)
    return {f"{name}.weight" if name else "weight"
            for name, module in model.named_modules()
            if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)) and module is not head}


def has_dropout(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.dropout._DropoutNd) for m in model.modules())


class Trainer:
    """Trains models of one architecture on one dataset, and runs inference with them."""

    def __init__(self, dataset: Dataset, model_factory: Callable[..., nn.Module],
                 config: TrainingConfig, device: torch.device | str = "cpu",
                 model_options: dict | None = None):
        self.dataset = dataset
        self.model_factory = model_factory
        self.model_options = dict(model_options or {})
        self.config = config
        self.device = torch.device(device)

    @property
    def inference_batch_size(self) -> int:
        """Examples per forward pass over a pool on this trainer's device."""
        return inference_batch_size(self.device)

    def new_model(self, seed: int) -> nn.Module:
        """A freshly initialised model; weights depend on ``seed`` alone.

        On a CPU, convolution weights are stored channels-last, which makes oneDNN run
        channels-last kernels: LeNet's forward pass is 2-2.4x faster on one thread.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self.model_factory(self.dataset.input_shape, self.dataset.num_classes,
                                       **self.model_options)
        if self.device.type == "cpu":
            model = model.to(memory_format=torch.channels_last)
        return model.to(self.device)

    def fit(self, x_raw: np.ndarray, y: np.ndarray, seed: int) -> FitResult:
        """Train from scratch on ``x_raw, y`` holding out ``val_fraction`` for model selection."""
        start = time.perf_counter()
        cfg = self.config
        y = np.asarray(y, dtype=np.int64)
        n = len(y)
        split_rng = np.random.default_rng(seed)
        order = split_rng.permutation(n)
        n_val = round(cfg.val_fraction * n) if n >= 2 else 0
        n_val = min(n_val, n - 1)
        val, train = order[:n_val], order[n_val:]
        x_all = self.dataset.inputs(x_raw).to(self.device)
        y_all = torch.as_tensor(y, device=self.device)
        model = self.new_model(seed)
        optimizer = self._optimizer(model)
        max_epochs, min_epochs = epoch_bounds(cfg, len(train))
        scheduler = self._scheduler(optimizer, max_epochs)
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(seed)
        best_state, best_key, since_best, epochs_run = None, None, 0, 0
        train_t = torch.as_tensor(train)
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(seed)
            for epoch in range(max_epochs):
                epochs_run = epoch + 1
                model.train()
                # one host-to-device copy per epoch, not per step
                perm = train_t[torch.randperm(len(train_t), generator=generator)].to(self.device)
                for batch in perm.split(cfg.batch_size):
                    if len(batch) < 2 and len(train_t) >= 2:
                        continue  # a lone straggler destabilises batch norm
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_fn(model(x_all[batch]), y_all[batch])
                    loss.backward()
                    optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                if n_val == 0:
                    continue
                key = self._val_key(model, x_all, y_all, val)
                if keeps_epoch(cfg.checkpoint, epoch, key, best_key):
                    best_key, since_best = key, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    since_best += 1
                    if (cfg.patience is not None and since_best >= cfg.patience
                            and epochs_run >= min_epochs):
                        break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return FitResult(model, None if best_key is None else best_key[0], epochs_run,
                         time.perf_counter() - start)

    def fit_models(self, x_raw: np.ndarray, y: np.ndarray, seeds: list[int], parallel: int = 1,
                   strategy: str = "ensemble") -> list[nn.Module]:
        """One model per seed, each trained by :meth:`fit` on ``x_raw, y``.

        With ``parallel`` > 1 the models train in spawned worker processes, each with an equal
        share of torch's threads; a model's weights depend on its seed alone either way.
        """
        workers = min(parallel, len(seeds))
        if workers <= 1:
            return [self.fit(x_raw, y, seed=seed).model for seed in seeds]
        dataset = self.dataset
        small = Trainer(replace(dataset, x_pool=x_raw, y_pool=y, x_test=x_raw[:0], y_test=y[:0],
                                revision=f"{dataset.revision}/labelled"),
                        self.model_factory, self.config, self.device, self.model_options)
        try:
            pickle.dumps(small.model_factory)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ValueError(f"{strategy}: parallel training sends the model factory to worker "
                             f"processes, but it cannot be pickled ({exc}); use parallel=1"
                             ) from exc
        threads = max(1, torch.get_num_threads() // workers)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(threads,)) as pool:
            states = list(pool.map(_fit_state, [small] * len(seeds), seeds))
        models = []
        for seed, state in zip(seeds, states):
            model = self.new_model(seed)
            model.load_state_dict(state)
            models.append(model.eval())
        return models

    def _val_key(self, model, x_all, y_all, val) -> tuple[float, float]:
        """Validation accuracy, ties broken by lower loss."""
        model.eval()
        idx = torch.as_tensor(val, device=self.device)
        with torch.inference_mode():
            logits = model(x_all[idx])
            loss = nn.functional.cross_entropy(logits, y_all[idx]).item()
            acc = (logits.argmax(1) == y_all[idx]).float().mean().item()
        return (acc, -loss)

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        cfg = self.config
        params = model.parameters()
        if cfg.l2_kernels:
            kernels = l2_kernel_names(model)
            named = dict(model.named_parameters())
            params = [
                {"params": [p for n, p in named.items() if n in kernels],
                 "weight_decay": cfg.weight_decay + 2 * cfg.l2_kernels},
                {"params": [p for n, p in named.items() if n not in kernels]},
            ]
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                               nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)

    def _scheduler(self, optimizer: torch.optim.Optimizer, epochs: int):
        """The learning-rate schedule, stepped once per epoch (None: a constant rate)."""
        cfg = self.config
        if cfg.lr_schedule == "step":
            return torch.optim.lr_scheduler.StepLR(optimizer, cfg.lr_step_epochs, cfg.lr_gamma)
        if cfg.lr_schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
        return None

    def _rng_devices(self) -> list:
        return [self.device] if self.device.type == "cuda" else []

    def _batched(self, model: nn.Module, x_raw: np.ndarray, fn) -> torch.Tensor:
        model.eval()
        outputs = []
        with torch.inference_mode():
            step = inference_batch_size(self.device)
            for start in range(0, len(x_raw), step):
                x = self.dataset.inputs(x_raw[start:start + step]).to(self.device)
                outputs.append(fn(x).float().cpu())
        if not outputs:
            return torch.empty(0)
        return torch.cat(outputs)

    def logits(self, model: nn.Module, x_raw: np.ndarray) -> np.ndarray:
        return self._batched(model, x_raw, model).numpy()

    def predict_proba(self, model: nn.Module, x_raw: np.ndarray) -> np.ndarray:
        probs = self._batched(model, x_raw, lambda x: torch.softmax(model(x), dim=1))
        return probs.numpy().reshape(len(x_raw), self.dataset.num_classes)

    def embed(self, model: nn.Module, x_raw: np.ndarray) -> np.ndarray:
        return self._batched(model, x_raw, model.embed).numpy()

    def accuracy(self, model: nn.Module, x_raw: np.ndarray, y: np.ndarray) -> float:
        predicted = self._batched(model, x_raw, lambda x: model(x).argmax(1)).numpy()
        return float((predicted == np.asarray(y)).mean())


def _fit_state(trainer: Trainer, seed: int) -> dict[str, torch.Tensor]:
    """Worker: train on the trainer's whole pool; the weights, on the CPU."""
    model = trainer.fit(trainer.dataset.x_pool, trainer.dataset.y_pool, seed).model
    return {key: value.cpu() for key, value in model.state_dict().items()}
