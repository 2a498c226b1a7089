"""Repository-wide test set-up: the tests of a plugin that is not installed are skipped, and
the test process ends as soon as pytest has reported.

Each folder under ``plugins/`` is its own package (``plugins/albench-dal`` holds
``albench_dal``); a contributor installs only some of them, so ``python -m pytest`` leaves out
the tests of the others and says which, instead of stopping at their import errors.
"""

import atexit
import importlib.util
import os
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"


def _missing_plugins() -> dict[Path, str]:
    """Plugin folder -> the package that cannot be imported, for every plugin not installed."""
    missing = {}
    for folder in sorted(p for p in PLUGINS.glob("*") if (p / "pyproject.toml").is_file()):
        package = folder.name.replace("-", "_")
        if importlib.util.find_spec(package) is None:
            missing[folder] = package
    return missing


MISSING = _missing_plugins()


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path in MISSING:
        return True
    return None


def pytest_report_header(config):
    if MISSING:
        names = ", ".join(folder.name for folder in MISSING)
        note = f"skipped the tests of plugins that are not installed: {names}"
        return [note + " (pip install -e plugins/NAME to run them)"]
    return None


def pytest_terminal_summary(terminalreporter):
    for folder, package in MISSING.items():
        terminalreporter.write_line(f"SKIPPED {folder.relative_to(PLUGINS.parent)}: its package "
                                    f"{package} is not installed")


SESSION = pytest.StashKey()


def pytest_sessionstart(session):
    session.config.stash[SESSION] = session


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Exit with pytest's status without finalising the interpreter.

    By now the session's threads that no test owns are foreign: Ray's gRPC and core-worker
    threads outlive ``ray.shutdown()``, beside torch's and tqdm's. CPython's finalisation with
    them alive once crashed the process (SIGSEGV) after every test had passed, which turned a
    green run red; every report and record is written before this hook, and the exit
    functions still run (``coverage run`` saves its data in one)."""
    session = config.stash.get(SESSION, None)
    if session is None:  # pytest stopped before a session began (a usage error)
        return
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(session.exitstatus))
