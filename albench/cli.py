"""The ``albench`` command line."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from pathlib import Path

import click

from albench.errors import AlbenchError
from albench.plugins import (
    DISABLE_HINT,
    KINDS,
    FactoryImportError,
    UnknownNameError,
    get_plugins,
)


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _parse_seeds(text: str | None) -> list[int] | None:
    from albench.spec import MAX_SEED, MAX_SEEDS

    if text is None:
        return None
    seeds = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(v) for v in part.split("-", 1))
                if len(range(low, high + 1)) > MAX_SEEDS:
                    _fail(f"--seeds {part} lists more than {MAX_SEEDS} seeds")
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            _fail(f"--seeds must look like 0,1,2 or 0-4, got {text!r}")
    if not seeds or min(seeds) < 0 or max(seeds) > MAX_SEED:
        _fail(f"--seeds must list integers in 0..{MAX_SEED}, got {text!r}")
    if len(seeds) > MAX_SEEDS:
        _fail(f"--seeds lists {len(seeds)} seeds; at most {MAX_SEEDS} at once")
    return seeds


def _finite(ctx, param, value):
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number of seconds, got {value}")
    return value


def _gpus_per_run(ctx, param, value):
    if value is not None and not (math.isfinite(value) and value > 0
                                  and (value <= 1 or value == int(value))):
        raise click.BadParameter(f"must be a fraction in (0, 1] or a whole number of GPUs, "
                                 f"got {value:g}")
    return value


def _device(ctx, param, value):
    if value == "auto":
        return value
    import torch

    try:
        device = torch.device(value)
    except RuntimeError:
        raise click.BadParameter(f"must be auto, cpu, cuda or cuda:N, got {value!r}") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise click.BadParameter(f"{value}: torch sees no CUDA GPU on this machine; use "
                                     f"--device cpu (or auto)")
        if device.index is not None and device.index >= count:
            raise click.BadParameter(f"{value}: torch sees {count} GPU(s), cuda:0 to "
                                     f"cuda:{count - 1}")
    return value


def _data_dir(ctx, param, value):
    if value is not None and not Path(value).is_dir():
        raise click.BadParameter(f"{value} is not a directory; create it (mkdir -p {value}) "
                                 f"to download datasets into it, or name the folder that holds "
                                 f"them")
    return value


class _FullHelpGroup(click.Group):
    """A group whose command list shows each command's whole summary, wrapped, not cut."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, command.get_short_help_str(limit=10_000))
                for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_FullHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="albench")
def main() -> None:
    """albench: a plugin-based benchmark suite for deep active learning."""


@main.command()
@click.option("--all", "all_strategies", is_flag=True,
              help="Every installed strategy (or the suite's list).")
@click.option("-s", "--strategy", "strategies", multiple=True, help="A strategy to run (repeat).")
@click.option("--suite", default="quick", show_default=True,
              help="A built-in suite name or a path to a suite .toml file.")
@click.option("-o", "--option", "strategy_options", multiple=True, metavar="STRATEGY.KEY=VALUE",
              help="A strategy option over the suite's (repeat); VALUE is read as TOML, "
                   "e.g. -o dal.sub_batches=20. Runs with other options get their own ids.")
@click.option("--seeds", help="Override the suite's seeds, e.g. 0,1,2 or 0-4.")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False), help="Results directory (SQLite store).")
@click.option("--force", is_flag=True, help="Recompute runs that are already complete.")
@click.option("--executor", default="local", show_default=True, help="Where runs execute.")
@click.option("--workers", type=click.IntRange(min=1), help="Worker count for parallel "
              "executors.")
@click.option("--device", default="auto", show_default=True, callback=_device,
              help="auto, cpu or cuda[:N].")
@click.option("--gpus-per-run", type=float, callback=_gpus_per_run,
              help="The share of a GPU each run asks for, e.g. 0.1 for ten runs per GPU "
                   "(executors that schedule GPUs, such as ray).")
@click.option("--threads", type=click.IntRange(1, 1024),
              help="torch threads per run (default: the suite's, else the machine's). "
                   "Results depend on it: a run is never resumed under another count.")
@click.option("--deterministic/--nondeterministic", default=True, show_default=True,
              help="Deterministic CUDA kernels (cuBLAS workspace, cuDNN, torch's "
                   "deterministic algorithms); recorded in every round.")
@click.option("--query-timeout", type=click.FloatRange(min=0, min_open=True), callback=_finite,
              help="Seconds a strategy may spend on one query before its run fails.")
@click.option("--data-dir", type=click.Path(file_okay=False), callback=_data_dir,
              help="An existing folder where datasets are found or downloaded (sets "
                   "ALBENCH_DATA_DIR).")
@click.option("--leaderboard/--no-leaderboard", default=True, show_default=True,
              help="Regenerate the suite's leaderboard afterwards (needs albench.report).")
@click.option("--leaderboards", "leaderboards_dir", default="leaderboards", show_default=True,
              type=click.Path(file_okay=False), help="Where leaderboards are written.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(all_strategies, strategies, strategy_options, suite, seeds, results_dir, force,
        executor, workers, device, gpus_per_run, threads, deterministic, data_dir,
        query_timeout, leaderboard, leaderboards_dir, quiet):
    """Run (or resume) a suite for the chosen strategies.

    Strategy options, names, the device, the data folder and every dataset are checked
    before the first run; when a check fails nothing is written.
    """
    from albench.executors import ExecutorError
    from albench.results import ResultStore, StoreError
    from albench.runner import run_specs

    if data_dir:  # an environment variable reaches worker processes too
        os.environ["ALBENCH_DATA_DIR"] = str(Path(data_dir).resolve())
    if not all_strategies and not strategies:
        _fail("choose strategies: --all, or -s NAME (see `albench list strategies`)")
    plugins = get_plugins()
    for err in plugins.load_errors:
        click.echo(f"warning: plugin {err.name} ({err.distribution}) failed to load and is "
                   f"skipped, with its strategies: {err.error}", err=True)
    if plugins.load_errors:
        click.echo(f"  {DISABLE_HINT}", err=True)
    suite_obj, names, specs, executor_obj = _checked_job(
        plugins, suite, strategies, strategy_options, seeds, executor, workers, gpus_per_run)
    try:
        store = ResultStore(results_dir)
    except StoreError as exc:
        _fail(str(exc))
    threads = threads or suite_obj.threads
    click.echo(f"suite {suite_obj.name} v{suite_obj.version}: {len(specs)} runs "
               f"({len(names)} strategies) -> {store.path}"
               + (f", {threads} torch thread(s) per run" if threads else ""), err=True)
    signal.signal(signal.SIGTERM, _interrupt)  # so that claims are released
    try:
        summary = run_specs(specs, store, executor_obj, force=force, device=device,
                            progress=not quiet, query_timeout=query_timeout, threads=threads,
                            deterministic=deterministic,
                            lines=not quiet and not sys.stderr.isatty())
    except (StoreError, ExecutorError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo(f"interrupted: {_kept(store, specs)}\nresume with: {_resume_command()}",
                   err=True)
        sys.exit(130)
    click.echo(f"{len(summary.completed)} completed, {len(summary.skipped)} already complete, "
               f"{len(summary.busy)} busy in another process, {len(summary.failed)} failed",
               err=True)
    if leaderboard and (summary.completed or summary.skipped):
        _write_leaderboard(store, suite_obj.name, Path(leaderboards_dir))
    elif leaderboard:
        click.echo("no run completed, so no leaderboard was written", err=True)
    if summary.failed:
        for run_id, error in summary.failed.items():
            click.echo(f"failed {run_id}: {error}", err=True)
        sys.exit(1)


def _checked_job(plugins, suite, strategies, strategy_options, seeds, executor, workers,
                 gpus_per_run):
    """The suite with registered spellings and options, the strategy names, the run specs
    and the executor, each checked before anything is written (exits on a problem)."""
    from albench.preflight import (
        PreflightError,
        check_datasets,
        check_strategies,
        parse_option,
        with_options,
    )
    from albench.spec import SuiteError, load_suite

    try:
        suite_obj = load_suite(suite)
    except SuiteError as exc:
        _fail(str(exc))
    names = list(strategies) or suite_obj.strategy_names(plugins.names("strategies"))
    try:
        names = [plugins.get("strategies", name).name for name in names]
        suite_obj = suite_obj.model_copy(update={
            "settings": [setting.model_copy(update={
                "dataset": plugins.get("datasets", setting.dataset).name,
                "model": plugins.get("models", setting.model).name})
                for setting in suite_obj.settings],
            "strategy_options": with_options(suite_obj.strategy_options,
                                             [parse_option(text) for text in strategy_options],
                                             names, plugins)})
        options = {"workers": workers} if workers else {}
        if gpus_per_run is not None:
            options["gpus_per_run"] = gpus_per_run
        executor_obj = plugins.get("executors", executor).factory(**options)
        check_strategies(plugins, suite_obj.strategy_options, names)
        specs = suite_obj.run_specs(names, _parse_seeds(seeds))
        check_datasets(specs, plugins)
    except TypeError as exc:
        if gpus_per_run is not None and "gpus_per_run" in str(exc):
            _fail(f"--gpus-per-run applies to executors that schedule GPUs (such as ray); "
                  f"executor {executor!r} does not accept it: leave it out, or use "
                  f"--executor ray")
        _fail(str(exc))
    except (UnknownNameError, FactoryImportError, PreflightError) as exc:
        _fail(str(exc))
    return suite_obj, names, specs, executor_obj


def _kept(store, specs) -> str:
    """What the store holds of ``specs``: complete runs, and rounds of unfinished ones."""
    records = [r for spec in specs if (r := store.get(spec.run_id)) is not None]
    complete = sum(r.status == "complete" for r in records)
    partial = [r for r in records if r.status != "complete" and r.rounds]
    return (f"{complete} of {len(specs)} runs complete and {sum(len(r.rounds) for r in partial)}"
            f" rounds of {len(partial)} unfinished run(s) are kept in {store.path}")


def _resume_command() -> str:
    """This command line as typed, less ``--force`` (which would recompute the kept runs)."""
    import shlex

    return shlex.join(["albench", *(a for a in sys.argv[1:] if a != "--force")])


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _write_leaderboard(store, suite_name: str, directory: Path) -> None:
    try:
        from albench.report import write_leaderboard
    except ImportError:
        return
    path = write_leaderboard(store, suite_name, directory)
    click.echo(f"leaderboard: {path}", err=True)
    _warn_invalid(store)


def _warn_invalid(store) -> None:
    """Report the invalid records that were left out of a leaderboard."""
    for run_id, error in getattr(store, "invalid", {}).items():
        click.echo(f"warning: left out invalid record {run_id}: {error}; `albench run "
                   f"--force` recomputes it", err=True)


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--check", is_flag=True,
              help="Also import every factory registered as 'module:attr' (slower: loads "
                   "torch and the like) and report those that fail; exit 1 if any does.")
def plugins_command(as_json, check):
    """Installed plugins: distribution, version, hooks and what each registered."""
    plugins = get_plugins()
    infos = plugins.info()
    broken = plugins.check_factories() if check else []
    if as_json:
        document = {
            "plugins": [vars(info) for info in infos],
            "load_errors": [vars(err) for err in plugins.load_errors],
        }
        if check:
            document["factory_errors"] = [
                {"kind": item.kind, "name": item.name, "plugin": item.plugin,
                 "factory": item.target, "error": str(exc)} for item, exc in broken]
        click.echo(json.dumps(document, indent=2))
        if broken:
            sys.exit(1)
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
        click.echo("failed to load (skipped):")
    for err in plugins.load_errors:
        click.echo(f"  {_printable(err.name)}  ({err.distribution}): {_printable(err.error)}")
    if plugins.load_errors:
        click.echo(f"  {DISABLE_HINT}")
    if check:
        click.echo("factories that cannot be imported:" if broken
                   else "every factory registered as 'module:attr' imports")
    for _, exc in broken:
        click.echo(f"  {_printable(str(exc))}")
    if broken:
        sys.exit(1)


def _echo_plugin(info, title: str) -> None:
    click.echo(f"  {_printable(title)}")
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
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: {kind: [{name, description, plugin}]}.")
def list_command(kind, as_json):
    """Datasets, models, strategies, executors and suites that can be used."""
    from albench.spec import builtin_suites, load_suite

    plugins = get_plugins()
    kinds = [kind] if kind else [*KINDS, "suites"]
    if as_json:
        click.echo(json.dumps({k: [{"name": name, "description": load_suite(name).description,
                                    "plugin": "albench"} for name in builtin_suites()]
                               if k == "suites" else
                               [{"name": item.name, "description": item.description,
                                 "plugin": item.plugin}
                                for _, item in sorted(plugins.registry[k].items())]
                               for k in kinds}, indent=2))
        return
    for k in kinds:
        click.echo(f"{k}:")
        if k == "suites":
            for name in builtin_suites():
                click.echo(f"  {name:24} {load_suite(name).description}")
            continue
        for name in sorted(plugins.registry[k]):
            item = plugins.registry[k][name]
            shown = name + "A+B" if name.endswith(":") else name
            click.echo(f"  {shown:24} {_printable(item.description)}  "
                       f"[{_printable(item.plugin)}]")


def _printable(text: str) -> str:
    """``text`` as is when printable, else escaped (no newlines or terminal codes)."""
    return text if text.isprintable() else repr(text)[1:-1]


def _stored_suites(store) -> list[str]:
    return sorted({record.spec.suite for record in store.records()})


def _record_source(results_dir: str):
    """A results directory's SQLite store, or a folder of JSON record files (read only:
    nothing is created in it)."""
    from albench.record_files import RecordFolder
    from albench.results import DB_NAME, ResultStore

    path = Path(results_dir)
    if not (path / DB_NAME).exists() and RecordFolder(path).files():
        return RecordFolder(path)
    return ResultStore(path)


@main.command("leaderboard")
@click.option("--suite", "suites", multiple=True,
              help="Suite name as stored (repeat); default: every suite in the store.")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, exists=True),
              help="Results directory, or a folder of JSON record files.")
@click.option("--out", "out_dir", default="leaderboards", show_default=True,
              type=click.Path(file_okay=False), help="Where the markdown and plots go.")
@click.option("--csv", "as_csv", is_flag=True, help="Also write <suite>.csv, one row per round.")
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw the PNG plots.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the aggregates (per setting and strategy) as one JSON document "
                   "instead of writing files.")
@click.option("--findings", is_flag=True,
              help="Also write <out>/README.md: the DAL study's findings checked against the "
                   "records of the chosen suites (and their verdicts as <out>/findings.json).")
@click.option("--baseline", type=click.Path(dir_okay=False, exists=True),
              help="With --findings: an earlier findings.json; the report lists the verdicts "
                   "that moved since.")
def leaderboard_command(suites, results_dir, out_dir, as_csv, plots, as_json, findings,
                        baseline):
    """Write leaderboards/<suite>.md and its plots from the stored runs."""
    from albench.report import aggregates, load_board, write_leaderboard
    from albench.results import RecordError, StoreError

    try:
        store = _record_source(results_dir)
        where = getattr(store, "path", results_dir)
        stored = _stored_suites(store)
        if not stored:
            _fail(f"no runs stored in {where}")
        missing = [s for s in suites if s not in stored]
        if missing:
            from albench.names import did_you_mean

            _fail(f"no runs of suite {', '.join(map(repr, missing))} in {where}"
                  f"{did_you_mean(missing[0], stored)}; stored suites: {', '.join(stored)}")
        if as_json:
            document = {"suites": [aggregates(load_board(store, suite))
                                   for suite in suites or stored]}
            click.echo(json.dumps(document, indent=1, sort_keys=True, allow_nan=False))
            return
        for suite in suites or stored:
            path = write_leaderboard(store, suite, Path(out_dir), csv=as_csv, plots=plots)
            click.echo(f"leaderboard: {path}")
        if findings:
            _write_findings(store, suites or stored, Path(out_dir), baseline)
    except (RecordError, StoreError) as exc:
        _fail(str(exc))
    _warn_invalid(store)


def _write_findings(store, suites, out_dir: Path, baseline: str | None) -> None:
    from albench import __version__
    from albench.report import load_board
    from albench.report.findings import (
        check_findings,
        load_comparisons,
        read_baseline,
        render_findings,
        verdicts_document,
    )

    try:
        before = None if baseline is None else read_baseline(Path(baseline))
    except ValueError as exc:
        _fail(str(exc))
    boards = {s: load_board(store, s) for s in suites}
    comparisons = load_comparisons(out_dir / "comparisons")
    report = out_dir / "README.md"
    report.write_text(render_findings(boards, comparisons, before), encoding="utf-8")
    found = check_findings(boards, comparisons)
    description = (f"The verdicts of albench {__version__} on the records of "
                   f"{', '.join(suites)}.")
    (out_dir / "findings.json").write_text(
        json.dumps(verdicts_document(found, description), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8")
    click.echo(f"findings: {report}")


@main.command("merge")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False), help="The results directory to merge into.")
def merge_command(sources, results_dir):
    """Copy runs from other results stores (directories, .sqlite files or folders of JSON
    record files) into this one.

    For runs computed on other machines: new runs are added, runs that continue a stored
    one replace it, and a run whose rounds differ from the stored ones is reported and
    left as stored. Shared round-0 models this store lacks are copied (stored ones are
    kept), so runs started later here start from the same models. Every source is read and
    validated before anything is written, and the runs are written in one transaction.
    """
    from albench.record_files import read_store
    from albench.results import RecordError, ResultStore, StoreWriteError, read_round_zeros

    records, round_zeros = [], []
    for source in sources:
        try:
            records += list(read_store(source))
            round_zeros += list(read_round_zeros(source))
        except (RecordError, FileNotFoundError) as exc:
            _fail(f"{exc}; nothing was merged")
    store = ResultStore(results_dir)
    try:
        report = store.merge(records)
        added_zeros = store.merge_round_zeros(round_zeros)
    except (RecordError, StoreWriteError) as exc:
        _fail(str(exc))
    click.echo(f"{', '.join(sources)}: {len(report.added)} added, {len(report.extended)} "
               f"extended, {len(report.unchanged)} unchanged, {len(report.conflicts)} "
               f"conflicting (kept as stored), {len(added_zeros)} shared round-0 models added "
               f"-> {store.path}")
    for run_id in report.conflicts:
        click.echo(f"  conflict: run {run_id} differs from the stored run", err=True)


@main.command("export")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, exists=True), help="Results directory.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for <suite>/<run_id>.json, e.g. leaderboards/results.")
@click.option("--suite", "suites", multiple=True, help="Only these suites (repeat).")
def export_command(results_dir, out_dir, suites):
    """Write every stored run as a JSON text file, to commit or send for a pull request."""
    from albench.record_files import write_record_files
    from albench.results import RecordError, ResultStore

    store = ResultStore(results_dir)
    try:
        records = [r for r in store.records() if not suites or r.spec.suite in suites]
    except RecordError as exc:
        _fail(str(exc))
    if not records:
        _fail(f"no runs{' of ' + ', '.join(suites) if suites else ''} in {store.path}")
    paths = write_record_files(records, out_dir)
    click.echo(f"{len(paths)} run record(s) -> {out_dir}")


@main.command("verify")
@click.option("--results", "results_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, exists=True), help="Results directory.")
@click.option("--suite", help="Only this suite's runs (as stored).")
@click.option("-s", "--strategy", "strategies", multiple=True,
              help="Only this strategy's runs (repeat).")
@click.option("--sample", default=2, show_default=True, type=click.IntRange(min=0),
              help="Rounds recomputed per run, chosen at random (0: every round).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for choosing the rounds.")
@click.option("--threads", type=click.IntRange(1, 1024),
              help="torch threads (default: the count each run records it was computed with).")
def verify_command(results_dir, suite, strategies, sample, seed, threads):
    """Recompute sampled rounds of stored runs on the CPU; report any that differ.

    Catches hand-edited and fabricated records. Runs are reproducible on a CPU at a fixed
    torch thread count: each is recomputed with the count it records.
    """
    import numpy as np

    from albench.results import RecordError, StoreError
    from albench.verify import sample_rounds, verify_record

    try:
        store = _record_source(results_dir)
        records = [record for record in store.records(suite)
                   if not strategies or record.spec.strategy in strategies]
    except (StoreError, RecordError) as exc:
        _fail(str(exc))
    if strategies and not records:
        _fail(f"no stored run of {', '.join(strategies)}"
              + (f" in suite {suite}" if suite else "") + f" in {results_dir}")
    rng = np.random.default_rng(seed)
    plugins, failed = get_plugins(), len(store.invalid)
    for run_id, error in store.invalid.items():
        click.echo(f"INVALID {run_id}: {error}")
    for record in records:
        verdict = verify_record(record, sample_rounds(record, sample, rng), plugins, threads)
        label = f"{record.run_id} ({record.spec.label})"
        if verdict.ok:
            click.echo(f"ok {label}: rounds {verdict.rounds} match")
            continue
        failed += 1
        for problem in verdict.problems:
            click.echo(f"DIFFERS {label}: {problem}")
    click.echo(f"{len(records) + len(store.invalid) - failed} verified, {failed} differ or "
               f"are invalid", err=True)
    if failed:
        sys.exit(1)


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
    from albench.results import RecordError

    if len(strategies) < 2:
        _fail("compare needs at least two strategies")
    plugins = get_plugins()
    try:  # the registered spellings, which stored runs use
        strategies = [plugins.get("strategies", name).name for name in strategies]
        model_of = model_of and plugins.get("strategies", model_of).name
    except UnknownNameError as exc:
        _fail(str(exc))
    folded = {name.casefold().replace("_", "-"): name for name in strategies}
    pair_with = [folded.get(name.casefold().replace("_", "-"), name) for name in pair_with]
    unknown = [name for name in pair_with if name not in strategies[1:]]
    if unknown:
        _fail(f"--pair-with {', '.join(unknown)}: name strategies compared after the first")
    try:
        comparison = compare(_record_source(results_dir), suite, list(strategies), seed, round_,
                             plugins, setting=setting, model_of=model_of,
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
    except AlbenchError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    cli_entry()
