"""The package metadata is ready to publish and agrees with the code and the scaffold."""

import tomllib
from pathlib import Path

import albench
from albench.template import new_plugin

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_version_is_the_same_in_pyproject_and_the_package():
    assert PROJECT["version"] == albench.__version__


def test_the_metadata_an_index_shows_is_filled_in():
    for key in ("description", "readme", "license", "authors", "keywords", "classifiers"):
        assert PROJECT[key], key
    assert f"License :: OSI Approved :: {PROJECT['license']['text']} License" in \
        PROJECT["classifiers"]
    assert (ROOT / "LICENSE").read_text().startswith(f"{PROJECT['license']['text']} License")
    python = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {python}" in PROJECT["classifiers"]


def test_a_new_plugin_depends_on_this_minor_series_of_albench(tmp_path):
    major, minor = (int(part) for part in albench.__version__.split(".")[:2])
    plugin = new_plugin("my-strategy", "strategy", tmp_path)
    dependencies = tomllib.loads((plugin / "pyproject.toml").read_text())["project"][
        "dependencies"]
    assert dependencies == [f"albench>={albench.__version__},<{major}.{minor + 1}"]
