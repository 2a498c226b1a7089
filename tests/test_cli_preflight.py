"""``albench run`` checks everything it can before the first run, and writes nothing when a
check fails; ``-o STRATEGY.KEY=VALUE`` sets a strategy option from the command line."""

import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import albench.plugins
from albench import hookimpl
from albench.cli import main
from albench.plugins import Plugins
from albench.preflight import PreflightError, parse_option
from albench.results import ResultStore


class Stride:
    """Every ``step``-th unlabelled example: a strategy with one validated option."""

    def __init__(self, step: int = 1):
        if not isinstance(step, int) or step < 1:
            raise ValueError(f"step must be a positive integer, got {step!r}")
        self.step = step

    def select(self, context, budget):
        return context.unlabeled_idx[::self.step][:budget]


class RegistersStride:
    @hookimpl
    def albench_register_strategies(self, register):
        register("stride", Stride, "every step-th example")


@pytest.fixture
def with_stride(monkeypatch):
    plugins = Plugins(extra_plugins=(("stride-plugin", RegistersStride()),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)


def _run(tmp_path, *args):
    """``albench run`` into tmp_path/results and tmp_path/boards."""
    return CliRunner().invoke(main, ["run", *args, "--results", str(tmp_path / "results"),
                                     "--leaderboards", str(tmp_path / "boards"), "--quiet",
                                     "--device", "cpu", "--seeds", "0", "--executor", "inline"])


def _nothing_written(tmp_path) -> bool:
    return not (tmp_path / "results").exists() and not (tmp_path / "boards").exists()


BLOBS = 'dataset = "blobs"\ndataset_options = {n_pool = 60, n_test = 30}'


def _suite(tmp_path, extra="", dataset=BLOBS):
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent("""
        name = "tiny"
        strategies = ["random"]
        initial_labeled = 10
        rounds = 1
        {extra}
        [training]
        epochs = 2
        batch_size = 16

        [[settings]]
        model = "mlp"
        batch_size = 5
    """).format(extra=extra) + dataset + "\n")
    return str(path)


def test_an_unknown_strategy_option_in_the_suite_fails_before_any_run(tmp_path, with_stride):
    suite = _suite(tmp_path, extra="[strategy_options]\nstride = {stpe = 2}\n")
    result = _run(tmp_path, "-s", "stride", "--suite", suite)
    assert result.exit_code != 0
    assert "strategy 'stride' (plugin stride-plugin) rejects the options {\"stpe\": 2}" in \
        result.output
    assert "it accepts step" in result.output
    assert _nothing_written(tmp_path)


STRIDE_MODULE = """
    class Stride:
        def __init__(self, step: int = 1):
            self.step = step

        def select(self, context, budget):
            return context.unlabeled_idx[::self.step][:budget]
"""


class RegistersLazily:
    @hookimpl
    def albench_register_strategies(self, register):
        register("lazy-stride", "albench_test_lazy_stride:Stride", "every step-th example")
        register("lazy-broken", "albench_test_lazy_stride:Missing", "cannot be loaded")


@pytest.fixture
def with_lazy_stride(tmp_path, monkeypatch):
    (tmp_path / "albench_test_lazy_stride.py").write_text(textwrap.dedent(STRIDE_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = Plugins(extra_plugins=(("lazy-plugin", RegistersLazily()),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    yield
    sys.modules.pop("albench_test_lazy_stride", None)


def test_options_of_a_lazily_registered_strategy_are_checked_against_its_signature(
        tmp_path, with_lazy_stride):
    result = _run(tmp_path, "-s", "lazy-stride", "--suite", _suite(tmp_path), "-o",
                  "lazy-stride.stpe=2")
    assert result.exit_code != 0
    assert "strategy 'lazy-stride' (plugin lazy-plugin) rejects the options" in result.output
    assert "it accepts step" in result.output
    assert _nothing_written(tmp_path)


def test_a_lazy_strategy_that_cannot_be_imported_fails_before_any_run(tmp_path,
                                                                      with_lazy_stride):
    result = _run(tmp_path, "-s", "lazy-broken", "--suite", _suite(tmp_path))
    assert result.exit_code != 0
    assert ("strategy 'lazy-broken' (plugin 'lazy-plugin', version 0) cannot be loaded: "
            "'albench_test_lazy_stride:Missing' names no attribute 'Missing'") in result.output
    assert _nothing_written(tmp_path)


def test_a_bad_option_value_on_the_command_line_fails_before_any_run(tmp_path, with_stride):
    result = _run(tmp_path, "-s", "stride", "--suite", _suite(tmp_path), "-o", "stride.step=0")
    assert result.exit_code != 0
    assert "step must be a positive integer, got 0" in result.output
    assert _nothing_written(tmp_path)


def test_an_option_for_a_strategy_not_run_is_refused(tmp_path, with_stride):
    result = _run(tmp_path, "-s", "random", "--suite", _suite(tmp_path), "-o", "stride.step=2")
    assert result.exit_code != 0 and "add it (-s stride)" in result.output
    assert _nothing_written(tmp_path)


def test_option_flags_are_merged_over_the_suite_and_get_their_own_run(tmp_path, with_stride):
    suite = _suite(tmp_path, extra="[strategy_options]\nstride = {step = 2}\n")
    assert _run(tmp_path, "-s", "stride", "--suite", suite,
                "--no-leaderboard").exit_code == 0
    result = _run(tmp_path, "-s", "Stride", "--suite", suite, "-o", "stride.step=3")
    assert result.exit_code == 0, result.output
    records = list(ResultStore(tmp_path / "results").records())
    assert sorted(r.spec.strategy_options["step"] for r in records) == [2, 3]
    assert {r.spec.strategy for r in records} == {"stride"}
    board = (tmp_path / "boards" / "tiny.md").read_text()
    assert 'stride {"step":2}' in board and 'stride {"step":3}' in board


def test_option_values_are_read_as_toml_else_as_text():
    assert parse_option("dal.sub_batches=20") == ("dal", "sub_batches", 20)
    assert parse_option("bald.masks=per-example") == ("bald", "masks", "per-example")
    assert parse_option("mix:a+b.share=0.5") == ("mix:a+b", "share", 0.5)
    assert parse_option('x.y="1"') == ("x", "y", "1")
    with pytest.raises(PreflightError, match="STRATEGY.KEY=VALUE"):
        parse_option("sub_batches=20")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_device_cuda_without_a_gpu_fails_up_front(tmp_path):
    result = CliRunner().invoke(main, ["run", "-s", "random", "--device", "cuda",
                                       "--results", str(tmp_path / "results")])
    assert result.exit_code != 0 and "torch sees no CUDA GPU" in result.output
    assert _nothing_written(tmp_path)


def test_a_data_dir_that_does_not_exist_fails_up_front(tmp_path):
    result = _run(tmp_path, "-s", "random", "--data-dir", str(tmp_path / "nope"))
    assert result.exit_code != 0 and "is not a directory; create it" in result.output
    assert _nothing_written(tmp_path)


def test_missing_dataset_files_fail_once_before_any_run(tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    suite = _suite(tmp_path, dataset=f'dataset = "fashion-mnist"\ndataset_options = '
                                     f'{{data_dir = "{empty}", download = false}}')
    result = _run(tmp_path, "-s", "random", "-s", "entropy", "--suite", suite)
    assert result.exit_code != 0
    assert result.output.count("dataset 'fashion-mnist'") == 1
    assert "cannot be loaded, so no run was started: DataNotFoundError" in result.output
    assert _nothing_written(tmp_path)


def test_corrupt_dataset_files_fail_before_any_run(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (data / "fashion-mnist").mkdir(exist_ok=True)
        (data / "fashion-mnist" / f"{stem}.gz").write_bytes(np.arange(50, dtype=np.uint8).tobytes())
    suite = _suite(tmp_path, dataset=f'dataset = "fashion-mnist"\ndataset_options = '
                                     f'{{data_dir = "{data}", download = false}}')
    result = _run(tmp_path, "-s", "random", "--suite", suite)
    assert result.exit_code != 0 and "CorruptDataError" in result.output
    assert _nothing_written(tmp_path)


def test_an_unknown_suite_writes_nothing(tmp_path):
    result = _run(tmp_path, "-s", "random", "--suite", "quik")
    assert result.exit_code != 0 and "did you mean 'quick'" in result.output
    assert _nothing_written(tmp_path)


class Broken:
    def select(self, context, budget):
        raise RuntimeError("broken on purpose")


class RegistersBroken:
    @hookimpl
    def albench_register_strategies(self, register):
        register("broken", Broken)


def test_no_leaderboard_is_written_when_no_run_completed(tmp_path, monkeypatch):
    plugins = Plugins(extra_plugins=(("broken-plugin", RegistersBroken()),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    result = _run(tmp_path, "-s", "broken", "--suite", _suite(tmp_path))
    assert result.exit_code == 1 and "broken on purpose" in result.output
    assert "no run completed, so no leaderboard was written" in result.output
    assert not (tmp_path / "boards").exists()
