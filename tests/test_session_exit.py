"""The test process ends with pytest's status once pytest has reported, whatever threads the
tests left behind (the interpreter is not finalised with them alive), and its exit functions
run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).parents[1] / "conftest.py"
LEFT_BEHIND = """import atexit
import pathlib
import threading

threading.Thread(target=threading.Event().wait, name="never-ends").start()
atexit.register(pathlib.Path("exit-functions-ran").touch)


def test_passes():
    pass


def test_outcome():
    assert {ok}
"""


@pytest.mark.parametrize("ok, status, summary", [(True, 0, "2 passed"),
                                                 (False, 1, "1 failed, 1 passed")])
def test_a_thread_left_running_neither_hangs_nor_hides_the_status(tmp_path, ok, status,
                                                                  summary):
    shutil.copy(ROOT_CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_left_behind.py").write_text(LEFT_BEHIND.format(ok=ok))
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)  # a non-daemon thread would block a normal exit
    assert result.returncode == status, result.stdout + result.stderr
    assert summary in result.stdout
    assert (tmp_path / "exit-functions-ran").exists()
