"""Time EGL and BADGE picking 1000 examples from Fashion-MNIST's 60k pool (prints seconds).

Usage: python bench_gradient.py [--pool 60000] [--budget 1000] [--model mlp]
       [--strategies badge,egl-last,egl] [--data DIR]
EGL over all parameters is slow on a CPU; time it on a smaller --pool and scale linearly.
"""

from __future__ import annotations

import argparse

from albench_gradient.badge import Badge
from albench_gradient.egl import ExpectedGradientLength

from albench.testing.bench import add_pool_options, context_from_options, timed_select

STRATEGIES = {
    "badge": Badge,
    "egl-last": lambda: ExpectedGradientLength(parameters="last"),
    "egl": ExpectedGradientLength,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pool_options(parser)
    parser.add_argument("--strategies", default="badge,egl-last,egl")
    args = parser.parse_args()
    context = context_from_options(args)
    for name in args.strategies.split(","):
        _, seconds = timed_select(STRATEGIES[name](), context, args.budget)
        print(f"{name:10s} {seconds:8.2f} s  ({1e3 * seconds / len(context.unlabeled_idx):.3f} "
              f"ms per unlabelled example)")


if __name__ == "__main__":
    main()
