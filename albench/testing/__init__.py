"""The plugin authors' kit: conformance checks and tiny real pools, for plugin tests.

``check_strategy``, ``check_dataset`` and ``check_model`` work in the manner of
scikit-learn's ``check_estimator``: each runs every check and raises one ``AssertionError``
naming what broke; ``check_executor`` holds an executor to the in-process executor's records.
``strategy_checks`` (and the dataset, model and executor ones) with
``parametrize_with_checks`` make each check its own pytest item, known limitations marked.
``toy_dataset`` and ``toy_context`` build small real pools and query contexts;
``albench.testing.pytest_plugin`` offers them as pytest fixtures; ``write_tiny_suite``
writes a suite file whose runs take seconds. ``Plugins`` and
``get_plugins`` show what the installed plugins registered.

Names are imported on first use, so that pytest can load the fixtures without torch.
"""

from importlib import import_module

_EXPORTS = {
    "check_dataset": "albench.testing.checks",
    "check_executor": "albench.testing.executors",
    "check_model": "albench.testing.checks",
    "check_strategy": "albench.testing.checks",
    "dataset_checks": "albench.testing.checks",
    "executor_checks": "albench.testing.executors",
    "model_checks": "albench.testing.checks",
    "parametrize_with_checks": "albench.testing.checks",
    "run_checks": "albench.testing.checks",
    "strategy_checks": "albench.testing.checks",
    "Check": "albench.testing.checks",
    "FixedLogistic": "albench.testing.toy",
    "Plugins": "albench.plugins",
    "get_plugins": "albench.plugins",
    "logistic_context": "albench.testing.toy",
    "model_context": "albench.testing.toy",
    "toy_context": "albench.testing.toy",
    "toy_dataset": "albench.testing.toy",
    "write_tiny_suite": "albench.testing.suites",
}

__all__ = [
    "Check",
    "FixedLogistic",
    "Plugins",
    "check_dataset",
    "check_executor",
    "check_model",
    "check_strategy",
    "dataset_checks",
    "executor_checks",
    "get_plugins",
    "logistic_context",
    "model_checks",
    "model_context",
    "parametrize_with_checks",
    "run_checks",
    "strategy_checks",
    "toy_context",
    "toy_dataset",
    "write_tiny_suite",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'albench.testing' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
