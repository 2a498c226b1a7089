"""The ``albench`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from albench.plugins import KINDS, RegistrationError, UnknownNameError, get_plugins


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _parse_seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    seeds = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(v) for v in part.split("-", 1))
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            _fail(f"--seeds must look like 0,1,2 or 0-4, got {text!r}")
    if not seeds or min(seeds) < 0:
        _fail(f"--seeds must list non-negative integers, got {text!r}")
    return seeds


@click.group()
@click.version_option(package_name="albench")
def main() -> None:
    """albench: a plugin-based benchmark suite for deep active learning."""


@main.command()
@click.option("--all", "all_strategies", is_flag=True,
              help="Every installed strategy (or the suite's list).")
@click.option("-s", "--strategy", "strategies", multiple=True, help="A strategy to run (repeat).")
@click.option("--suite", default="quick", show_default=True,
              help="A built-in suite name or a path to a suite .toml file.")
@click.option("--seeds", help="Override the suite's seeds, e.g. 0,1,2 or 0-4.")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False), help="Results directory (SQLite store).")
@click.option("--force", is_flag=True, help="Recompute runs that are already complete.")
@click.option("--executor", default="local", show_default=True, help="Where runs execute.")
@click.option("--workers", type=int, help="Worker count for parallel executors.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option("--threads", type=click.IntRange(min=1),
              help="torch threads for in-process runs (1 is fastest for small models on a "
                   "busy CPU).")
@click.option("--query-timeout", type=click.FloatRange(min=0, min_open=True),
              help="Seconds a strategy may spend on one query before its run fails.")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Where datasets are found or downloaded (sets ALBENCH_DATA_DIR).")
@click.option("--leaderboard/--no-leaderboard", default=True, show_default=True,
              help="Regenerate the suite's leaderboard afterwards (needs albench.report).")
@click.option("--leaderboards", "leaderboards_dir", default="leaderboards", show_default=True,
              type=click.Path(file_okay=False), help="Where leaderboards are written.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(all_strategies, strategies, suite, seeds, results_dir, force, executor, workers,
        device, threads, data_dir, query_timeout, leaderboard, leaderboards_dir, quiet):
    """Run (or resume) a suite for the chosen strategies."""
    from albench.results import ResultStore, StoreWriteError
    from albench.runner import run_specs
    from albench.spec import SuiteError, load_suite

    if data_dir:  # an environment variable reaches worker processes too
        os.environ["ALBENCH_DATA_DIR"] = str(Path(data_dir).resolve())
    if threads:
        import torch

        torch.set_num_threads(threads)
    if not all_strategies and not strategies:
        _fail("choose strategies: --all, or -s NAME (see `albench list strategies`)")
    try:
        suite_obj = load_suite(suite)
    except SuiteError as exc:
        _fail(str(exc))
    plugins = get_plugins()
    if strategies:
        names = list(strategies)
    elif suite_obj.strategies == ["all"]:
        names = plugins.names("strategies")
    else:
        names = list(suite_obj.strategies)
    try:
        for kind, name in [("strategies", n) for n in names] + [
                (k, getattr(s, k[:-1])) for s in suite_obj.settings for k in ("datasets",
                                                                              "models")]:
            plugins.get(kind, name)
        options = {"workers": workers} if workers else {}
        executor_obj = plugins.get("executors", executor).factory(**options)
    except (UnknownNameError, TypeError) as exc:
        _fail(str(exc))
    specs = suite_obj.run_specs(names, _parse_seeds(seeds))
    store = ResultStore(results_dir)
    click.echo(f"suite {suite_obj.name} v{suite_obj.version}: {len(specs)} runs "
               f"({len(names)} strategies) -> {store.path}", err=True)
    try:
        summary = run_specs(specs, store, executor_obj, force=force, device=device,
                            progress=not quiet, query_timeout=query_timeout)
    except StoreWriteError as exc:
        _fail(str(exc))
    click.echo(f"{len(summary.completed)} completed, {len(summary.skipped)} already complete, "
               f"{len(summary.busy)} busy in another process, {len(summary.failed)} failed",
               err=True)
    if leaderboard:
        _write_leaderboard(store, suite_obj.name, Path(leaderboards_dir))
    if summary.failed:
        for run_id, error in summary.failed.items():
            click.echo(f"failed {run_id}: {error}", err=True)
        sys.exit(1)


def _write_leaderboard(store, suite_name: str, directory: Path) -> None:
    try:
        from albench.report import write_leaderboard
    except ImportError:
        return
    path = write_leaderboard(store, suite_name, directory)
    click.echo(f"leaderboard: {path}", err=True)


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json):
    """Installed plugins: distribution, version, hooks and what each registered."""
    plugins = get_plugins()
    infos = plugins.info()
    if as_json:
        click.echo(json.dumps({
            "plugins": [vars(info) for info in infos],
            "load_errors": [vars(err) for err in plugins.load_errors],
        }, indent=2))
        return
    builtin = [info for info in infos if info.builtin]
    others = [info for info in infos if not info.builtin]
    click.echo(f"built-in (albench {builtin[0].version if builtin else '?'}):")
    for info in builtin:
        _echo_plugin(info, info.name)
    click.echo("third-party:")
    for info in others:
        _echo_plugin(info, f"{info.name}  ({info.distribution} {info.version})")
    if not others:
        click.echo("  none installed (packages add plugins through the 'albench' "
                   "entry-point group; see `albench new-plugin`)")
    if plugins.load_errors:
        click.echo("failed to load:")
    for err in plugins.load_errors:
        click.echo(f"  {err.name}  ({err.distribution}): {err.error}")


def _echo_plugin(info, title: str) -> None:
    click.echo(f"  {title}")
    click.echo(f"    hooks: {', '.join(info.hooks) or '-'}")
    for kind, names in info.registered.items():
        click.echo(f"    {kind}: {', '.join(names)}")


@main.command("new-plugin")
@click.argument("name")
@click.option("--kind", default="strategy", show_default=True,
              type=click.Choice(["strategy", "dataset", "model"]),
              help="What the example plugin registers.")
@click.option("--dir", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Where to create albench-NAME/.")
def new_plugin_command(name, kind, directory):
    """Create albench-NAME/: a plugin package with a working example and its tests."""
    from albench.template import REGISTRIES, TemplateError, new_plugin

    item = get_plugins().registry[REGISTRIES[kind]].get(name)
    if item is not None:
        _fail(f"{kind} {name!r} is already registered by plugin {item.plugin!r}; "
              f"choose another name")
    try:
        path = new_plugin(name, kind, directory)
    except TemplateError as exc:
        _fail(str(exc))
    click.echo(f"created {path}\nnext: pip install -e '{path}[test]' && "
               f"python -m pytest {path}")


@main.command("list")
@click.argument("kind", required=False,
                type=click.Choice([*KINDS, "suites"]))
def list_command(kind):
    """Datasets, models, strategies, executors and suites that can be used."""
    from albench.spec import builtin_suites, load_suite

    plugins = get_plugins()
    for k in [kind] if kind else [*KINDS, "suites"]:
        click.echo(f"{k}:")
        if k == "suites":
            for name in builtin_suites():
                click.echo(f"  {name:24} {load_suite(name).description}")
            continue
        for name in sorted(plugins.registry[k]):
            item = plugins.registry[k][name]
            shown = name + "A+B" if name.endswith(":") else name
            click.echo(f"  {shown:24} {item.description}  [{item.plugin}]")


def _stored_suites(store) -> list[str]:
    return sorted({record.spec.suite for record in store.records()})


@main.command("leaderboard")
@click.option("--suite", "suites", multiple=True,
              help="Suite name as stored (repeat); default: every suite in the store.")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, exists=True), help="Results directory.")
@click.option("--out", "out_dir", default="leaderboards", show_default=True,
              type=click.Path(file_okay=False), help="Where the markdown and plots go.")
@click.option("--csv", "as_csv", is_flag=True, help="Also write <suite>.csv, one row per round.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw the PNG plots.")
def leaderboard_command(suites, results_dir, out_dir, as_csv, plots):
    """Write leaderboards/<suite>.md and its plots from the stored runs."""
    from albench.report import write_leaderboard
    from albench.results import RecordError, ResultStore

    store = ResultStore(results_dir)
    try:
        stored = _stored_suites(store)
        if not stored:
            _fail(f"no runs stored in {store.path}")
        missing = [s for s in suites if s not in stored]
        if missing:
            _fail(f"no runs of suite {', '.join(map(repr, missing))} in {store.path}; "
                  f"stored suites: {', '.join(stored)}")
        for suite in suites or stored:
            path = write_leaderboard(store, suite, Path(out_dir), csv=as_csv, plots=plots)
            click.echo(f"leaderboard: {path}")
    except RecordError as exc:
        _fail(str(exc))


@main.command("merge")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False), help="The results directory to merge into.")
def merge_command(sources, results_dir):
    """Copy runs from other results stores (directories or .sqlite files) into this one.

    For runs computed on other machines: new runs are added, runs that continue a stored
    one replace it, and a run whose rounds differ from the stored ones is reported and
    left as stored.
    """
    from albench.results import RecordError, ResultStore, StoreWriteError, read_store

    store = ResultStore(results_dir)
    for source in sources:
        try:
            report = store.merge(read_store(source))
        except (RecordError, StoreWriteError, FileNotFoundError) as exc:
            _fail(str(exc))
        click.echo(f"{source}: {len(report.added)} added, {len(report.extended)} extended, "
                   f"{len(report.unchanged)} unchanged, {len(report.conflicts)} conflicting "
                   f"(kept as stored) -> {store.path}")
        for run_id in report.conflicts:
            click.echo(f"  conflict: run {run_id} differs from the stored run", err=True)


@main.command("compare")
@click.argument("strategies", nargs=-1, required=True)
@click.option("--suite", required=True, help="Suite name as stored.")
@click.option("--setting", help="The setting, when the suite has several.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The seed of the stored run whose model is rebuilt.")
@click.option("--round", "round_", type=click.IntRange(min=0), required=True,
              help="The round whose model is rebuilt and whose pool is ranked.")
@click.option("--model-of", help="Whose stored run to rebuild (default: the first strategy).")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, exists=True), help="Results directory.")
@click.option("--out", "out_dir", default="leaderboards/comparisons", show_default=True,
              type=click.Path(file_okay=False), help="Where the PNG and JSON go.")
@click.option("--pair-with", "pair_with", multiple=True,
              help="With more than two strategies, also write the first against this one "
                   "(repeat), from the same rankings.")
def compare_command(strategies, suite, setting, seed, round_, model_of, results_dir, out_dir,
                    pair_with):
    """Rank every unlabelled example by each strategy on one rebuilt model.

    Rebuilds round ROUND's model of a stored run on the CPU (refusing if it does not
    reproduce the stored test accuracy), ranks the pool with each strategy and writes, for
    two strategies, a scatter of their normalised ranks with Spearman's rho, Kendall's tau
    and the overlap of their top-B picks; for more, the matrix of rho.
    """
    from albench.compare import CompareError, compare, write
    from albench.report import slug
    from albench.results import RecordError, ResultStore

    if len(strategies) < 2:
        _fail("compare needs at least two strategies")
    unknown = [name for name in pair_with if name not in strategies[1:]]
    if unknown:
        _fail(f"--pair-with {', '.join(unknown)}: name strategies compared after the first")
    try:
        comparison = compare(ResultStore(results_dir), suite, list(strategies), seed, round_,
                             get_plugins(), setting=setting, model_of=model_of,
                             progress=click.echo)
    except (CompareError, RecordError, UnknownNameError, TypeError) as exc:
        _fail(str(exc))
    for pair in comparison.summary()["pairs"]:
        rho, tau = ("undefined" if v is None else f"{v:.3f}"
                    for v in (pair["spearman_rho"], pair["kendall_tau"]))
        click.echo(f"{pair['a']} vs {pair['b']}: Spearman rho {rho}, Kendall tau {tau}, "
                   f"top-{pair['budget']} overlap {pair['top_b_overlap']}")
    ranked = [r.strategy for r in comparison.rankings]
    outputs = [comparison, *(comparison.pair(strategies[0], name) for name in pair_with
                             if {strategies[0], name} <= set(ranked))]
    for part in outputs:
        what = "matrix" if part.is_matrix else "-vs-".join(part.requested)
        stem = "_".join(slug(word) for word in (suite, *([setting] if setting else []),
                                                f"seed{seed}", f"round{round_}", what))
        for path in write(part, out_dir, stem):
            click.echo(f"wrote {path}")


def cli_entry() -> None:
    try:
        main()
    except RegistrationError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    cli_entry()
