"""The Python entry point: ``albench.run(...)`` runs a suite and returns its per-round table."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from albench import hookimpl
from albench.errors import AlbenchError


class BenchmarkRunError(AlbenchError, RuntimeError):
    """Some runs failed; their finished rounds are stored and a second call resumes them."""


def run(suite: str | Path = "quick", strategies: Iterable[Any] = ("random",),
        seeds: Iterable[int] | None = None, results: str | Path = "results", *,
        strategy_options: dict[str, dict[str, Any]] | None = None, device: str = "auto",
        threads: int | None = None, force: bool = False, progress: bool = True):
    """Run (or resume) ``strategies`` on ``suite`` and return the per-round table.

    ``strategies`` holds registered names and strategies defined inline: objects with
    ``select(context, budget)``, or classes of them (built afresh for each run, with their
    ``strategy_options``); the ``name`` attribute, else the class name in lower case, names
    it in the store. ``strategy_options`` are set over the suite's. Everything runs
    in this process; the runs are stored in ``results`` like ``albench run``'s, so finished
    runs are skipped unless ``force``. Returns a pandas DataFrame with one row per round
    (setting, strategy, seed, run_id, round, labeled, accuracy, timings, ...).
    """
    from albench.plugins import Plugins, get_plugins

    inline = {}
    names = []
    for item in strategies:
        if isinstance(item, str):
            names.append(item)
            continue
        cls = item if isinstance(item, type) else type(item)
        name = getattr(item, "name", None) or cls.__name__.lower()
        if not callable(getattr(item, "select", None)):
            raise TypeError(f"strategy {item!r} has no select(context, budget) method")
        if name in get_plugins().registry["strategies"] or name in inline:
            raise ValueError(f"an inline strategy is named {name!r}, a name already taken; "
                             f"give it another `name` attribute")
        inline[name] = item
        names.append(name)
    plugins = (Plugins(extra_plugins=(("inline-strategies", _InlineStrategies(inline)),))
               if inline else get_plugins())
    with _plugins_in_use(plugins):
        return _run(plugins, suite, names, seeds, results, strategy_options or {}, device,
                    threads, force, progress)


def _run(plugins, suite, names, seeds, results, strategy_options, device, threads, force,
         progress):
    from albench.preflight import check_datasets, check_strategies, with_options
    from albench.report.aggregate import rounds_table, strategy_labels
    from albench.results import ResultStore
    from albench.runner import run_specs
    from albench.spec import load_suite

    suite_obj = load_suite(suite)
    names = [plugins.get("strategies", name).name for name in names]
    overrides = [(name, key, value) for name, values in strategy_options.items()
                 for key, value in values.items()]
    suite_obj = suite_obj.model_copy(update={"strategy_options": with_options(
        suite_obj.strategy_options, overrides, names, plugins)})
    check_strategies(plugins, suite_obj.strategy_options, names)
    specs = suite_obj.run_specs(names, None if seeds is None else list(seeds))
    check_datasets(specs, plugins)
    store = ResultStore(results)
    summary = run_specs(specs, store, plugins.get("executors", "inline").factory(),
                        force=force, device=device, progress=progress,
                        threads=threads or suite_obj.threads)
    if summary.failed:
        failed = "; ".join(f"{run_id}: {error}" for run_id, error in summary.failed.items())
        raise BenchmarkRunError(f"{len(summary.failed)} run(s) failed ({failed}); their "
                                f"finished rounds are stored in {store.path}, and calling "
                                f"albench.run again resumes them")
    records = [record for spec in specs if (record := store.get(spec.run_id)) is not None]
    return rounds_table(records, strategy_labels(records))


class _InlineStrategies:
    """Registers the strategies given to :func:`run`: a class is its own factory, an object's
    factory returns it."""

    def __init__(self, strategies: dict[str, Any]):
        self.strategies = strategies

    @hookimpl
    def albench_register_strategies(self, register):
        for name, strategy in self.strategies.items():
            factory = strategy if isinstance(strategy, type) else _returns(strategy)
            register(name, factory, "defined inline (albench.run)")


def _returns(strategy):
    def factory():
        return strategy

    return factory


@contextmanager
def _plugins_in_use(plugins):
    """Make ``plugins`` the process-wide set while the runs use it."""
    import albench.plugins

    previous, albench.plugins._default = albench.plugins._default, plugins
    try:
        yield
    finally:
        albench.plugins._default = previous
