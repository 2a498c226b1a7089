"""The reproducibility protocol of a run: torch's thread count and deterministic CUDA kernels.

On a CPU, results are identical from run to run at a fixed torch thread count, but not
across counts (reductions split differently). The count is therefore part of the protocol:
a suite may fix it, every round records it, and a run is never continued, nor started from a
shared round 0, under another count (:func:`check_threads`).

On CUDA, :func:`configure` asks torch for deterministic kernels (``use_deterministic_algorithms``
with warnings, not errors, for ops that have none), sets ``CUBLAS_WORKSPACE_CONFIG`` and turns
cuDNN's benchmark off; :func:`determinism` records what was in force in each round. Of the
layers the built-in models use, torch's documentation of ``use_deterministic_algorithms``
lists one without a deterministic CUDA kernel: ``AdaptiveAvgPool2d``'s backward pass
(``resnet18``); it runs as before, with torch's warning. LeNet, the MLP and VGG use none.
"""

from __future__ import annotations

import os
import platform

from albench.errors import AlbenchError

CUBLAS_WORKSPACE = ":4096:8"
"""A cuBLAS workspace setting under which cuBLAS is deterministic (CUDA 10.2 and later)."""


class ProtocolError(AlbenchError):
    """A run would mix rounds computed under different reproducibility settings."""


def configure(device, threads: int | None = None, deterministic: bool = True) -> None:
    """Set torch's thread count (when given) and, on CUDA, its deterministic modes.

    ``CUBLAS_WORKSPACE_CONFIG`` only takes effect before cuBLAS starts in this process, so
    call this before the first CUDA computation (workers do, before each run). An existing
    value of the variable is left as it is.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    if torch.device(device).type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = False


def threads() -> int:
    """torch's intra-op thread count in this process."""
    import torch

    return torch.get_num_threads()


def determinism(device) -> dict[str, str]:
    """The deterministic-mode settings in force for ``device``, as recorded in each round."""
    import torch

    if torch.device(device).type != "cuda":
        return {"kernels": "cpu"}
    if not torch.are_deterministic_algorithms_enabled():
        algorithms = "default"
    elif torch.is_deterministic_algorithms_warn_only_enabled():
        algorithms = "deterministic (warn where none)"
    else:
        algorithms = "deterministic"
    return {"algorithms": algorithms,
            "cudnn_deterministic": str(torch.backends.cudnn.deterministic).lower(),
            "cudnn_benchmark": str(torch.backends.cudnn.benchmark).lower(),
            "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG", "")}


def check_threads(stored: int | None, stored_device: str | None, current: int,
                  current_device: str, what: str) -> None:
    """Refuse to continue CPU work stored under ``stored`` threads with ``current`` threads.

    ``what`` names the stored work (``"run X's round 3"``). Records without a count (made
    before counts were recorded) and rounds on CUDA are not checked.
    """
    on_cpu = [d is not None and d.startswith("cpu") for d in (stored_device, current_device)]
    if stored is None or not all(on_cpu) or stored == current:
        return
    raise ProtocolError(
        f"{what} was computed with {stored} torch thread(s), this process uses {current}: "
        f"results depend on the thread count, so the rounds would not be reproducible. "
        f"Run again with --threads {stored} (or --force to recompute from scratch)")


def device_label(device) -> str:
    """``device`` with its hardware name, e.g. ``cuda:0 (NVIDIA H200)``."""
    import torch

    device = torch.device(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name()
    return f"{device} ({name or 'unknown'})"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
