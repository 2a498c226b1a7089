"""albench against baal, batchbald-redux and scikit-activeml on identical inputs, one thread.

Each row times one selection of ``--budget`` examples from a pool of ``--pool`` (default
10k and 60k) by albench's function and by each peer's, from the same arrays: class
probabilities, MC-dropout probabilities (20 passes), a committee of 5, 128-d embeddings
with 1000 labelled, seeded. It prints seconds, peak resident MB above the start and the
ratio peer / albench (both measured in this process, one after the other) on stdout;
batchbald-redux's progress bars go to stderr. Needs the
``peers`` extra. Run: ``python -m benchmarks.bench_peers [--pool 10000] [-m coreset]``.
BatchBALD runs on the 1000 top-BALD candidates with a batch of 30 (albench's strategy
prefilters so; at batch 1000 it would take every candidate), 1000 sampled configurations.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import version

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from benchmarks.conftest import PeakMemory

PEERS = ("baal", "batchbald-redux", "scikit-activeml")
CLASSES, PASSES, MEMBERS, DIM, LABELLED = 10, 20, 5, 128, 1000
BATCHBALD_CANDIDATES, BATCHBALD_BUDGET, BATCHBALD_SAMPLES = 1000, 30, 1000


@dataclass
class Case:
    method: str
    library: str
    run: Callable[[], object]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


def inputs(pool: int, seed: int = 0) -> dict:
    """The arrays every library is handed: float32, as albench's models produce them."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(1, pool, CLASSES)) * rng.uniform(0.5, 4.0, size=(1, pool, 1))
    mc = softmax(base + rng.normal(size=(PASSES, pool, CLASSES)))
    centres = rng.normal(scale=3.0, size=(CLASSES, DIM))
    embeddings = (centres[rng.integers(CLASSES, size=pool)]
                  + rng.normal(size=(pool, DIM))).astype(np.float32)
    return {"probs": softmax(base[0]), "mc": mc, "committee": mc[:MEMBERS],
            "embeddings": embeddings, "labels": rng.integers(CLASSES, size=pool)}


def top(scores: np.ndarray, budget: int) -> np.ndarray:
    from albench.scoring import top_k
    return top_k(scores, np.arange(len(scores)), budget)


def uncertainty_cases(data: dict, budget: int) -> list[Case]:
    from albench_bald.scores import bald
    from albench_bald.scores import variation_ratios as mc_variation_ratios
    from albench_ebal.scores import vote_entropy as committee_vote_entropy
    from baal.active import heuristics
    from skactiveml.pool import uncertainty_scores, variation_ratios, vote_entropy
    from skactiveml.utils import simple_batch

    from albench.builtin.strategies import least_confidence, smallest_margin
    from albench.scoring import entropy
    probs, mc, committee = data["probs"], data["mc"], data["committee"]
    baal_mc = np.ascontiguousarray(mc.transpose(1, 2, 0))  # baal's (n, classes, passes)
    classes = np.arange(CLASSES)

    def skactiveml(method):
        return lambda: simple_batch(uncertainty_scores(probs, method=method), random_state=0,
                                    batch_size=budget)

    def baal(heuristic, predictions):
        return lambda: heuristic.get_ranks(predictions)[0][:budget]

    def redux_bald():
        from batchbald_redux.batchbald import get_bald_batch
        return get_bald_batch(torch.from_numpy(np.log(mc.transpose(1, 0, 2))), budget)

    return [
        Case("least confidence", "albench", lambda: top(least_confidence(probs), budget)),
        Case("least confidence", "baal", baal(heuristics.Certainty(), probs)),
        Case("least confidence", "scikit-activeml", skactiveml("least_confident")),
        Case("margin", "albench", lambda: top(smallest_margin(probs), budget)),
        Case("margin", "baal", baal(heuristics.Margin(), probs)),
        Case("margin", "scikit-activeml", skactiveml("margin_sampling")),
        Case("entropy", "albench", lambda: top(entropy(probs), budget)),
        Case("entropy", "baal", baal(heuristics.Entropy(), probs)),
        Case("entropy", "scikit-activeml", skactiveml("entropy")),
        Case(f"BALD ({PASSES} passes)", "albench", lambda: top(bald(mc), budget)),
        Case(f"BALD ({PASSES} passes)", "baal", baal(heuristics.BALD(), baal_mc)),
        Case(f"BALD ({PASSES} passes)", "batchbald-redux", redux_bald),
        Case(f"variation ratios ({PASSES} passes)", "albench",
             lambda: top(mc_variation_ratios(mc), budget)),
        Case(f"variation ratios ({PASSES} passes)", "scikit-activeml",
             lambda: simple_batch(variation_ratios(mc.argmax(2).T), random_state=0,
                                  batch_size=budget)),
        Case(f"vote entropy ({MEMBERS} members)", "albench",
             lambda: top(committee_vote_entropy(committee), budget)),
        Case(f"vote entropy ({MEMBERS} members)", "scikit-activeml",
             lambda: simple_batch(vote_entropy(committee.argmax(2).T, classes),
                                  random_state=0, batch_size=budget)),
    ]


def batchbald_cases(data: dict) -> list[Case]:
    from albench_bald.scores import bald, batchbald_select
    from batchbald_redux.batchbald import get_batchbald_batch
    mc = data["mc"]
    kept = mc[:, np.sort(top(bald(mc), BATCHBALD_CANDIDATES))]
    log_probs = torch.from_numpy(np.log(kept.transpose(1, 0, 2).astype(np.float64)))
    method = f"BatchBALD ({BATCHBALD_CANDIDATES} candidates, batch {BATCHBALD_BUDGET})"
    return [
        Case(method, "albench", lambda: batchbald_select(
            kept, BATCHBALD_BUDGET, BATCHBALD_SAMPLES, np.random.default_rng(0))),
        Case(method, "batchbald-redux", lambda: get_batchbald_batch(
            log_probs, BATCHBALD_BUDGET, BATCHBALD_SAMPLES, dtype=torch.double)),
    ]


def embedding_cases(data: dict, budget: int) -> list[Case]:
    from albench_coreset.kcenter import greedy_k_center
    from albench_gradient.badge import gradient_factors, kmeans_pp_seeds
    from albench_typical.typiclust import TypiClust as AlbenchTypiClust
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import Badge, TypiClust, k_greedy_center
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.linear_model import LogisticRegression

    from albench.testing.toy import logistic_context
    x, labels = data["embeddings"], data["labels"]
    y = np.full(len(x), np.nan)
    y[:LABELLED] = labels[:LABELLED]
    pool, centres = torch.from_numpy(x[LABELLED:]), torch.from_numpy(x[:LABELLED])
    classifier = SklearnClassifier(LogisticRegression(), classes=np.arange(CLASSES)).fit(x, y)
    head = torch.nn.Linear(DIM, CLASSES)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(classifier.estimator_.coef_))
        head.bias.copy_(torch.from_numpy(classifier.estimator_.intercept_))
    context = logistic_context(x, np.zeros((2, DIM)), np.zeros(2))
    context = replace(context, labeled_idx=np.arange(LABELLED),
                      unlabeled_idx=np.arange(LABELLED, len(x)))
    clusters = LABELLED + budget
    mini_batch = {"n_init": 1, "batch_size": max(1024, 3 * clusters)}  # albench's settings

    def badge():
        u, h = gradient_factors(x[LABELLED:], head)
        return kmeans_pp_seeds(u, h, budget, np.random.default_rng(0))

    def peer_typiclust(algorithm, options):
        peer = TypiClust(random_state=0, cluster_algo=algorithm, cluster_algo_dict=options,
                         k=20)
        return lambda: peer.query(x, y, batch_size=budget)

    return [
        Case("greedy core-set", "albench", lambda: greedy_k_center(pool, centres, budget)),
        Case("greedy core-set", "scikit-activeml",
             lambda: k_greedy_center(x, y, batch_size=budget, random_state=0)),
        Case("BADGE", "albench", badge),
        Case("BADGE", "scikit-activeml", lambda: Badge(random_state=0).query(
            x, y, classifier, fit_clf=False, batch_size=budget)),
        Case("TypiClust", "albench", lambda: AlbenchTypiClust().select(context, budget)),
        Case("TypiClust", "scikit-activeml (KMeans)",
             peer_typiclust(KMeans, {"n_init": 1})),
        Case("TypiClust", "scikit-activeml (albench's MiniBatchKMeans)",
             peer_typiclust(MiniBatchKMeans, mini_batch)),
    ]


def measure(case: Case, quick: float = 1.0, repeats: int = 3) -> tuple[float, float]:
    """Seconds (the fastest of up to ``repeats`` runs when one takes under ``quick``) and
    the first run's peak resident MB above the start."""
    with PeakMemory() as memory:
        start = time.perf_counter()
        case.run()
        seconds = time.perf_counter() - start
    for _ in range(repeats - 1 if seconds < quick else 0):
        start = time.perf_counter()
        case.run()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, memory.peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, action="append", help="default: 10000 and 60000")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("-m", "--method", action="append",
                        help="only methods whose name contains this (case-insensitive)")
    parser.add_argument("-l", "--library", action="append",
                        help="only albench and libraries whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("versions: " + ", ".join(f"{name} {version(name)}" for name in
                                   ("torch", "numpy", "scikit-learn", *PEERS)))
    print("| method | pool | library | seconds | × albench | peak MB |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    with threadpool_limits(1):
        for pool in args.pool or [10_000, 60_000]:
            data = inputs(pool)
            cases = (uncertainty_cases(data, args.budget) + batchbald_cases(data)
                     + embedding_cases(data, args.budget))
            wanted = [c for c in cases
                      if (not args.method or any(m.lower() in c.method.lower()
                                                 for m in args.method))
                      and (not args.library or c.library == "albench"
                           or any(name in c.library for name in args.library))]
            reference: dict[str, float] = {}
            for case in wanted:
                seconds, peak = measure(case)
                if case.library == "albench":
                    reference[case.method] = seconds
                ratio = seconds / reference[case.method] if case.method in reference else None
                print(f"| {case.method} | {pool // 1000}k | {case.library} | {seconds:.3f} "
                      f"| {'' if ratio is None else f'{ratio:.1f}'} | {peak:.0f} |",
                      flush=True)


if __name__ == "__main__":
    main()
