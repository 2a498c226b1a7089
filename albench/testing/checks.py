"""The conformance checks: ``check_strategy``, ``check_dataset`` and ``check_model``.

Each check raises ``AssertionError`` with a message naming the plugin, the situation and
what broke. ``strategy_checks``, ``dataset_checks`` and ``model_checks`` give them one by one,
and ``parametrize_with_checks`` makes each its own pytest item (like scikit-learn's).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch
from torch import nn

from albench.compare import ranking_kind
from albench.loop import SelectionError, validate_selection
from albench.scoring import top_k
from albench.testing.toy import FAST_TRAINING, one_thread, toy_context, toy_dataset
from albench.training import Trainer
from albench.types import Dataset, QueryContext, fingerprint

__all__ = ["Check", "check_dataset", "check_model", "check_strategy", "dataset_checks",
           "model_checks", "parametrize_with_checks", "run_checks", "strategy_checks",
           "toy_context", "toy_dataset"]

_NO_SUCH_OPTION = "albench_no_such_option"


def _global_state() -> tuple:
    _, keys, position, *_ = np.random.get_state()  # a draw may move the position alone
    return (random.getstate(), keys.tobytes(), position,
            torch.random.get_rng_state().numpy().tobytes())


def _label(factory: Callable, name: str | None) -> str:
    return name or getattr(factory, "__name__", None) or repr(factory)


def _check_unknown_option(factory: Callable, name: str, *args) -> None:
    try:
        factory(*args, **{_NO_SUCH_OPTION: 1})
    except TypeError:
        return
    raise AssertionError(f"{name} accepted the unknown option {_NO_SUCH_OPTION!r}; unknown "
                         f"options must raise TypeError so that typos in suite files fail")


def _state(context: QueryContext) -> tuple:
    """What a strategy must leave as it found it: weights, index arrays and data."""
    weights = [t.detach().clone() for t in context.model.state_dict().values()]
    arrays = [a.copy() for a in (context.labeled_idx, context.unlabeled_idx,
                                 context.labeled_labels)]
    return weights, arrays, fingerprint(context.dataset)


def _same_state(a: tuple, b: tuple) -> bool:
    return (all(torch.equal(x, y) for x, y in zip(a[0], b[0]))
            and all(np.array_equal(x, y) for x, y in zip(a[1], b[1])) and a[2] == b[2])


@dataclass(frozen=True)
class Check:
    """One conformance check of one plugin, runnable alone: ``check()`` raises
    ``AssertionError`` naming what broke."""

    plugin: str
    name: str
    run: Callable[[], None] = field(repr=False, compare=False)

    def __call__(self) -> None:
        self.run()


def run_checks(checks: list[Check]) -> None:
    """Run every check; raise one ``AssertionError`` listing all that failed."""
    failures = []
    for check in checks:
        try:
            check()
        except AssertionError as exc:
            failures.append((check, exc))
    if len(failures) == 1:
        raise failures[0][1]
    if failures:
        raise AssertionError(f"{len(failures)} conformance checks failed:\n" + "\n".join(
            f"- {check.name}: {exc}" for check, exc in failures)) from failures[0][1]


def parametrize_with_checks(checks: list[Check], expected_failures: dict[str, str] | None = None):
    """A pytest decorator that makes each check its own test item, named after the check.

    ``expected_failures`` maps a check's name to the reason it is a known limitation: that
    item is expected to fail (strictly, so a fix is noticed). The test takes ``check``::

        @parametrize_with_checks(strategy_checks(MyStrategy, name="mine"))
        def test_conformance(check):
            check()
    """
    import pytest

    expected = dict(expected_failures or {})
    unknown = sorted(set(expected) - {check.name for check in checks})
    if unknown:
        raise ValueError(f"expected_failures names checks that do not exist: {unknown}; "
                         f"the checks are {sorted({check.name for check in checks})}")
    plugins = {check.plugin for check in checks}
    return pytest.mark.parametrize("check", [
        pytest.param(check, id=check.name if len(plugins) == 1 else f"{check.plugin}-{check.name}",
                     marks=[pytest.mark.xfail(reason=expected[check.name], strict=True,
                                              raises=AssertionError)]
                     if check.name in expected else [])
        for check in checks])


def check_strategy(factory: Callable[..., object], name: str | None = None,
                   model: str = "mlp", images: bool = False, dataset: Dataset | None = None,
                   **options) -> None:
    """Run every check of :func:`strategy_checks`; one ``AssertionError`` lists the failures."""
    run_checks(strategy_checks(factory, name, model, images, dataset, **options))


def strategy_checks(factory: Callable[..., object], name: str | None = None,
                    model: str = "mlp", images: bool = False, dataset: Dataset | None = None,
                    **options) -> list[Check]:
    """The conformance checks of the strategy that ``factory(**options)`` builds.

    The strategy must return ``budget`` distinct, in-range, unlabelled pool indices; be
    deterministic for a fixed ``context.rng``, also after answering another run's query
    (state kept between queries must come from the data and ``context.run_rng()``); cope
    with a budget of one, a budget of the whole unlabelled pool, labelled examples of one
    class only and an empty labelled set (an untrained model); never touch global random
    state (``random``, ``numpy.random``, torch's default generator); leave the model, index
    arrays and data unchanged; and reject unknown options with ``TypeError``. Its contexts
    are built like a run's, so the labels of unlabelled examples are out of its reach
    (``context.dataset.y_pool`` is all -1).
    A strategy with ``scores(context)`` must return one number per unlabelled example, none
    NaN, whose top ``budget`` (ties broken by lower pool index) are what ``select`` returns;
    one with ``selection_order(context, budget)`` must return the indices ``select`` returns.

    ``model`` names the architecture of the toy contexts and ``images=True`` gives them
    1×8×8 images (for strategies that need a CNN); ``dataset`` replaces the toy pool.
    """
    name = _label(factory, name)
    dataset = dataset if dataset is not None else toy_dataset(images=images)
    trained = "a trained model and 12 labelled examples"

    def call(context: QueryContext, budget: int, situation: str, method: str = "select",
             strategy=None):
        before, state = _global_state(), _state(context)
        strategy = strategy if strategy is not None else factory(**options)
        try:
            out = (strategy.scores(context) if method == "scores"
                   else getattr(strategy, method)(context, budget))
        except Exception as exc:
            raise AssertionError(f"{name}.{method} raised {type(exc).__name__} with "
                                 f"{situation} (budget {budget}): {exc}") from exc
        if _global_state() != before:
            raise AssertionError(f"{name} changed global random state (random, numpy.random "
                                 f"or torch) with {situation}; draw randomness from "
                                 f"context.rng instead")
        if not _same_state(state, _state(context)):
            raise AssertionError(f"{name} modified the context (model weights, index arrays "
                                 f"or dataset) with {situation}; work on copies instead")
        return out

    def select(context: QueryContext, budget: int, situation: str,
               method: str = "select", strategy=None) -> np.ndarray:
        selected = call(context, budget, situation, method, strategy)
        labeled = context.labeled_mask()
        try:
            return validate_selection(selected, budget, labeled, f"strategy {name!r}")
        except SelectionError as exc:
            raise AssertionError(f"{exc} (with {situation})") from exc

    def first() -> np.ndarray:
        return select(toy_context(dataset, model=model, seed=0), 10, trained)

    def deterministic() -> None:
        again = select(toy_context(dataset, model=model, seed=0), 10,
                       "the same context a second time")
        if not np.array_equal(np.sort(first()), np.sort(again)):
            raise AssertionError(f"{name} is not deterministic: two selections with the same "
                                 f"context.rng differ; use context.rng for all randomness")

    def no_memory() -> None:
        strategy = factory(**options)
        select(toy_context(dataset, model=model, seed=1), 10, "another run's context",
               strategy=strategy)
        again = select(toy_context(dataset, model=model, seed=0), 10,
                       "a context after another run's", strategy=strategy)
        if not np.array_equal(np.sort(first()), np.sort(again)):
            raise AssertionError(f"{name} selects differently once it has answered another "
                                 f"run's query: what it keeps between queries must depend "
                                 f"only on the data and context.run_rng(), or a resumed run "
                                 f"or a replayed round would not repeat an uninterrupted one")

    def whole_pool() -> None:
        nearly_all = toy_context(dataset, n_labeled=dataset.pool_size - 7, model=model)
        select(nearly_all, len(nearly_all.unlabeled_idx),
               "a budget equal to the whole unlabelled pool")

    def single_class() -> None:
        one_class = np.flatnonzero(dataset.y_pool == dataset.y_pool[0])[:8]
        select(toy_context(dataset, labeled_idx=one_class, model=model), 5,
               "labelled examples of a single class")

    def ranking() -> None:
        kind = ranking_kind(factory(**options))
        if kind == "scores":
            context = toy_context(dataset, model=model, seed=0)
            scores = np.asarray(call(context, 10, trained, "scores"))
            if scores.shape != context.unlabeled_idx.shape or not np.issubdtype(
                    scores.dtype, np.number) or np.isnan(scores).any():
                raise AssertionError(f"{name}.scores returned {scores.dtype} values of shape "
                                     f"{scores.shape} (NaN: {np.isnan(scores).any()}); it must "
                                     f"return one number per unlabelled example, none NaN")
            expected = top_k(scores, context.unlabeled_idx, 10)
            if set(expected.tolist()) != set(first().tolist()):
                raise AssertionError(f"{name}: select's 10 picks are not the top 10 of its "
                                     f"scores (ties broken by lower pool index, as "
                                     f"albench.scoring.top_k does); select should "
                                     f"return top_k(self.scores(context), ...)")
        elif kind == "order":
            order = select(toy_context(dataset, model=model, seed=0), 10, trained,
                           "selection_order")
            if set(order.tolist()) != set(first().tolist()):
                raise AssertionError(f"{name}: selection_order's 10 indices are not the ones "
                                     f"select returns for the same context")

    checks = {
        "rejects_unknown_options": lambda: _check_unknown_option(factory, name),
        "selects_valid_indices": first,
        "is_deterministic": deterministic,
        "keeps_nothing_from_another_run": no_memory,
        "copes_with_a_budget_of_one": lambda: select(
            toy_context(dataset, model=model, seed=0), 1, "a budget of one"),
        "copes_with_a_budget_of_the_whole_pool": whole_pool,
        "copes_with_a_single_labelled_class": single_class,
        "copes_with_no_labels": lambda: select(
            toy_context(dataset, labeled_idx=[], model=model), 5,
            "an empty labelled set (untrained model)"),
        "ranks_as_it_selects": ranking,
    }
    return [Check(name, check, _one_thread(run)) for check, run in checks.items()]


def _one_thread(run: Callable[[], object]) -> Callable[[], None]:
    def alone() -> None:
        with one_thread():
            run()
    return alone


def check_dataset(loader: Callable[..., Dataset], name: str | None = None, **options) -> None:
    """Run every check of :func:`dataset_checks`; one ``AssertionError`` lists the failures."""
    run_checks(dataset_checks(loader, name, **options))


def dataset_checks(loader: Callable[..., Dataset], name: str | None = None,
                   **options) -> list[Check]:
    """The conformance checks of the dataset that ``loader(**options)`` returns.

    Checks: an :class:`albench.Dataset` with non-empty pool and test sets; inputs
    ``uint8`` or ``float32``, integer labels in ``0..num_classes-1`` with at least two
    classes in the pool; raw values inside ``input_range`` when it is set; normalised
    inputs of the declared shape, finite and of sensible scale; the same data and revision
    on a second load; unknown options rejected with ``TypeError``.
    """
    name = _label(loader, name)

    @cache
    def load() -> Dataset:
        dataset = loader(**options)
        if not isinstance(dataset, Dataset):
            raise AssertionError(f"{name} returned {type(dataset).__name__}, not an "
                                 f"albench.types.Dataset")
        return dataset

    def arrays() -> None:
        dataset = load()
        for part in ("x_pool", "y_pool", "x_test", "y_test"):
            if not isinstance(getattr(dataset, part), np.ndarray):
                raise AssertionError(f"{name}: {part} is "
                                     f"{type(getattr(dataset, part)).__name__}, not a numpy array")
        if dataset.pool_size == 0 or len(dataset.y_test) == 0:
            raise AssertionError(f"{name}: the pool ({dataset.pool_size}) and the test set "
                                 f"({len(dataset.y_test)}) must both be non-empty")
        for part in ("x_pool", "x_test"):
            dtype = getattr(dataset, part).dtype
            if dtype not in (np.uint8, np.float32):
                raise AssertionError(f"{name}: {part} has dtype {dtype}; store uint8 (images) "
                                     f"or float32 (features)")

    def labels() -> None:
        dataset = load()
        for part in ("y_pool", "y_test"):
            y = getattr(dataset, part)
            if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
                raise AssertionError(f"{name}: {part} must be a 1-D integer array, got "
                                     f"{y.dtype} of shape {y.shape}")
            if y.min() < 0 or y.max() >= dataset.num_classes:
                raise AssertionError(f"{name}: {part} has labels outside "
                                     f"0..{dataset.num_classes - 1}")
        if len(np.unique(dataset.y_pool)) < 2:
            raise AssertionError(f"{name}: the pool holds a single class")
        if dataset.classes and len(dataset.classes) != dataset.num_classes:
            raise AssertionError(f"{name}: {len(dataset.classes)} class names for "
                                 f"{dataset.num_classes} classes")

    def input_range() -> None:
        dataset = load()
        if dataset.input_range is None:
            return
        low, high = dataset.input_range
        for part in ("x_pool", "x_test"):
            x = getattr(dataset, part)
            if x.min() < low or x.max() > high:
                raise AssertionError(f"{name}: {part} has values in [{x.min()}, {x.max()}], "
                                     f"outside input_range {dataset.input_range}")

    def normalised() -> None:
        dataset = load()
        sample = dataset.x_pool[:512]
        inputs = dataset.inputs(sample)
        if inputs.dtype != torch.float32 or tuple(inputs.shape) != sample.shape:
            raise AssertionError(f"{name}: inputs() gave a {inputs.dtype} tensor of shape "
                                 f"{tuple(inputs.shape)}; expected float32 of shape "
                                 f"{sample.shape}")
        if not torch.isfinite(inputs).all() or not torch.isfinite(
                dataset.inputs(dataset.x_test[:512])).all():
            raise AssertionError(f"{name}: normalised inputs contain NaN or infinity")
        mean, std = inputs.mean().item(), inputs.std().item()
        if abs(mean) > 5 or not 0.05 <= std <= 20:
            raise AssertionError(f"{name}: normalised inputs have mean {mean:.3g} and standard "
                                 f"deviation {std:.3g}; set scale, mean and std so that they "
                                 f"are roughly zero-mean with unit spread")

    def deterministic() -> None:
        dataset = load()
        if not dataset.revision:
            raise AssertionError(f"{name}: revision is empty")
        again = loader(**options)
        if again.revision != dataset.revision or fingerprint(again) != fingerprint(dataset):
            raise AssertionError(f"{name}: a second load gave different data or revision "
                                 f"({again.revision!r} vs {dataset.revision!r}); loading must "
                                 f"be deterministic")

    checks = {
        "stores_numpy_arrays": arrays,
        "has_valid_labels": labels,
        "respects_its_input_range": input_range,
        "normalises_inputs": normalised,
        "loads_deterministically": deterministic,
        "rejects_unknown_options": lambda: _check_unknown_option(loader, name),
    }
    return [Check(name, check, run) for check, run in checks.items()]


def check_model(factory: Callable[..., nn.Module], name: str | None = None,
                images: bool = False, image_shape: tuple[int, int, int] = (1, 8, 8),
                **options) -> None:
    """Run every check of :func:`model_checks`; one ``AssertionError`` lists the failures."""
    run_checks(model_checks(factory, name, images, image_shape, **options))


def model_checks(factory: Callable[..., nn.Module], name: str | None = None,
                 images: bool = False, image_shape: tuple[int, int, int] = (1, 8, 8),
                 **options) -> list[Check]:
    """The conformance checks of the model that ``factory(input_shape, num_classes)``
    builds (with ``**options``).

    Checks: an ``nn.Module`` with ``embed`` and a ``head`` ``nn.Linear`` of the right width;
    ``forward(x) == head(embed(x))`` with the right output shape; weights that depend on
    torch's seed alone; a training step that reaches every part; training on the toy
    classes that beats chance and is reproducible; unknown options rejected with
    ``TypeError``. ``images=True`` uses toy images of ``image_shape`` instead of features.
    """
    name = _label(factory, name)
    dataset = toy_dataset(images=images, image_shape=image_shape)
    shape, classes = dataset.input_shape, dataset.num_classes

    def build(seed: int) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = factory(shape, classes, **options)
        if not isinstance(model, nn.Module):
            raise AssertionError(f"{name} returned {type(model).__name__}, not an nn.Module")
        if not callable(getattr(model, "embed", None)):
            raise AssertionError(f"{name}: the model has no embed(x) method")
        head = getattr(model, "head", None)
        if not isinstance(head, nn.Linear) or head.out_features != classes:
            raise AssertionError(f"{name}: model.head must be an nn.Linear with "
                                 f"{classes} outputs, got {head!r}")
        return model

    def forward() -> None:
        model = build(0).eval()
        x = dataset.inputs(dataset.x_pool[:5])
        with torch.no_grad():
            out, embedded = model(x), model.embed(x)
            single = model(x[:1])
        if tuple(out.shape) != (5, classes) or tuple(single.shape) != (1, classes):
            raise AssertionError(f"{name}: forward gave shape {tuple(out.shape)} for 5 inputs "
                                 f"of shape {shape}; expected (5, {classes})")
        if embedded.ndim != 2 or embedded.shape != (5, model.head.in_features):
            raise AssertionError(f"{name}: embed gave shape {tuple(embedded.shape)}; expected "
                                 f"(5, {model.head.in_features}) to feed the head")
        if not torch.allclose(out, model.head(embedded), atol=1e-5):
            raise AssertionError(f"{name}: forward(x) differs from head(embed(x)) in eval mode")

    def seeded() -> None:
        weights = [p.detach() for p in build(0).state_dict().values()]
        same = [p.detach() for p in build(0).state_dict().values()]
        other = [p.detach() for p in build(1).state_dict().values()]
        if not all(torch.equal(a, b) for a, b in zip(weights, same)):
            raise AssertionError(f"{name}: two models built with the same torch seed differ; "
                                 f"draw initial weights from torch's default generator only")
        if all(torch.equal(a, b) for a, b in zip(weights, other)):
            raise AssertionError(f"{name}: models built with different torch seeds are "
                                 f"identical; do not reseed torch in the factory")

    def learns() -> None:
        build(0)  # a clear message for a model that is not one
        _check_learns(factory, dataset, name, options)

    checks = {
        "rejects_unknown_options": lambda: _check_unknown_option(factory, name, shape, classes),
        "has_embed_and_head": lambda: build(0),
        "forward_is_head_of_embed": forward,
        "weights_depend_on_the_seed_alone": seeded,
        "trains_every_part": lambda: _check_training_step(build(0).eval(), dataset, name),
        "learns_reproducibly": learns,
    }
    return [Check(name, check, _one_thread(run)) for check, run in checks.items()]


def _check_training_step(model: nn.Module, dataset: Dataset, name: str) -> None:
    model.train()
    x = dataset.inputs(dataset.x_pool[:16])
    y = torch.as_tensor(dataset.y_pool[:16], dtype=torch.int64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    model.eval()
    if not torch.isfinite(loss):
        raise AssertionError(f"{name}: the training loss is {loss.item()}")
    head_ids = {id(p) for p in model.head.parameters()}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    for part, params in (("head", list(model.head.parameters())), ("embed", body)):
        if not any(p.grad is not None and p.grad.abs().sum() > 0 for p in params):
            raise AssertionError(f"{name}: a training step gives no gradient to the {part} "
                                 f"parameters")


def _check_learns(factory: Callable, dataset: Dataset, name: str, options: dict) -> None:
    trainer = Trainer(dataset, factory, FAST_TRAINING, "cpu", options)
    fitted = [trainer.fit(dataset.x_pool, dataset.y_pool, seed=0).model for _ in range(2)]
    probs = [trainer.predict_proba(m, dataset.x_test) for m in fitted]
    if not np.isfinite(probs[0]).all():
        raise AssertionError(f"{name}: after training, predicted probabilities contain NaN "
                             f"or infinity")
    accuracy = float((probs[0].argmax(1) == dataset.y_test).mean())
    chance = 1 / dataset.num_classes
    if accuracy < chance + 0.25:
        raise AssertionError(f"{name}: test accuracy {accuracy:.2f} on well-separated toy "
                             f"classes (chance {chance:.2f}); the model does not learn")
    if not np.array_equal(probs[0], probs[1]):
        raise AssertionError(f"{name}: training twice with the same seed gives different "
                             f"models; avoid nondeterministic operations and global "
                             f"random state")
