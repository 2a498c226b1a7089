"""pytest fixtures for plugin tests, loaded automatically once albench is installed.

albench registers this module under the ``pytest11`` entry point, so every test session
can ask for these fixtures without importing anything.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def albench_toy_dataset():
    """Three well-separated Gaussian classes in 4-d: 120 pool and 60 test examples."""
    from albench.testing import toy_dataset

    return toy_dataset()


@pytest.fixture
def albench_toy_image_dataset():
    """The toy classes as 1×8×8 ``uint8`` images (for CNNs such as ``lenet``)."""
    from albench.testing import toy_dataset

    return toy_dataset(images=True)


@pytest.fixture
def albench_toy_context(albench_toy_dataset):
    """A query context: an MLP trained on 12 labelled examples of the toy dataset.

    Each test gets its own model and ``rng`` (seed 0); the trained weights are cached.
    """
    from albench.testing import toy_context

    return toy_context(albench_toy_dataset)


@pytest.fixture
def albench_toy_image_context(albench_toy_image_dataset):
    """A query context: a LeNet trained on 12 labelled toy images."""
    from albench.testing import toy_context

    return toy_context(albench_toy_image_dataset, model="lenet")


@pytest.fixture
def albench_plugins():
    """The installed plugins, freshly loaded (honours ``ALBENCH_LOAD_PLUGINS`` and
    ``ALBENCH_DISABLE_PLUGINS``)."""
    from albench.plugins import Plugins

    return Plugins()
