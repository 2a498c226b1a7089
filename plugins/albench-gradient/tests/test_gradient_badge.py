"""BADGE: conformance, the factorised distances, diversity and high-gradient picks."""

import numpy as np
import torch
from albench_gradient.badge import Badge, gradient_factors, kmeans_pp_seeds, kmeans_pp_seeds_dense

from albench import QueryContext
from albench.scoring import entropy, top_k
from albench.testing import logistic_context, parametrize_with_checks, strategy_checks, toy_context


def explicit_gradients(context: QueryContext) -> np.ndarray:
    """The gradient embeddings built outright: ``(p - e_yhat) ⊗ h``, ``(n, C * d)``."""
    h = context.embeddings(context.unlabeled_idx).astype(np.float64)
    p = context.predict_proba(context.unlabeled_idx).astype(np.float64)
    p[np.arange(len(p)), p.argmax(1)] -= 1
    return (p[:, :, None] * h[:, None, :]).reshape(len(h), -1)


def reference_kmeans_pp(g: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """Textbook k-means++ seeding on explicit vectors, first seed of largest norm."""
    chosen = [int(np.argmax((g ** 2).sum(1)))]
    for _ in range(k - 1):
        d2 = np.min([((g - g[c]) ** 2).sum(1) for c in chosen], axis=0)
        d2[chosen] = 0
        chosen.append(int(rng.choice(len(g), p=d2 / d2.sum())))
    return chosen


@parametrize_with_checks(strategy_checks(Badge, name="badge"))
def test_badge_conforms(check):
    check()


def test_factorised_seeding_matches_explicit_gradient_embeddings():
    context = toy_context()
    g = explicit_gradients(context)
    u, h = gradient_factors(context.embeddings(context.unlabeled_idx), context.model.head)
    np.testing.assert_allclose((u[:, :, None] * h[:, None, :]).reshape(len(u), -1), g,
                               rtol=1e-5, atol=1e-6)
    fast = kmeans_pp_seeds(u, h, 12, np.random.default_rng(3))
    slow = reference_kmeans_pp(g, 12, np.random.default_rng(3))
    assert list(fast) == slow


def test_the_gpu_seeding_picks_the_same_seeds_as_the_pruned_one():
    # Run on CPU tensors here; on a GPU the same code queues every step without syncing.
    rng = np.random.default_rng(0)
    u = rng.normal(size=(300, 4))
    h = np.repeat(rng.normal(size=(60, 6)), 5, axis=0)  # coincident rows: pruning matters
    for seed in range(3):
        pruned = kmeans_pp_seeds(u, h, 40, np.random.default_rng(seed))
        dense = kmeans_pp_seeds_dense(torch.as_tensor(u), torch.as_tensor(h), 40,
                                      np.random.default_rng(seed))
        assert list(dense) == list(pruned)
    # Fewer distinct embeddings than seeds: both fall back to untaken rows, alike.
    # h's norms are 1, 2 and 5: every distance is exact, so no rounding residue (which numpy's
    # and torch's products leave differently) decides a draw
    u, h = np.ones((12, 2)), np.repeat([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]], 4, axis=0)
    pruned = kmeans_pp_seeds(u, h, 9, np.random.default_rng(5))
    dense = kmeans_pp_seeds_dense(torch.as_tensor(u), torch.as_tensor(h), 9,
                                  np.random.default_rng(5))
    assert list(dense) == list(pruned) and len(set(pruned.tolist())) == 9


def test_badge_picks_one_example_per_group_and_the_largest_gradient():
    # Four groups of near-duplicates near the boundary x0 = 0.5 of a two-class model,
    # plus a confident point far from it. Group 3 lies farthest out: the largest gradients.
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 2.0], [0.0, -2.0], [1.0, 3.0], [0.2, 6.0]])
    groups = np.repeat(np.arange(4), 100)
    x = centres[groups] + rng.normal(scale=1e-3, size=(len(groups), 2))
    confident = np.array([[8.0, 1.0]])
    context = logistic_context(np.vstack([x, confident]), weight=[[-1, 0], [1, 0]],
                               bias=[0.5, -0.5])
    probs = context.predict_proba(context.unlabeled_idx)
    by_entropy = top_k(entropy(probs), context.unlabeled_idx, 4)
    assert len(set(groups[by_entropy])) < 4  # plain uncertainty piles into one group
    g_norms = (explicit_gradients(context) ** 2).sum(1)
    for seed in range(5):
        context.rng = np.random.default_rng(seed)
        picked = Badge().select(context, 4)
        assert picked[0] == np.argmax(g_norms)
        assert (picked < len(groups)).all(), "picked a confident point before a group"
        assert sorted(groups[picked]) == [0, 1, 2, 3]


def test_badge_takes_coincident_points_once_distinct_ones_run_out():
    x = np.repeat([[0.0, 1.0], [0.0, -1.0]], 5, axis=0) + [0.3, 0.0]
    context = logistic_context(x, weight=[[-1, 0], [1, 0]], bias=[0, 0])
    picked = Badge().select(context, 7)
    assert len(set(picked.tolist())) == 7
    assert {0, 1} <= set((picked // 5).tolist())
