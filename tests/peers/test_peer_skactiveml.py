"""albench's strategies against scikit-activeml 1.0.1's.

Uncertainty and committee scores are compared to a tolerance, deterministic selections
(greedy core-set, TypiClust under the same k-means seed) index for index, and BADGE's D²
sampling by its distribution over seeds. scikit-activeml breaks ties at random
(``rand_argmax``); albench by lower index. Both use natural logarithms.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch

for _package in ("albench_bald", "albench_coreset", "albench_ebal", "albench_gradient",
                 "albench_typical"):
    pytest.importorskip(_package,
                        reason="a plugin package under plugins/ that this test compares "
                               "is not installed")
from albench_bald.scores import variation_ratios
from albench_coreset.kcenter import greedy_k_center
from albench_ebal.scores import ensemble_variation_ratios, vote_entropy
from albench_gradient.badge import gradient_factors, kmeans_pp_seeds
from albench_typical.typiclust import TypiClust, cluster, typicality
from scipy import stats

from albench.builtin.strategies import least_confidence, smallest_margin
from albench.scoring import entropy, top_k
from albench.testing.toy import logistic_context

skactiveml = pytest.importorskip(
    "skactiveml.pool", reason="scikit-activeml not installed: the `peers` extra "
                              "(CONTRIBUTING.md)")
from skactiveml.classifier import SklearnClassifier
from skactiveml.pool import Badge, k_greedy_center, uncertainty_scores
from skactiveml.pool import TypiClust as PeerTypiClust
from skactiveml.pool import variation_ratios as peer_variation_ratios
from skactiveml.pool import vote_entropy as peer_vote_entropy
from skactiveml.utils import simple_batch
from sklearn.linear_model import LogisticRegression

TOLERANCE = 1e-12
"""Absolute tolerance on scores of at most a few nats: both compute in float64."""


def test_uncertainty_scores_and_batches_match(probs):
    """Least confidence is the same number; margin is ``1 - (p1 - p2)`` there and
    ``-(p1 - p2)`` in albench, so it differs by the constant 1."""
    pairs = [("least_confident", least_confidence(probs)),
             ("margin_sampling", 1.0 + smallest_margin(probs)),
             ("entropy", entropy(probs))]
    for method, ours in pairs:
        peer = uncertainty_scores(probs, method=method)
        np.testing.assert_allclose(ours, peer, rtol=0, atol=TOLERANCE, err_msg=method)
        peer_batch = simple_batch(peer, random_state=0, batch_size=50)
        np.testing.assert_array_equal(top_k(ours, np.arange(len(ours)), 50), peer_batch)


def test_entropy_with_zero_probabilities(probs):
    """0·log 0 counts as 0 in both (scikit-activeml takes ``nansum`` over ``0·(-inf)``)."""
    sparse = probs.copy()
    sparse[::3, :4] = 0.0
    sparse /= sparse.sum(1, keepdims=True)
    peer = uncertainty_scores(sparse, method="entropy")
    np.testing.assert_allclose(entropy(sparse), peer, rtol=0, atol=TOLERANCE)


def test_committee_scores_match(mc_probs):
    """scikit-activeml scores hard votes ``(n, members)``; albench takes the members'
    probabilities and votes by their argmax. Both MC variation ratios and the ensembles'
    agree with it."""
    committee = mc_probs[:7]
    votes = committee.argmax(axis=2).T
    classes = np.arange(committee.shape[2])
    np.testing.assert_allclose(vote_entropy(committee), peer_vote_entropy(votes, classes),
                               rtol=0, atol=TOLERANCE)
    peer_ratios = peer_variation_ratios(votes)
    np.testing.assert_allclose(ensemble_variation_ratios(committee), peer_ratios,
                               rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(variation_ratios(committee), peer_ratios, rtol=0, atol=TOLERANCE)
    assert len(np.unique(peer_ratios)) > 3  # the votes disagree in several ways


@pytest.mark.parametrize("labeled", [30, 0])
def test_greedy_core_set_matches_index_for_index(embeddings, labeled):
    """With no labelled points scikit-activeml draws the first centre at random; albench
    takes it as ``first``, so it is passed the peer's."""
    y = np.full(len(embeddings), np.nan)
    y[:labeled] = 0
    peer, _ = k_greedy_center(embeddings, y, batch_size=40, random_state=0)
    pool = torch.from_numpy(embeddings[labeled:])
    first = int(peer[0]) - labeled if labeled == 0 else None
    ours, _ = greedy_k_center(pool, torch.from_numpy(embeddings[:labeled]), 40, first=first)
    np.testing.assert_array_equal(ours + labeled, peer)


def fitted_classifier(x: np.ndarray, labels: np.ndarray, labeled: int, strength: float = 1.0):
    """scikit-activeml's logistic regression (inverse regularisation ``strength``) on the
    first ``labeled`` rows, the labels it sees (NaN for unlabelled) and the same model as
    albench's linear head."""
    y = np.full(len(x), np.nan)
    y[:labeled] = labels[:labeled]
    classifier = SklearnClassifier(LogisticRegression(C=strength), classes=[0, 1, 2]).fit(x, y)
    head = torch.nn.Linear(x.shape[1], 3, dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(classifier.estimator_.coef_))
        head.bias.copy_(torch.from_numpy(classifier.estimator_.intercept_))
    return classifier, y, head


def badge_batches(x, y, classifier, u, h, runs: int, batch: int):
    """Both libraries' BADGE batches for seeds ``0..runs-1`` (rows of ``x``) and the
    peer's D² probabilities for the second seed."""
    unlabeled = np.flatnonzero(np.isnan(y))
    peer, second = [], None
    for seed in range(runs):
        picks, utilities = Badge(random_state=seed).query(
            x, y, classifier, fit_clf=False, batch_size=batch, return_utilities=True)
        peer.append(picks)
        second = utilities[1, unlabeled]
    ours = [unlabeled[kmeans_pp_seeds(u, h, batch, np.random.default_rng(seed))]
            for seed in range(runs)]
    return np.array(ours), np.array(peer), np.nan_to_num(second)


def test_badge_peer_counts_the_origin_as_a_centre(embeddings):
    """Differs on purpose: scikit-activeml starts its D² from the squared norms and keeps
    them in the minimum, so after the first seed ``c`` it samples by
    ``min(|g|², |g - g_c|²)``: the origin acts as a phantom centre, and confident points
    (small gradients) are rarely drawn. BADGE (Ash et al.'s code) and albench sample by
    ``|g - g_c|²``. Both take the largest gradient as the first seed; albench's second
    seed fits ``|g - g_c|²`` (chi-square p > 0.001) and not the peer's distribution."""
    x = embeddings[:70]
    classifier, y, head = fitted_classifier(x, np.argmax(x[:, :3], axis=1), 30)
    unlabeled = np.flatnonzero(np.isnan(y))
    u, h = gradient_factors(x[unlabeled], head)
    np.testing.assert_allclose(u + np.eye(3)[u.argmin(1)],
                               classifier.predict_proba(x[unlabeled]), atol=1e-12)
    ours, peer, peer_second = badge_batches(x, y, classifier, u, h, runs=1000, batch=2)
    assert (ours[:, 0] == ours[0, 0]).all() and (peer[:, 0] == ours[0, 0]).all()

    g = (u[:, :, None] * h[:, None, :]).reshape(len(u), -1)
    first = np.searchsorted(unlabeled, ours[0, 0])
    to_first = np.square(g - g[first]).sum(1)
    with_origin = np.minimum(np.square(g).sum(1), to_first)
    np.testing.assert_allclose(peer_second, with_origin / with_origin.sum(), atol=1e-12)
    observed = np.bincount(np.searchsorted(unlabeled, ours[:, 1]), minlength=len(u))
    assert chi_square_p(observed, to_first) > 1e-3
    assert chi_square_p(observed, with_origin) < 1e-6


def test_badge_d2_sampling_matches_in_distribution():
    """Where the origin is never the nearest centre (every point nearer the first seed
    than 0: one predicted class, embeddings far from 0), the peer samples by BADGE's D²
    too. scikit-activeml draws with ``RandomState.choice``, albench by inverting the
    cumulative D² with a Generator's uniforms, so batches are compared over 1000 seeds:
    albench's second seed against the peer's D² probabilities (chi-square p > 0.001), and
    each point's frequency in the batch (|z| < 4.5 for the two frequencies' difference)."""
    rng = np.random.default_rng(3)
    x = 4.0 + rng.normal(size=(70, 8))
    labels = rng.choice(3, 70, p=[0.6, 0.2, 0.2])
    classifier, y, head = fitted_classifier(x, labels, 30, strength=1e-3)
    unlabeled = np.flatnonzero(np.isnan(y))
    u, h = gradient_factors(x[unlabeled], head)
    runs = 1000
    ours, peer, peer_second = badge_batches(x, y, classifier, u, h, runs=runs, batch=4)
    g = (u[:, :, None] * h[:, None, :]).reshape(len(u), -1)
    first = np.searchsorted(unlabeled, ours[0, 0])
    assert (np.square(g - g[first]).sum(1) <= np.square(g).sum(1)).all()
    assert (peer[:, 0] == ours[0, 0]).all()

    observed = np.bincount(np.searchsorted(unlabeled, ours[:, 1]), minlength=len(u))
    assert chi_square_p(observed, peer_second) > 1e-3
    ours_freq = inclusion_frequency(ours, unlabeled)
    peer_freq = inclusion_frequency(peer, unlabeled)
    pooled = (ours_freq + peer_freq) / 2
    spread = np.sqrt(np.maximum(pooled * (1 - pooled), 1e-12) * 2 / runs)
    assert np.max(np.abs(ours_freq - peer_freq) / spread) < 4.5
    assert peer_second.max() > 2 * np.median(peer_second)  # D² is far from uniform here


def chi_square_p(observed: np.ndarray, weights: np.ndarray) -> float:
    """Goodness of fit of counts to ``weights``, cells with under 5 expected pooled."""
    expected = weights / weights.sum() * observed.sum()
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    keep = exp > 0
    return float(stats.chisquare(obs[keep], exp[keep]).pvalue)


def inclusion_frequency(batches: np.ndarray, points: np.ndarray) -> np.ndarray:
    return (batches[:, :, None] == points).any(axis=1).mean(axis=0)


@pytest.mark.parametrize("seed", range(5))
def test_typiclust_matches_under_the_same_kmeans_seed(embeddings, seed):
    """TypiClust samples only through its k-means seed. albench draws it from the context's
    rng; handed the same seed (and ``n_init=1``, albench's setting up to 50 clusters), the
    peer runs the same KMeans, takes the largest uncovered clusters and in each the most
    typical example (mean distance to its 20 nearest neighbours; the peer's epsilon of 1e-7
    against albench's 1e-12 moves no pick). Differs on purpose: among uncovered clusters of
    equal size at the cut the peer picks at random, albench the lowest cluster ids."""
    labeled, budget, neighbours = 12, 10, 20
    x = embeddings.astype(np.float32)
    context = logistic_context(x, np.zeros((2, x.shape[1])), np.zeros(2), seed=seed)
    mask = np.zeros(len(x), dtype=bool)
    mask[:labeled] = True
    context = replace(context, labeled_idx=np.flatnonzero(mask),
                      unlabeled_idx=np.flatnonzero(~mask))
    kmeans_seed = int(np.random.default_rng(seed).integers(2**31))
    ours = TypiClust(neighbours=neighbours).select(context, budget)
    y = np.full(len(x), np.nan)
    y[:labeled] = 0
    peer = PeerTypiClust(random_state=kmeans_seed, cluster_algo_dict={"n_init": 1},
                         k=neighbours).query(x, y, batch_size=budget)

    labels = cluster(x, labeled + budget, kmeans_seed)
    sizes = np.bincount(labels)
    assert sorted(sizes[labels[ours]]) == sorted(sizes[labels[peer]])
    cut = sizes[labels[ours]].min()
    assert set(ours[sizes[labels[ours]] > cut]) == set(peer[sizes[labels[peer]] > cut])
    for pick in np.concatenate([ours, peer]):
        members = np.flatnonzero(labels == labels[pick])
        assert members[np.argmax(typicality(x[members], neighbours))] == pick
    uncovered_at_cut = np.setdiff1d(np.flatnonzero(sizes == cut), labels[:labeled])
    at_cut = np.sort(labels[ours][sizes[labels[ours]] == cut])
    np.testing.assert_array_equal(at_cut, uncovered_at_cut[:len(at_cut)])
