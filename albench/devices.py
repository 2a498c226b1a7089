"""Which device runs the models, and how many examples go through it per forward pass."""

from __future__ import annotations

import torch

INFERENCE_BATCH = 4096
CPU_INFERENCE_BATCH = 128
"""LeNet on one CPU thread: about twice the images/s of 1024 (activations stay in cache)."""


def inference_batch_size(device: torch.device) -> int:
    """Examples per forward pass over a pool: large on a GPU, cache-sized on a CPU."""
    return INFERENCE_BATCH if device.type == "cuda" else CPU_INFERENCE_BATCH


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when present (or requested), else the CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)
