"""Shared fixtures: a tiny suite on synthetic blobs that runs in seconds."""

import os
from pathlib import Path

import pytest
import torch

from albench.testing import write_tiny_suite

# Tiny models train faster on one thread, and tests stay quick when cores are busy.
torch.set_num_threads(1)

# The team's shared datasets beside the clone (as in CI), unless ALBENCH_DATA_DIR says otherwise;
# tests that need real data skip when neither has it.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if SHARED_DATASETS.is_dir():
    os.environ.setdefault("ALBENCH_DATA_DIR", str(SHARED_DATASETS))


@pytest.fixture
def tiny_suite(tmp_path):
    """Path to albench.testing's tiny suite file (blobs, mlp, 2 seeds, 3 rounds of 5)."""
    return write_tiny_suite(tmp_path)
