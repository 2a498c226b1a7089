"""TypiClust: conformance, typicality, and picks from distinct uncovered clusters."""

import numpy as np
import pytest
from albench_typical.typiclust import TypiClust, typicality
from torch import nn

from albench import Dataset, QueryContext
from albench.testing import check_strategy, model_context, parametrize_with_checks, strategy_checks


class Identity(nn.Module):
    """A 'model' whose embedding is the input itself."""

    def __init__(self, dim, num_classes):
        super().__init__()
        self.head = nn.Linear(dim, num_classes)

    def embed(self, x):
        return x.flatten(1)

    def forward(self, x):
        return self.head(self.embed(x))


def blob_context(x, labeled_idx, seed=0) -> QueryContext:
    x = np.asarray(x, dtype=np.float32)
    zeros = np.zeros(len(x), dtype=np.int64)
    dataset = Dataset("blobs", x, zeros, x, zeros, num_classes=2)
    return model_context(dataset, Identity(x.shape[1], 2), labeled_idx, seed)


@parametrize_with_checks(strategy_checks(TypiClust, name="typiclust"))
def test_typiclust_conforms(check):
    check()


def test_typiclust_conforms_on_raw_inputs():
    check_strategy(TypiClust, name="typiclust", representation="raw")


def test_typicality_is_highest_in_the_dense_middle():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    scores = typicality(x, neighbours=20)
    centre_dist = np.linalg.norm(x, axis=1)
    assert centre_dist[np.argmax(scores)] < np.quantile(centre_dist, 0.1)
    assert centre_dist[np.argmin(scores)] > np.quantile(centre_dist, 0.9)


def test_typicality_of_tiny_clusters():
    assert typicality(np.zeros((1, 3))).shape == (1,)
    np.testing.assert_allclose(typicality(np.array([[0.0], [2.0]]), neighbours=20), [0.5, 0.5])


def test_picks_the_typical_points_of_the_largest_uncovered_clusters():
    # Five far-apart blobs of distinct sizes; blob 0 (the largest) already has labels.
    rng = np.random.default_rng(1)
    sizes = [90, 70, 60, 50, 40]
    blob = np.repeat(np.arange(5), sizes)
    centres = np.array([[0, 0], [30, 0], [0, 30], [30, 30], [60, 60]], dtype=float)
    x = centres[blob] + rng.normal(size=(len(blob), 2))
    labeled = np.flatnonzero(blob == 0)[:2]
    for seed in range(3):
        context = blob_context(x, labeled, seed)
        picked = TypiClust().select(context, 3)  # 2 labelled + 3 -> five clusters
        assert list(blob[picked]) == [1, 2, 3]  # uncovered, largest first
        for p in picked:
            members = np.flatnonzero(blob == blob[p])
            assert p == members[np.argmax(typicality(x[members]))]


def test_covers_every_cluster_and_can_drain_the_pool():
    rng = np.random.default_rng(2)
    blob = np.repeat(np.arange(3), [30, 20, 10])
    x = np.array([[0, 0], [20, 0], [0, 20]], dtype=float)[blob] + rng.normal(size=(60, 2))
    context = blob_context(x, labeled_idx=[])
    picked = TypiClust().select(context, 3)
    assert sorted(blob[picked]) == [0, 1, 2]
    # a budget of the whole pool takes every example
    assert sorted(TypiClust().select(context, 60)) == list(range(60))


@pytest.mark.parametrize("options", [{"representation": "pixels"}, {"neighbours": 0}])
def test_typiclust_rejects_bad_options(options):
    with pytest.raises(ValueError, match="typiclust"):
        TypiClust(**options)
