"""Repository-wide test set-up: the tests of a plugin that is not installed are skipped.

Each folder under ``plugins/`` is its own package (``plugins/albench-dal`` holds
``albench_dal``); a contributor installs only some of them, so ``python -m pytest`` leaves out
the tests of the others and says which, instead of stopping at their import errors.
"""

import importlib.util
from pathlib import Path

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
