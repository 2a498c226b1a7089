"""Every error albench raises on purpose derives from AlbenchError; the CLI reports them."""

import importlib
import inspect
import pkgutil

import albench
from albench.errors import AlbenchError

SKIP = {"albench.testing.pytest_plugin"}


def _albench_modules():
    for info in pkgutil.walk_packages(albench.__path__, "albench."):
        if info.name not in SKIP and ".template." not in info.name:
            yield importlib.import_module(info.name)


def test_every_albench_exception_derives_from_albench_error():
    strays = sorted({f"{obj.__module__}.{obj.__name__}"
                     for module in _albench_modules() for obj in vars(module).values()
                     if inspect.isclass(obj) and issubclass(obj, BaseException)
                     and obj.__module__.startswith("albench")
                     and not issubclass(obj, AlbenchError)})
    assert not strays, f"exceptions without AlbenchError as a base: {strays}"
