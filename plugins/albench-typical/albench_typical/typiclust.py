"""TypiClust (Hacohen, Dekel & Weinshall, 2022): typical examples of uncovered clusters.

Meant for the low-budget regime. The pool is clustered into ``labelled + budget``
clusters; each pick is the most typical unlabelled example of the largest cluster holding
the fewest labelled (or already picked) examples. Typicality is the inverse of the mean
distance to the example's nearest neighbours within its cluster.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans

from albench import QueryContext

DISTANCE_FLOATS = 2**22
"""Pairwise distances held at once when computing typicality (32 MiB of float64)."""
KMEANS_MAX_CLUSTERS = 50
"""Above this many clusters use mini-batch k-means, as the TypiClust authors do."""


def typicality(features: np.ndarray, neighbours: int = 20) -> np.ndarray:
    """``1 / mean distance`` to each row's ``neighbours`` nearest other rows (capped by size)."""
    n = len(features)
    k = min(neighbours, n - 1)
    if k < 1:
        return np.ones(n)
    x = np.asarray(features, dtype=np.float64)
    sq = np.einsum("ij,ij->i", x, x)
    mean_dist = np.empty(n)
    rows = max(1, DISTANCE_FLOATS // n)
    for start in range(0, n, rows):
        block = sq[start:start + rows, None] + sq[None, :] - 2.0 * x[start:start + rows] @ x.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf  # self
        nearest = np.partition(block, k - 1, axis=1)[:, :k]
        mean_dist[start:start + rows] = np.sqrt(np.maximum(nearest, 0.0)).mean(1)
    return 1.0 / (mean_dist + 1e-12)


def cluster(features: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """Cluster labels from k-means (mini-batch k-means for many clusters)."""
    if n_clusters <= KMEANS_MAX_CLUSTERS:
        model = KMeans(n_clusters, n_init=1, random_state=seed)
    else:
        model = MiniBatchKMeans(n_clusters, n_init=1, random_state=seed,
                                batch_size=max(1024, 3 * n_clusters))
    return model.fit_predict(features)


class TypiClust:
    """Pick typical examples from the largest clusters without labels.

    ``representation`` is ``"embedding"`` (the trained model's penultimate layer) or
    ``"raw"`` (the flattened normalised inputs).
    """

    def __init__(self, representation: Literal["embedding", "raw"] = "embedding",
                 neighbours: int = 20):
        if representation not in ("embedding", "raw"):
            raise ValueError(f"typiclust: representation must be 'embedding' or 'raw', "
                             f"got {representation!r}")
        if neighbours < 1:
            raise ValueError(f"typiclust: neighbours must be at least 1, got {neighbours}")
        self.representation = representation
        self.neighbours = neighbours

    def features(self, context: QueryContext) -> np.ndarray:
        everything = np.arange(context.dataset.pool_size)
        if self.representation == "raw":
            return context.pool_inputs(everything).flatten(1).numpy()
        return context.embeddings(everything)

    def select(self, context: QueryContext, budget: int) -> np.ndarray:
        features = self.features(context)
        n_clusters = min(len(context.labeled_idx) + budget, len(features))
        labels = cluster(features, n_clusters, context.draw_seed())
        sizes = np.bincount(labels, minlength=n_clusters)
        covered = np.bincount(labels[context.labeled_idx], minlength=n_clusters)
        free = np.zeros(len(features), dtype=bool)
        free[context.unlabeled_idx] = True
        available = np.bincount(labels[free], minlength=n_clusters)
        members = np.split(np.argsort(labels, kind="stable"), np.cumsum(sizes)[:-1])
        scores: dict[int, np.ndarray] = {}
        picks = np.empty(budget, dtype=np.int64)
        for j in range(budget):
            # fewest covered first, then largest, then lowest cluster id; skip exhausted ones
            order = np.lexsort((np.arange(n_clusters), -sizes, covered, available == 0))
            c = int(order[0])
            if c not in scores:
                scores[c] = typicality(features[members[c]], self.neighbours)
            candidates = free[members[c]]
            best = int(np.argmax(np.where(candidates, scores[c], -np.inf)))
            picks[j] = members[c][best]
            free[picks[j]] = False
            covered[c] += 1
            available[c] -= 1
        return picks

    def selection_order(self, context: QueryContext, budget: int) -> np.ndarray:
        """The batch in the order the clusters are visited (as :meth:`select` returns it)."""
        return self.select(context, budget)
