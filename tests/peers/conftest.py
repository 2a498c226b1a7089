"""Inputs shared by the differential tests against peer libraries (the ``peers`` extra)."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _restore_global_numpy_random_state():
    """baal ranks through ``np.random.rand`` (its deprecated shuffle, even at proportion 0);
    leave the global generator as the peer found it for the tests that run after."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@pytest.fixture
def mc_probs() -> np.ndarray:
    """MC-dropout-like probabilities ``(passes=20, n=400, classes=10)`` in float64: each
    example has its own logits and confidence, and each pass adds noise of its own size."""
    rng = np.random.default_rng(26)
    base = rng.normal(size=(1, 400, 10)) * rng.uniform(0.5, 4.0, size=(1, 400, 1))
    noise = rng.normal(size=(20, 400, 10)) * rng.uniform(0.1, 2.0, size=(1, 400, 1))
    return softmax(base + noise)


@pytest.fixture
def probs(mc_probs) -> np.ndarray:
    """One pass's class probabilities ``(n=400, classes=10)``."""
    return mc_probs[0]


@pytest.fixture
def embeddings() -> np.ndarray:
    """Pool embeddings ``(n=300, d=8)`` in 5 blobs of different sizes and spreads."""
    rng = np.random.default_rng(7)
    sizes = [110, 80, 50, 40, 20]
    centres = rng.normal(scale=6.0, size=(len(sizes), 8))
    blobs = [c + rng.normal(scale=s, size=(m, 8))
             for c, m, s in zip(centres, sizes, [1.0, 0.7, 1.3, 0.5, 0.9])]
    return rng.permutation(np.concatenate(blobs))
