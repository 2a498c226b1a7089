"""``albench new-plugin``: the generated packages register, conform and pass their tests."""

import importlib.util
import json
import os
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner

from albench.cli import main
from albench.plugins import Plugins
from albench.template import KINDS, REGISTRIES, TemplateError, new_plugin
from albench.testing import check_dataset, check_model, check_strategy


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_packages_pass_ruff(tmp_path):
    pytest.importorskip("ruff")
    for kind in KINDS:
        new_plugin(f"lint-{kind}", kind, tmp_path)
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_new_plugin_writes_a_complete_package(tmp_path, kind, monkeypatch):
    root = new_plugin(f"my-{kind}", kind, tmp_path)
    assert root == tmp_path / f"albench-my-{kind}"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", f"albench_my_{kind}/__init__.py",
                     f"albench_my_{kind}/{kind}.py", "pyproject.toml",
                     f"tests/test_albench_my_{kind}.py"]
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "albench-my-' + kind + '"' in pyproject
    assert f'[project.entry-points.albench]\nmy-{kind} = "albench_my_{kind}"' in pyproject
    for path in root.rglob("*"):
        if path.is_file():
            assert "${" not in path.read_text(), path
    module = _import(root / f"albench_my_{kind}" / "__init__.py", f"albench_my_{kind}")
    plugins = Plugins(extra_plugins=((f"my-{kind}", module),), entry_points=False)
    item = plugins.get(REGISTRIES[kind], f"my-{kind}")
    assert item.plugin == f"my-{kind}"
    assert item.target == f"albench_my_{kind}.{kind}:" + {
        "strategy": "SoftmaxEntropySampling", "dataset": "load", "model": "SmallNet"}[kind]
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, f"albench_my_{kind}", raising=False)
    try:
        assert callable(item.factory)  # the name it registers imports
    finally:
        for name in [n for n in sys.modules if n.startswith(f"albench_my_{kind}")]:
            del sys.modules[name]


def test_the_example_strategy_conforms(tmp_path):
    module = _import(new_plugin("soft", "strategy", tmp_path) / "albench_soft" / "strategy.py",
                     "albench_soft_strategy")
    check_strategy(module.SoftmaxEntropySampling, name="soft")


def test_the_example_dataset_and_model_conform(tmp_path):
    dataset = _import(new_plugin("wine", "dataset", tmp_path) / "albench_wine" / "dataset.py",
                      "albench_wine_dataset")
    check_dataset(dataset.load, name="wine")
    model = _import(new_plugin("net", "model", tmp_path) / "albench_net" / "model.py",
                    "albench_net_model")
    check_model(model.SmallNet, name="net")


@pytest.mark.parametrize("name", ["Upper", "under_score", "-lead", "trail-", "double--dash",
                                  "9lives", ""])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(TemplateError, match="must be lowercase"):
        new_plugin(name, "strategy", tmp_path)


def test_an_existing_directory_is_never_overwritten(tmp_path):
    (tmp_path / "albench-taken").mkdir()
    with pytest.raises(TemplateError, match="already exists"):
        new_plugin("taken", "strategy", tmp_path)


def test_unknown_kind(tmp_path):
    with pytest.raises(TemplateError, match="unknown plugin kind 'executor'"):
        new_plugin("x", "executor", tmp_path)


def test_cli_new_plugin(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["new-plugin", "fresh", "--kind", "model", "--dir",
                                  str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "albench-fresh" / "albench_fresh" / "__init__.py").is_file()
    assert "pip install -e" in result.output
    result = runner.invoke(main, ["new-plugin", "random", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "strategy 'random' is already registered" in result.output
    assert not (tmp_path / "albench-random").exists()
    result = runner.invoke(main, ["new-plugin", "Bad", "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "must be lowercase" in result.output


@pytest.mark.slow
def test_generated_packages_install_register_and_pass_their_tests(tmp_path):
    """In a fresh virtual environment that sees this one's packages (albench included)."""
    for kind in KINDS:
        new_plugin(f"gen-{kind}", kind, tmp_path)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    paths = {"base": str(env_dir), "platbase": str(env_dir)}
    python = os.path.join(sysconfig.get_path("scripts", "venv", paths), "python")
    # addsitedir (not a bare path) so that this environment's editable installs work there.
    parents = "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages())
    pth = Path(sysconfig.get_path("purelib", "venv", paths)) / "_albench_parent.pth"
    pth.write_text(f"import site; {parents}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALBENCH_", "PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env["ALBENCH_LOAD_PLUGINS"] = ",".join(f"gen-{kind}" for kind in KINDS)

    def run(*args, cwd=tmp_path):
        done = subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    packages = [str(tmp_path / f"albench-gen-{kind}") for kind in KINDS]
    run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", *[a for p in packages for a in ("-e", p)])
    listed = json.loads(run("-m", "albench.cli", "plugins", "--json"))
    by_name = {p["name"]: p for p in listed["plugins"]}
    for kind in KINDS:
        plugin = by_name[f"gen-{kind}"]
        assert plugin["distribution"] == f"albench-gen-{kind}"
        assert plugin["registered"] == {REGISTRIES[kind]: [f"gen-{kind}"]}
    output = run("-m", "pytest", "-q", "-p", "no:cacheprovider", *packages)
    assert " passed" in output and "failed" not in output
