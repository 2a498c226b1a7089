"""Plugins and the plugin template import albench only through its public surface."""

import ast
import re
from pathlib import Path

import albench

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = {"albench", "albench.scoring", "albench.mc_dropout", "albench.testing",
          "albench.testing.bench", "albench.executors", "albench.results"}
"""What any plugin may import (executors and results: the executor plugins' contract)."""
TESTS_ALSO = {"albench.spec", "albench.runner"}
"""What a plugin's own tests may import besides: a suite and the runner, to drive a run."""
_FROM = re.compile(r"^\s*from (albench(?:\.[\w.]+)?) import", re.MULTILINE)


def _imported_modules(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":  # a template: placeholders make it unparsable
        return set(_FROM.findall(text))
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "albench" or name.startswith("albench.")}


def _sources() -> list[Path]:
    return sorted([*(ROOT / "plugins").rglob("*.py"),
                   *(ROOT / "albench" / "template").rglob("*.py.tmpl")])


def test_plugins_and_the_template_import_only_the_public_surface():
    outside = []
    for path in _sources():
        allowed = PUBLIC | (TESTS_ALSO if "tests" in path.parts else set())
        outside += [f"{path.relative_to(ROOT)}: {name}"
                    for name in sorted(_imported_modules(path) - allowed)]
    assert not outside, ("imports outside albench's public surface (see CONTRIBUTING, "
                         "'The public surface'):\n" + "\n".join(outside))


def test_the_scan_finds_plugin_sources():
    assert len(_sources()) > 20


def test_the_top_level_names_plugin_authors_need():
    for name in ("hookimpl", "Dataset", "QueryContext", "Strategy", "ALModel"):
        assert name in albench.__all__ and hasattr(albench, name)
