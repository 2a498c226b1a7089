"""A tiny suite for tests that drive whole runs: seconds each, on synthetic blobs."""

from __future__ import annotations

from pathlib import Path

TINY_SUITE = """\
name = "{name}"
version = 1
seeds = [0, 1]
strategies = ["random", "entropy"]
initial_labeled = 10
rounds = {rounds}
{threads}
[training]
epochs = {epochs}
batch_size = 16

[[settings]]
dataset = "blobs"
dataset_options = {{n_pool = 200, n_test = 100}}
model = "mlp"
model_options = {{hidden = 32}}
batch_size = 5
"""


def write_tiny_suite(folder: str | Path, name: str = "tiny", rounds: int = 3,
                     epochs: int = 5, threads: int | None = None) -> Path:
    """Write the tiny suite to ``folder/<name>.toml`` and return its path: blobs (200 pool,
    100 test examples), an MLP, random and entropy, seeds 0 and 1, 10 initial labels and
    ``rounds`` queries of 5, ``epochs`` of training, ``threads`` torch threads if given."""
    path = Path(folder) / f"{name}.toml"
    path.write_text(TINY_SUITE.format(name=name, rounds=rounds, epochs=epochs,
                                      threads=f"threads = {threads}\n" if threads else ""),
                    encoding="utf-8")
    return path
