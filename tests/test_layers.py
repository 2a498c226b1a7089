"""The data model (specs, records, the store, reports) and the driver that runs a suite
import no torch: reading results stays fast, and torch loads where models are trained."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["albench", "albench.config", "albench.spec",
                                    "albench.results", "albench.record_files",
                                    "albench.report", "albench.plugins", "albench.errors",
                                    "albench.runner", "albench.round_zero", "albench.cli"])
def test_the_data_model_does_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False", f"importing {module} imports torch"
