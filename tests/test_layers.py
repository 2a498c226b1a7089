"""The data model (specs, records, the store, reports) and the driver that runs a suite
import no torch: reading results stays fast, and torch loads where models are trained."""

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from albench.plugins import BUILTIN_MODULES


@pytest.mark.parametrize("module", ["albench", "albench.config", "albench.spec",
                                    "albench.results", "albench.record_files",
                                    "albench.report", "albench.plugins", "albench.errors",
                                    "albench.runner", "albench.round_zero", "albench.cli"])
def test_the_data_model_does_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False", f"importing {module} imports torch"



HEAVY = ("torch", "sklearn", "scipy", "ray")


def test_loading_and_listing_every_plugin_imports_nothing_heavy():
    """Plugins name their factories as "module:attr": loading the installed plugin set and
    ``albench list`` import no torch, scikit-learn, SciPy or Ray."""
    code = ("import json, sys\n"
            "from click.testing import CliRunner\n"
            "from albench.cli import main\n"
            "from albench.plugins import get_plugins\n"
            "plugins = get_plugins()\n"
            "assert not plugins.load_errors, plugins.load_errors\n"
            "for args in (['list'], ['list', '--json'], ['plugins']):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
            "print(json.dumps(sorted(info.name for info in plugins.info())))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALBENCH_LOAD_PLUGINS", "ALBENCH_DISABLE_PLUGINS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    heavy, loaded = (json.loads(line) for line in done.stdout.splitlines())
    assert heavy == [], f"loading the plugins imports {', '.join(heavy)}"
    installed = importlib.metadata.entry_points(group="albench").names
    assert set(loaded) == set(BUILTIN_MODULES) | set(installed)  # every plugin was loaded


@pytest.mark.parametrize("entry_point", sorted(importlib.metadata.entry_points(group="albench"),
                                               key=lambda ep: ep.name), ids=lambda ep: ep.name)
def test_a_plugin_packages_public_names_still_import(entry_point):
    """A package whose ``__init__`` only registers keeps its ``__all__`` importable, loaded on
    first access."""
    package = entry_point.load()
    for name in getattr(package, "__all__", []):
        assert getattr(package, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        package.not_a_public_name  # noqa: B018
