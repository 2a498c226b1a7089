"""``albench new-plugin``: a ready-to-publish plugin package with a working example.

The ``*.tmpl`` files beside this module are the package's files, with ``${name}``-style
placeholders (:class:`string.Template`).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from albench import __version__
from albench.errors import AlbenchError

REGISTRIES = {"strategy": "strategies", "dataset": "datasets", "model": "models"}
"""Each kind of plugin the template makes, and the registry its example goes into."""
KINDS = tuple(REGISTRIES)
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

_SUMMARIES = {
    "strategy": "softmax entropy sampling, a stochastic uncertainty strategy",
    "dataset": "the wine recognition data as an active-learning pool",
    "model": "a small fully connected network with batch norm and dropout",
}


class TemplateError(AlbenchError, ValueError):
    """A plugin name, kind or target directory that cannot be used."""


def new_plugin(name: str, kind: str = "strategy", directory: str | Path = ".") -> Path:
    """Write the package ``albench-<name>/`` under ``directory`` and return its path.

    The package registers one ``kind`` named ``name`` through the ``albench`` entry point,
    and its tests run albench's conformance suite.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise TemplateError(f"plugin name {name!r} must be lowercase letters and digits, "
                            f"words joined by single hyphens, starting with a letter "
                            f"(e.g. 'my-strategy')")
    if kind not in KINDS:
        raise TemplateError(f"unknown plugin kind {kind!r}; choose one of {', '.join(KINDS)}")
    dist = f"albench-{name}"
    target = Path(directory) / dist
    if target.exists():
        raise TemplateError(f"{target} already exists; choose another name or --dir")
    module = "albench_" + name.replace("-", "_")
    values = {"name": name, "dist": dist, "module": module, "summary": _SUMMARIES[kind],
              "albench_version": __version__, "albench_next_minor": _next_minor(__version__)}
    files = {
        "pyproject.toml": "common/pyproject.toml.tmpl",
        "README.md": f"{kind}/README.md.tmpl",
        f"{module}/__init__.py": f"{kind}/register.py.tmpl",
        f"{module}/{kind}.py": f"{kind}/module.py.tmpl",
        f"tests/test_{module}.py": f"{kind}/test.py.tmpl",
    }
    templates = resources.files("albench.template")
    for relative, source in files.items():
        text = Template(templates.joinpath(source).read_text(encoding="utf-8"))
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.substitute(values), encoding="utf-8")
    return target


def _next_minor(version: str) -> str:
    """``0.1.3`` -> ``0.2``: the first release a plugin written against ``version`` excludes."""
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"
