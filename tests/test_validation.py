"""Hostile suites, CLI values and stored records: each is refused with a clear error."""

import json
import os
import socket
import sqlite3

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import albench.plugins
from albench import hookimpl
from albench.cli import main
from albench.executors import LocalExecutor
from albench.loop import SelectionError, validate_selection
from albench.plugins import Plugins
from albench.results import RecordError, ResultStore
from albench.runner import run_specs
from albench.spec import SuiteError, load_suite


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("epochs = 5", "epochs = 5\nlr = inf"), "training.lr"),
    (lambda t: t.replace("seeds = [0, 1]", f"seeds = [0, {2**64 - 1}]"), "seeds"),
    (lambda t: t.replace("rounds = 3", "rounds = 1_000_000_000_000"), "rounds"),
    (lambda t: t.replace("rounds = 3", "rounds = true"), "rounds"),
    (lambda t: t.replace("rounds = 3", 'rounds = "3"'), "rounds"),
    (lambda t: t.replace("epochs = 5", "epochs = true"), "epochs"),
    (lambda t: t.replace('name = "tiny"', 'name = ""'), "name"),
    (lambda t: t.replace('name = "tiny"', 'name = "a\\nb"'), "name"),
])
def test_hostile_suite_values_are_refused(tiny_suite, edit, message):
    tiny_suite.write_text(edit(tiny_suite.read_text()))
    with pytest.raises(SuiteError, match=message):
        load_suite(tiny_suite)


def test_a_suite_file_that_is_not_utf8(tiny_suite):
    tiny_suite.write_bytes(tiny_suite.read_bytes().replace(b"tiny", b"t\xffny"))
    with pytest.raises(SuiteError, match="is not UTF-8 text"):
        load_suite(tiny_suite)


@pytest.mark.parametrize("option, message", [
    (["--workers", "-1"], "--workers"),
    (["--workers", "0"], "--workers"),
    (["--query-timeout", "nan"], "must be a finite number"),
    (["--threads", "100000"], "--threads"),
    (["--device", "bogus"], "must be auto, cpu, cuda or cuda:N"),
    (["--seeds", "0-300000"], "lists more than 10000 seeds"),
    (["--seeds", str(2**64)], "--seeds must list integers in 0.."),
])
def test_hostile_cli_values_are_refused(tiny_suite, tmp_path, option, message):
    result = CliRunner().invoke(main, ["run", "-s", "random", "--suite", str(tiny_suite),
                                       "--results", str(tmp_path), *option])
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert not (tmp_path / "albench.sqlite").exists()


def test_a_batch_larger_than_the_pool_fails_its_run(tiny_suite, tmp_path):
    spec = load_suite(tiny_suite).run_specs(["random"], seeds=[0])[0]
    spec = spec.model_copy(update={"batch_size": 500})
    summary = run_specs([spec], ResultStore(tmp_path), LocalExecutor(), device="cpu",
                        progress=False)
    assert "batch_size=500 exceeds the pool of 200" in summary.failed[spec.run_id]


def test_stored_indices_outside_the_pool(tiny_suite, tmp_path):
    spec = load_suite(tiny_suite).run_specs(["random"], seeds=[0])[0]
    store = ResultStore(tmp_path)
    run_specs([spec.model_copy(update={"rounds": 1})], store, LocalExecutor(), device="cpu",
              progress=False)
    short = spec.model_copy(update={"rounds": 1})
    with sqlite3.connect(store.path) as db:
        data = json.loads(db.execute("SELECT record FROM runs").fetchone()[0])
    data["rounds"] = data["rounds"][:1]
    data["status"] = "running"
    for index, problem in ((-3, "negative pool indices"), (10**6, "outside the pool of 200")):
        data["rounds"][0]["queried"][0] = index
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET record = ?", (json.dumps(data),))
        if index < 0:
            with pytest.raises(RecordError, match=problem):
                store.get(short.run_id)
        else:
            summary = run_specs([short], store, LocalExecutor(), device="cpu", progress=False)
            assert problem in summary.failed[short.run_id]


def test_a_strategy_returning_an_unreadable_tensor_is_named():
    mask = np.zeros(10, dtype=bool)
    for tensor in (torch.empty(3, device="meta"), torch.ones(3, requires_grad=True)):
        with pytest.raises(SelectionError, match="strategy 'x' returned a Tensor that cannot be "
                           "read as pool indices"):
            validate_selection(tensor, 3, mask, "strategy 'x'")


class _Escapes:
    @staticmethod
    @hookimpl
    def albench_register_strategies(register):
        register("shouty", lambda: None, "\x1b[31mred\x1b[0m\nsecond line")
        register("two\nlines", lambda: None)


def test_list_escapes_what_plugins_print_and_refuses_unprintable_names(monkeypatch):
    plugins = Plugins(extra_plugins=(("escapes", _Escapes),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    assert "invalid name 'two\\nlines'" in plugins.load_errors[0].error
    assert "shouty" not in plugins.names("strategies")  # the whole plugin is skipped
    good = Plugins(extra_plugins=(("escapes", type("P", (), {
        "albench_register_strategies": staticmethod(hookimpl(
            lambda register: register("shouty", lambda: None, "\x1b[31mred\x1b[0m\nnext")))})),),
        entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", good)
    output = CliRunner().invoke(main, ["list", "strategies"]).output
    assert "\x1b" not in output and "\\x1b[31mred\\x1b[0m\\nnext" in output


def test_a_reused_pid_does_not_hold_a_claim(tmp_path):
    store = ResultStore(tmp_path)
    with sqlite3.connect(store.path) as db:  # pid 1 is alive, but it started at another time
        db.execute("INSERT INTO claims VALUES ('r', ?, 0)", (f"{socket.gethostname()}:1:never",))
    store.claim("r")
    with sqlite3.connect(store.path) as db:
        [(owner,)] = db.execute("SELECT owner FROM claims").fetchall()
    assert owner.split(":")[1] == str(os.getpid())
