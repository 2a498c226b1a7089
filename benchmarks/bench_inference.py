"""How fast is pool inference? LeNet images/second on MNIST-shaped input vs. matmul speed.

Prints the float32 matmul rate of this machine, LeNet's FLOPs per image, the images/second of
the harness's inference path (``Trainer.predict_proba``: normalise, batches of
``CPU_INFERENCE_BATCH``, inference mode) and of a bare forward pass at several batch sizes, and
each as a fraction of the matmul rate. Run: ``python -m benchmarks.bench_inference``
(``--threads 1`` on a busy machine: torch's threads slow down badly when cores are shared).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from albench.builtin.networks import LeNet
from albench.config import TrainingConfig
from albench.devices import CPU_INFERENCE_BATCH
from albench.training import Trainer
from albench.types import Dataset
from benchmarks.conftest import matmul_gflops


def best_seconds(fn, repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def flops_per_image(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-add FLOPs (2 per MAC) of the convolutions and linear layers for one image."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * np.prod(module.kernel_size)
            total += 2 * output.numel() * int(per_output)
        elif isinstance(module, nn.Linear):
            total += 2 * module.in_features * module.out_features * output.shape[0]

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.inference_mode():
        model.eval()(torch.zeros(1, *input_shape))
    for hook in hooks:
        hook.remove()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000, help="pool size to infer on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    shape = (1, 28, 28)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(args.images, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, size=args.images)
    dataset = Dataset("mnist-shaped", x, y, x[:10], y[:10], num_classes=10, mean=(0.1307,),
                      std=(0.3081,), scale=255.0, revision="bench")
    trainer = Trainer(dataset, LeNet, TrainingConfig(), "cpu")
    model = trainer.new_model(0).eval()

    peak = matmul_gflops(1024, args.repeats)
    flops = flops_per_image(model, shape)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"float32 matmul (1024^3): {peak:8.1f} GFLOP/s")
    print(f"LeNet: {flops / 1e6:.2f} MFLOP per image")

    def report(label: str, seconds: float) -> None:
        rate = args.images / seconds
        achieved = rate * flops / 1e9
        print(f"{label:38} {rate:10.0f} images/s  {achieved:7.1f} GFLOP/s  "
              f"{achieved / peak:6.1%} of matmul")

    report(f"predict_proba (batch {CPU_INFERENCE_BATCH})",
           best_seconds(lambda: trainer.predict_proba(model, x), args.repeats))
    inputs = dataset.inputs(x)
    for batch in (128, 256, 1024, 4096):
        def forward(batch=batch):
            with torch.inference_mode():
                for start in range(0, len(inputs), batch):
                    model(inputs[start:start + batch])
        report(f"bare forward (batch {batch})", best_seconds(forward, args.repeats))


if __name__ == "__main__":
    main()
