"""Strategies that end their process or hang: under the default executor each costs only its
own run, and `albench run` still ends with its summary and a failing exit status."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from pydantic import BaseModel, model_serializer

from albench.results import ResultStore

HOSTILE = """
    import ctypes
    import os
    import signal
    import sys
    import time

    from albench import hookimpl


    def _random(context, budget):
        return context.rng.choice(context.unlabeled_idx, budget, replace=False)


    class Exits:
        def select(self, context, budget):
            sys.exit(3)


    class HardExit:
        def select(self, context, budget):
            os._exit(0)


    class Segfaults:
        def select(self, context, budget):
            ctypes.string_at(0)


    class GeneratorExits:
        def select(self, context, budget):
            raise GeneratorExit


    class IgnoresAlarm:
        def select(self, context, budget):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                time.sleep(0.05)


    class SwallowsTimeout:
        def select(self, context, budget):
            while True:
                try:
                    time.sleep(0.05)
                except BaseException:
                    pass


    class Fine:
        def select(self, context, budget):
            return _random(context, budget)


    @hookimpl
    def albench_register_strategies(register):
        for name, cls in [("exits", Exits), ("hard-exit", HardExit), ("segfaults", Segfaults),
                          ("generator-exit", GeneratorExits), ("ignores-alarm", IgnoresAlarm),
                          ("swallows-timeout", SwallowsTimeout), ("fine", Fine)]:
            register(name, cls)
"""

EXPECTED = {
    "exits": "raised SystemExit in round 0: 3",
    "hard-exit": "the process computing the run (strategy 'hard-exit') exited with code 0 "
                 "during its query in round 0",
    "segfaults": "the process computing the run (strategy 'segfaults') killed by SIGSEGV "
                 "during its query in round 0",
    "generator-exit": "raised GeneratorExit in round 0",
    "ignores-alarm": "strategy 'ignores-alarm' ran past its time limit of 1 s in round 0; "
                     "its run's process was killed",
    "swallows-timeout": "strategy 'swallows-timeout' ran past its time limit of 1 s in round "
                        "0; its run's process was killed",
}


def install_plugin(root, name, source):
    """A fake installed distribution ``albench-NAME`` whose plugin module holds ``source``."""
    module = f"albench_test_{name.replace('-', '_')}"
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"albench_{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: albench-{name}\n"
                                   f"Version: 1.0\n")
    (info / "entry_points.txt").write_text(f"[albench]\n{name} = {module}\n")


def albench(*args, root, timeout=300, **env):
    """Run the CLI in a fresh interpreter that sees the plugins installed under ``root``."""
    environment = {**os.environ, **env,
                   "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    command = "from albench.cli import cli_entry; cli_entry()"
    return subprocess.run([sys.executable, "-c", command, *args], capture_output=True, check=False,
                          text=True, timeout=timeout, env=environment)


@pytest.mark.slow
def test_hostile_strategies_cost_only_their_own_runs(tiny_suite, tmp_path):
    install_plugin(tmp_path, "hostile", HOSTILE)
    strategies = [*EXPECTED, "fine"]
    result = albench("run", *[a for s in strategies for a in ("-s", s)], "--suite",
                     str(tiny_suite), "--seeds", "0", "--results", str(tmp_path / "results"),
                     "--no-leaderboard", "--quiet", "--device", "cpu", "--threads", "1",
                     "--query-timeout", "1", root=tmp_path, ALBENCH_LOAD_PLUGINS="hostile")
    assert result.returncode == 1, result.stderr
    assert "1 completed, 0 already complete, 0 busy in another process, 6 failed" \
        in result.stderr
    records = {r.spec.strategy: r for r in ResultStore(tmp_path / "results").records()}
    assert records["fine"].finished
    for strategy, message in EXPECTED.items():
        assert records[strategy].status == "failed"
        assert message in records[strategy].error, (strategy, records[strategy].error)


@pytest.mark.slow
def test_sigterm_releases_claims_and_says_how_to_resume(tiny_suite, tmp_path):
    results = tmp_path / "results"
    environment = {**os.environ, "ALBENCH_DISABLE_PLUGINS": ""}
    command = "from albench.cli import cli_entry; cli_entry()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, "run", "-s", "random", "--suite", str(tiny_suite),
         "--results", str(results), "--no-leaderboard", "--quiet", "--device", "cpu",
         "--threads", "1"], stderr=subprocess.PIPE, text=True, env=environment)
    deadline = time.time() + 240
    while time.time() < deadline and not _claims(results):
        time.sleep(0.1)
    assert _claims(results), "the run never claimed anything"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted: 0 of 2 runs complete" in stderr
    assert f"resume with: albench run -s random --suite {tiny_suite}" in stderr
    assert _claims(results) == []


def _claims(results):
    if not (results / "albench.sqlite").exists():
        return []
    try:
        with sqlite3.connect(results / "albench.sqlite") as db:
            return db.execute("SELECT run_id FROM claims").fetchall()
    except sqlite3.OperationalError:  # the tables are being created
        return []


class InterruptedWhileSerialising(BaseModel):
    @model_serializer
    def _serialise(self):
        raise KeyboardInterrupt  # as the SIGTERM handler does, here inside pydantic's serialiser


@pytest.mark.parametrize("where", ["driver", "run"])
def test_an_interrupt_that_pydantic_wraps_still_interrupts(where, tiny_suite, tmp_path,
                                                            monkeypatch):
    """pydantic turns a KeyboardInterrupt raised in its serialisers into its own error; the
    run must still stop as interrupted (claims released, nothing recorded as failed)."""
    from albench.executors import LocalExecutor
    from albench.runner import run_specs
    from albench.spec import load_suite

    def interrupted(*args):
        return InterruptedWhileSerialising().model_dump()

    store = ResultStore(tmp_path / "results")
    executor = LocalExecutor()
    if where == "driver":
        monkeypatch.setattr(executor, "execute", interrupted)
    else:  # inside the run, as its record is made
        monkeypatch.setattr("albench.loop.new_record", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_specs(load_suite(tiny_suite).run_specs(["random"], seeds=[0]), store, executor,
                  device="cpu", progress=False)
    assert _claims(tmp_path / "results") == []
    assert all(record.status != "failed" for record in store.records())
