"""The built-in datasets that need no download: scikit-learn's digits and synthetic blobs."""

from __future__ import annotations

import numpy as np

from albench import hookimpl
from albench.types import Dataset


def digits(test_fraction: float = 0.3, split_seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1797 images), split into pool and test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = bunch.images.astype(np.uint8)[:, None, :, :]  # values 0..16
    labels = bunch.target.astype(np.int64)
    x_pool, x_test, y_pool, y_test = train_test_split(
        images, labels, test_size=test_fraction, random_state=split_seed, stratify=labels)
    return Dataset("digits", x_pool, y_pool, x_test, y_test, num_classes=10,
                   scale=16.0, mean=(0.3,), std=(0.4,), input_range=(0, 16),
                   classes=tuple(str(c) for c in range(10)))


def blobs(n_pool: int = 2000, n_test: int = 1000, centers: int = 4, dim: int = 2,
          cluster_std: float = 1.0, seed: int = 0) -> Dataset:
    """Gaussian blobs: the blog's toy problems, as large as you like."""
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n_pool + n_test, centers=centers, n_features=dim,
                      cluster_std=cluster_std, random_state=seed)
    x = x.astype(np.float32)
    mean, std = x[:n_pool].mean(0), x[:n_pool].std(0) + 1e-8
    x = (x - mean) / std
    return Dataset("blobs", x[:n_pool], y[:n_pool].astype(np.int64), x[n_pool:],
                   y[n_pool:].astype(np.int64), num_classes=centers)


digits.classes = tuple(str(c) for c in range(10))  # readable without loading the data


@hookimpl
def albench_register_datasets(register):
    register("digits", digits, "scikit-learn's 8x8 digits, embedded (works offline)")
    register("blobs", blobs, "synthetic Gaussian blobs (toy problems)")
