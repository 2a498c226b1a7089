"""Greedy k-center cost: seconds, peak memory and arithmetic rate for picks from large pools.

Run: python plugins/albench-coreset/benchmarks/bench_kcenter.py [--threads N]

Each case runs in a fresh process; peak memory is the rise of the process's peak resident
set (VmHWM, reset through /proc/self/clear_refs) above what the input embeddings occupy.
The greedy steps are matrix-vector products (n·d multiply-adds per pick, n·k·d in all),
so they run at memory bandwidth rather than at the matrix-multiply rate printed first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import torch
from albench_coreset.kcenter import greedy_k_center


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def matmul_gflops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Best float32 GFLOP/s of a ``size``³ matrix product."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_case(n: int, d: int, budget: int, labeled: int, threads: int, queue) -> None:
    """Child process: build the embeddings, reset the peak RSS, run greedy, report."""
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    pool = torch.randn(n, d, generator=generator).relu_()  # ReLU features, like embeddings
    centres = torch.randn(labeled, d, generator=generator).relu_()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current resident set
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    greedy_k_center(pool, centres, budget)
    seconds = time.perf_counter() - start
    queue.put((seconds, (_status_kib("VmHWM") - before) / 1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,60000")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--labelled", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()

    rate = matmul_gflops(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"float32 matmul (2048³): {rate:.1f} GFLOP/s")
    print(f"picks k={args.budget}, labelled L={args.labelled}\n")
    print(f"{'n':>6} {'d':>4} {'inputs MB':>9} {'seconds':>8} {'peak MB':>8} "
          f"{'n·k·d':>9} {'GFLOP/s':>8} {'at matmul rate':>14}")
    context = multiprocessing.get_context("spawn")
    for n in map(int, args.sizes.split(",")):
        for d in map(int, args.dims.split(",")):
            queue = context.Queue()
            child = context.Process(target=one_case, args=(n, d, args.budget, args.labeled,
                                                           args.threads, queue))
            child.start()
            seconds, peak_mb = queue.get()
            child.join()
            flops = 2 * n * d * (args.budget + args.labeled)  # L·n·d once, then k·n·d
            inputs_mb = (n + args.labeled) * d * 4 / 2**20
            print(f"{n:>6} {d:>4} {inputs_mb:>9.0f} {seconds:>8.2f} {peak_mb:>8.0f} "
                  f"{n * args.budget * d:>9.2e} {flops / seconds / 1e9:>8.1f} "
                  f"{flops / rate / 1e9:>13.2f}s")


if __name__ == "__main__":
    main()
