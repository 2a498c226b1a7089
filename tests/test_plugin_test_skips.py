"""``python -m pytest`` with only some plugins installed skips the others' tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"


def _plugin(root: Path, folder: str, test: str) -> None:
    tests = root / "plugins" / folder / "tests"
    tests.mkdir(parents=True)
    (root / "plugins" / folder / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tests / f"test_{folder.replace('-', '_')}.py").write_text(test)


def test_tests_of_a_plugin_not_installed_are_skipped_with_a_note(tmp_path):
    shutil.copy(ROOT_CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["plugins"]\n'
        'addopts = "--import-mode=importlib"\n')
    _plugin(tmp_path, "albench-nosuchplugin",
            "import albench_nosuchplugin\n\ndef test_a():\n    pass\n")
    _plugin(tmp_path, "albench-present",
            "import albench_present\n\ndef test_b():\n    assert albench_present.OK\n")
    (tmp_path / "albench_present.py").write_text("OK = True\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                            cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "ModuleNotFoundError" not in result.stdout
    assert ("SKIPPED plugins/albench-nosuchplugin: its package albench_nosuchplugin is not "
            "installed") in result.stdout
