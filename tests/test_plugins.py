"""The plugin manager: registration, conflicts, broken plugins and plugin selection."""

import importlib.metadata
import json
import sys
import textwrap

import pytest
from click.testing import CliRunner

import albench.plugins
from albench import hookimpl
from albench.cli import main
from albench.plugins import Plugins, UnknownNameError


class Everything:
    """A plugin that implements every hook."""

    @hookimpl
    def albench_register_datasets(self, register):
        register("kit-data", lambda: None, "a dataset")

    @hookimpl
    def albench_register_models(self, register):
        register("kit-model", lambda shape, classes: None, "a model")

    @hookimpl
    def albench_register_strategies(self, register):
        register("kit-strategy", lambda: None, "a strategy")

    @hookimpl
    def albench_register_executors(self, register):
        register("kit-executor", lambda: None, "an executor")


class Registers:
    """A strategy plugin that registers the given names."""

    def __init__(self, *names, factory=lambda: None):
        self.names, self.factory = names, factory

    @hookimpl
    def albench_register_strategies(self, register):
        for name in self.names:
            register(name, self.factory)


@pytest.fixture(autouse=True)
def no_selection(monkeypatch):
    monkeypatch.delenv("ALBENCH_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("ALBENCH_DISABLE_PLUGINS", raising=False)


def test_every_hook_registers_under_the_plugin_name():
    plugins = Plugins(extra_plugins=(("kit", Everything()),), entry_points=False)
    for kind, name in [("datasets", "kit-data"), ("models", "kit-model"),
                       ("strategies", "kit-strategy"), ("executors", "kit-executor")]:
        item = plugins.get(kind, name)
        assert (item.kind, item.plugin) == (kind, "kit")
    info = {i.name: i for i in plugins.info()}["kit"]
    assert info.hooks == ["albench_register_datasets", "albench_register_executors",
                          "albench_register_models", "albench_register_strategies"]
    assert info.registered["strategies"] == ["kit-strategy"]
    assert not info.builtin
    assert info.distribution == "kit"
    builtin = {i.name: i for i in plugins.info()}["albench.builtin.strategies"]
    assert builtin.builtin and builtin.distribution == "albench"


def _skipped(plugins: Plugins) -> dict[str, str]:
    return {error.name: error.error for error in plugins.load_errors}


def test_a_name_registered_by_two_plugins_skips_the_second_naming_both():
    extra = (("first", Registers("same", "mine")), ("second", Registers("same", "theirs")))
    plugins = Plugins(extra_plugins=extra, entry_points=False)
    error = _skipped(plugins)["second"]
    assert "strategy 'same' is registered twice" in error
    assert "'first'" in error and "'second'" in error
    assert plugins.get("strategies", "same").plugin == "first"
    assert "theirs" not in plugins.names("strategies")  # nothing of the skipped plugin stays
    assert "second" not in {info.name for info in plugins.info()}


def test_a_plugin_cannot_take_a_builtin_name():
    plugins = Plugins(extra_plugins=(("mine", Registers("random")),), entry_points=False)
    assert "albench.builtin.strategies" in _skipped(plugins)["mine"]
    assert plugins.get("strategies", "random").plugin == "albench.builtin.strategies"


def test_a_misspelt_hook_skips_the_plugin():
    class Misspelt:
        @hookimpl
        def albench_register_strategy(self, register):
            register("never", lambda: None)

    plugins = Plugins(extra_plugins=(("typo", Misspelt()), ("kit", Everything())),
                      entry_points=False)
    error = _skipped(plugins)["typo"]
    assert "albench_register_strategy" in error
    assert "albench_register_strategies" in error  # the hooks that exist
    assert "kit-strategy" in plugins.names("strategies")


def test_a_hook_with_unknown_arguments_is_skipped():
    class Extra:
        @hookimpl
        def albench_register_strategies(self, register, context):
            pass

    assert "'context'" in _skipped(Plugins(extra_plugins=(("extra", Extra()),),
                                           entry_points=False))["extra"]


def test_a_hook_that_raises_is_skipped_with_what_it_registered():
    class Raises:
        @hookimpl
        def albench_register_models(self, register):
            register("half-model", lambda shape, classes: None)

        @hookimpl
        def albench_register_strategies(self, register):
            raise RuntimeError("no GPU here")

    plugins = Plugins(extra_plugins=(("raises", Raises()), ("kit", Everything())),
                      entry_points=False)
    assert _skipped(plugins)["raises"] == ("its albench_register_strategies hook raised "
                                           "RuntimeError: no GPU here")
    assert "half-model" not in plugins.names("models")
    assert "kit-model" in plugins.names("models")


@pytest.mark.parametrize("name, factory, message", [
    ("", lambda: None, "invalid name"),
    ("  ", lambda: None, "invalid name"),
    ("ok", "not callable", "not callable"),
])
def test_invalid_registrations(name, factory, message):
    plugins = Plugins(extra_plugins=(("bad", Registers(name, factory=factory)),),
                      entry_points=False)
    assert message in _skipped(plugins)["bad"]


def test_albench_plugins_and_run_report_a_broken_plugin_and_the_way_to_skip_it(monkeypatch,
                                                                               tmp_path):
    plugins = Plugins(extra_plugins=(("bad", Registers(" ")),), entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    listing = CliRunner().invoke(main, ["plugins"])
    assert listing.exit_code == 0
    assert "failed to load (skipped):\n  bad  (bad): plugin 'bad' registered" in listing.output
    assert "ALBENCH_DISABLE_PLUGINS=NAME" in listing.output
    run = CliRunner().invoke(main, ["run", "--all", "--suite", "nope", "--results",
                                    str(tmp_path)])
    assert "warning: plugin bad (bad) failed to load and is skipped" in run.output
    assert "ALBENCH_DISABLE_PLUGINS=NAME" in run.output


def test_an_unknown_name_suggests_only_the_closest_names():
    plugins = Plugins(extra_plugins=(("kit", Everything()),), entry_points=False)
    with pytest.raises(UnknownNameError) as error:
        plugins.get("strategies", "entropi")
    assert "unknown strategy 'entropi' (did you mean 'entropy'?)" in str(error.value)
    assert "random" not in str(error.value) and "mix:" not in str(error.value)
    assert "albench list strategies" in str(error.value)


def test_names_differing_in_case_or_underscores_find_the_registered_item():
    plugins = albench.plugins.get_plugins()
    assert plugins.get("strategies", "Entropy").name == "entropy"
    assert plugins.get("strategies", "least_confidence").name == "least-confidence"
    assert plugins.get("datasets", "Digits").name == "digits"


def test_an_unknown_name_names_the_plugins_that_failed_to_load(fake_dists):
    with pytest.raises(UnknownNameError) as error:
        Plugins().get("strategies", "broken-strategy")
    assert ("plugin fakebroken (albench-fake): ModuleNotFoundError: No module named "
            "'albench_no_such_module'") in str(error.value)


def test_run_names_the_plugin_that_failed_to_load_when_a_strategy_is_missing(fake_dists,
                                                                              tmp_path):
    result = CliRunner().invoke(main, ["run", "-s", "broken-strategy", "--results",
                                       str(tmp_path / "results")])
    assert result.exit_code != 0
    assert "unknown strategy 'broken-strategy'" in result.output
    assert ("Plugins that failed to load, which may register it: plugin fakebroken "
            "(albench-fake): ModuleNotFoundError") in result.output
    assert not (tmp_path / "results").exists()


# --- entry points, through fake installed distributions -------------------------------------

def _install(root, dist, entry_points):
    """A fake installed distribution: a dist-info folder (put ``root`` on sys.path)."""
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = "\n".join(f"{name} = {module}" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[albench]\n{lines}\n")


GOOD = """
    from albench import hookimpl

    @hookimpl
    def albench_register_strategies(register):
        register("{name}", lambda: None, "from a fake distribution")
"""


@pytest.fixture
def fake_dists(tmp_path, monkeypatch):
    """albench-fake with plugins fakegood, fakeother, fakebroken; albench-clash reuses
    the name fakegood."""
    modules = {"albench_test_good": GOOD.format(name="fake-strategy"),
               "albench_test_other": GOOD.format(name="other-strategy"),
               "albench_test_clash": GOOD.format(name="clash-strategy"),
               "albench_test_broken": "import albench_no_such_module\n"}
    _install(tmp_path, "albench-fake", {"fakegood": "albench_test_good",
                                        "fakeother": "albench_test_other",
                                        "fakebroken": "albench_test_broken"})
    clash = tmp_path / "clash"
    clash.mkdir()
    _install(clash, "albench-clash", {"fakegood": "albench_test_clash"})
    for module, source in modules.items():
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ALBENCH_LOAD_PLUGINS", "fakegood,fakeother,fakebroken")
    monkeypatch.setattr(albench.plugins, "_default", None)
    return tmp_path


def test_entry_points_load_with_their_distribution(fake_dists):
    plugins = Plugins()
    item = plugins.get("strategies", "fake-strategy")
    assert (item.plugin, item.version) == ("fakegood", "1.2.3")
    info = {i.name: i for i in plugins.info()}["fakegood"]
    assert (info.distribution, info.version) == ("albench-fake", "1.2.3")
    assert "other-strategy" in plugins.names("strategies")


def test_a_plugin_that_fails_to_import_is_a_load_error(fake_dists):
    plugins = Plugins()
    [error] = plugins.load_errors
    assert (error.name, error.distribution) == ("fakebroken", "albench-fake")
    assert "ModuleNotFoundError" in error.error and "albench_no_such_module" in error.error
    assert "fake-strategy" in plugins.names("strategies")


def test_albench_plugins_survives_a_broken_plugin(fake_dists):
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    builtin, rest = result.output.split("third-party:")
    assert builtin.startswith("built-in (albench ")
    assert "albench.builtin.strategies" in builtin and "random" in builtin
    third_party, failed = rest.split("failed to load (skipped):")
    assert "fakegood  (albench-fake 1.2.3)" in third_party
    assert "strategies: fake-strategy" in third_party
    assert "fakebroken  (albench-fake): ModuleNotFoundError" in failed


def test_albench_plugins_json(fake_dists):
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["fakegood"]["builtin"] is False
    assert by_name["fakegood"]["registered"] == {"strategies": ["fake-strategy"]}
    assert by_name["albench.builtin.models"]["builtin"] is True
    assert [e["name"] for e in data["load_errors"]] == ["fakebroken"]


def test_two_distributions_claiming_one_plugin_name(fake_dists, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_dists / "clash"))
    plugins = Plugins()
    errors = [e for e in plugins.load_errors if e.name == "fakegood"]
    assert len(errors) == 1
    loaded = {i.name: i for i in plugins.info()}["fakegood"].distribution
    assert {loaded, errors[0].distribution} == {"albench-fake", "albench-clash"}
    assert f"already taken by {loaded}" in errors[0].error


@pytest.mark.parametrize("load, disable, expected", [
    ("fakegood", None, {"fakegood"}),
    (" fakegood , fakeother ", None, {"fakegood", "fakeother"}),
    ("", None, set()),
    (None, "fakebroken", {"fakegood", "fakeother"}),
    ("fakegood,fakeother", "fakeother", {"fakegood"}),
])
def test_load_and_disable_choose_the_plugins(fake_dists, monkeypatch, load, disable, expected):
    for variable, value in (("ALBENCH_LOAD_PLUGINS", load), ("ALBENCH_DISABLE_PLUGINS", disable)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    if load is None:  # everything installed would load: also disable the real plugins
        installed = importlib.metadata.entry_points(group="albench").names
        monkeypatch.setenv("ALBENCH_DISABLE_PLUGINS", ",".join(
            [disable, *(n for n in installed if not n.startswith("fake"))]))
    plugins = Plugins()
    third_party = {i.name for i in plugins.info() if not i.builtin}
    assert third_party == expected
    assert not plugins.load_errors
    assert "random" in plugins.names("strategies")  # built-ins always load


def test_builtins_cannot_be_disabled_but_extra_plugins_can(monkeypatch):
    monkeypatch.setenv("ALBENCH_DISABLE_PLUGINS", "albench.builtin.strategies,kit")
    plugins = Plugins(extra_plugins=(("kit", Everything()),), entry_points=False)
    assert "random" in plugins.names("strategies")
    assert "kit-strategy" not in plugins.names("strategies")
