"""The discriminator and the autoencoder, built and trained from an explicit torch.Generator."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import torch
from torch import nn
from torch.nn.utils import skip_init

from albench import QueryContext

Init = Literal["torch", "glorot"]
"""``torch``: PyTorch's default initialisation; ``glorot``: Keras's (glorot-uniform, zero bias)."""


def initialise(layer: nn.Linear | nn.Conv2d, init: Init, generator: torch.Generator) -> None:
    """Draw ``layer``'s weights and bias from ``generator`` by the ``init`` rule."""
    if init == "glorot":
        nn.init.xavier_uniform_(layer.weight, generator=generator)
        nn.init.zeros_(layer.bias)
        return
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1 / math.sqrt(layer.weight[0].numel())
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def linear(fan_in: int, fan_out: int, generator: torch.Generator,
           init: Init = "torch") -> nn.Linear:
    """An ``nn.Linear`` initialised by ``init`` from ``generator``."""
    layer = skip_init(nn.Linear, fan_in, fan_out)
    initialise(layer, init, generator)
    return layer


def mlp(widths: list[int], generator: torch.Generator, init: Init = "torch") -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in pairwise(widths):
        layers += [linear(fan_in, fan_out, generator, init), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


@dataclass(frozen=True)
class DiscriminatorConfig:
    """An unregularised MLP trained with Adam until its training accuracy passes 98%.

    The defaults are albench's ``dal`` recipe; :func:`albench_dal.study.study_discriminator`
    gives the study's. ``class_weights``: ``inverse`` (each class weighted by total / its
    size) or ``equal`` (what the study's code evaluates to).
    """

    hidden: int = 256
    depth: int = 3
    lr: float = 3e-4
    batch_size: int = 1024
    max_epochs: int = 200
    stop_accuracy: float = 0.98
    class_weights: Literal["inverse", "equal"] = "inverse"
    init: Init = "torch"
    adam_eps: float = 1e-8

    def __post_init__(self):
        if min(self.hidden, self.depth, self.batch_size, self.max_epochs) < 1:
            raise ValueError(f"discriminator: hidden, depth, batch_size and max_epochs must be "
                             f"positive, got {self}")
        if not 0 < self.stop_accuracy <= 1 or self.lr <= 0 or self.adam_eps <= 0:
            raise ValueError(f"discriminator: need 0 < stop_accuracy <= 1, lr > 0 and "
                             f"adam_eps > 0, got {self}")
        if self.class_weights not in ("inverse", "equal") or self.init not in ("torch",
                                                                              "glorot"):
            raise ValueError(f"discriminator: class_weights must be inverse or equal and init "
                             f"torch or glorot, got {self}")


def class_weights(n_labeled: int, n_unlabeled: int, rule: str) -> torch.Tensor:
    """Loss weights of the two classes (labelled, unlabelled) under ``rule``."""
    if rule == "equal":
        return torch.ones(2)
    counts = torch.tensor([n_labeled, n_unlabeled], dtype=torch.float32)
    return (n_labeled + n_unlabeled) / counts.clamp(min=1)


def train_discriminator(labeled: torch.Tensor, unlabeled: torch.Tensor,
                        config: DiscriminatorConfig, generator: torch.Generator,
                        history: list[float] | None = None) -> nn.Module:
    """An MLP telling ``labeled`` (class 0) from ``unlabeled`` (class 1) feature rows.

    Classes are weighted by ``config.class_weights``; training stops once an epoch's running
    accuracy passes ``stop_accuracy`` (before the net is sure of everything), or after
    ``max_epochs``. Each epoch's running accuracy is appended to ``history`` if given.
    """
    device = labeled.device
    x = torch.cat([labeled, unlabeled])
    y = torch.cat([torch.zeros(len(labeled), dtype=torch.long),
                   torch.ones(len(unlabeled), dtype=torch.long)]).to(device)
    weights = class_weights(len(labeled), len(unlabeled), config.class_weights).to(device)
    net = mlp([x.shape[1]] + [config.hidden] * config.depth + [2], generator,
              config.init).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, eps=config.adam_eps)
    for _ in range(config.max_epochs):
        correct = torch.zeros((), dtype=torch.long, device=device)  # read once per epoch
        order = torch.randperm(len(x), generator=generator).to(device)
        for batch in order.split(config.batch_size):
            logits = net(x[batch])
            loss = nn.functional.cross_entropy(logits, y[batch], weight=weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == y[batch]).sum()
        accuracy = int(correct) / len(x)
        if history is not None:
            history.append(accuracy)
        if accuracy > config.stop_accuracy:
            break
    return net.eval()


def unlabeled_probability(net: nn.Module, x: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    """P(unlabelled) for each row of ``x``, as a CPU float tensor."""
    with torch.inference_mode():
        return torch.cat([torch.softmax(net(part), 1)[:, 1].float().cpu()
                          for part in x.split(batch)])


def autoencoder_features(x: torch.Tensor, generator: torch.Generator, code: int = 64,
                         hidden: int = 256, epochs: int = 10, batch_size: int = 256,
                         lr: float = 1e-3) -> torch.Tensor:
    """Train an MLP autoencoder on the rows of ``x`` (squared error) and return their codes."""
    encoder = mlp([x.shape[1], hidden, code], generator).to(x.device)
    decoder = mlp([code, hidden, x.shape[1]], generator).to(x.device)
    parameters = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=lr)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(batch_size):
            rows = x[batch.to(x.device)]
            loss = nn.functional.mse_loss(decoder(encoder(rows)), rows)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return torch.cat([encoder(part) for part in x.split(8192)])


def run_generator(context: QueryContext, generator: torch.Generator) -> torch.Generator:
    """The generator that trains what a run keeps across rounds (the autoencoder).

    Seeded like the run's first query's ``generator`` (``context.torch_generator()``): at
    that query it is ``generator`` itself, which then goes on to train the discriminators;
    in a later round it is a fresh one, so that a resumed run or a replayed round trains the
    autoencoder an uninterrupted run trained at its first query.
    """
    seed = int(context.run_rng().integers(2**63))
    return generator if generator.initial_seed() == seed else torch.Generator().manual_seed(seed)
