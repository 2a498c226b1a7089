"""Shared fixtures: a tiny suite on synthetic blobs that runs in seconds."""

import os
import textwrap
from pathlib import Path

import pytest
import torch

# Tiny models train faster on one thread, and tests stay quick when cores are busy.
torch.set_num_threads(1)

# The team's shared datasets beside the clone (as in CI), unless ALBENCH_DATA_DIR says otherwise;
# tests that need real data skip when neither has it.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if SHARED_DATASETS.is_dir():
    os.environ.setdefault("ALBENCH_DATA_DIR", str(SHARED_DATASETS))


@pytest.fixture
def tiny_suite(tmp_path):
    """Path to a suite file: blobs, mlp, 2 seeds, 3 rounds of 5, few epochs."""
    path = tmp_path / "tiny.toml"
    path.write_text(textwrap.dedent("""
        name = "tiny"
        version = 1
        seeds = [0, 1]
        strategies = ["random", "entropy"]
        initial_labeled = 10
        rounds = 3

        [training]
        epochs = 5
        batch_size = 16

        [[settings]]
        dataset = "blobs"
        dataset_options = {n_pool = 200, n_test = 100}
        model = "mlp"
        model_options = {hidden = 32}
        batch_size = 5
    """))
    return path
