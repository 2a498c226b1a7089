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
from albench.plugins import FactoryImportError, Plugins, UnknownNameError


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
    ("ok", 42, "not callable"),
    ("ok", "not a module path", "name it as 'package.module:attr'"),
    ("ok", "module.only", "name it as 'package.module:attr'"),
    ("ok", "bad-module:attr", "name it as 'package.module:attr'"),
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


# --- factories registered lazily, as "package.module:attr" ----------------------------------

LAZY_MODULE = """
    class Stride:
        def __init__(self, step: int = 1):
            self.step = step

    NOT_CALLABLE = 3
"""


@pytest.fixture
def lazy_module(tmp_path, monkeypatch):
    """``albench_test_lazy`` on sys.path, not imported yet."""
    (tmp_path / "albench_test_lazy.py").write_text(textwrap.dedent(LAZY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "albench_test_lazy", raising=False)
    yield "albench_test_lazy"
    sys.modules.pop("albench_test_lazy", None)


def test_a_lazy_factory_is_imported_on_first_use(lazy_module):
    plugins = Plugins(extra_plugins=(("lazy", Registers("stride",
                                                        factory="albench_test_lazy:Stride")),),
                      entry_points=False)
    item = plugins.get("strategies", "stride")
    assert item.lazy and item.target == "albench_test_lazy:Stride"
    assert lazy_module not in sys.modules  # neither loading nor get imports it
    assert item.factory(step=3).step == 3
    assert item.factory is sys.modules[lazy_module].Stride


def test_a_callable_factory_is_not_lazy():
    item = Plugins(entry_points=False).get("strategies", "random")
    assert not item.lazy and item.factory is item.target


@pytest.mark.parametrize("target, message", [
    ("albench_no_such_module:Stride", ("importing its module 'albench_no_such_module' (from "
                                       "'albench_no_such_module:Stride') failed with "
                                       "ModuleNotFoundError")),
    ("albench_test_lazy:Missing", "'albench_test_lazy:Missing' names no attribute 'Missing'"),
    ("albench_test_lazy:Stride.nope", "names no attribute 'nope'"),
    ("albench_test_lazy:NOT_CALLABLE", "is not callable (it is of type int)"),
])
def test_a_broken_lazy_factory_fails_at_use_naming_the_plugin(lazy_module, monkeypatch,
                                                              target, message):
    plugins = Plugins(extra_plugins=(("lazy", Registers("stride", factory=target)),),
                      entry_points=False)
    assert not plugins.load_errors
    item = plugins.get("strategies", "stride")
    with pytest.raises(FactoryImportError) as error:
        item.factory()
    assert "strategy 'stride' (plugin 'lazy', version 0) cannot be loaded" in str(error.value)
    assert message in str(error.value)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    listing = CliRunner().invoke(main, ["list", "strategies"])
    assert listing.exit_code == 0 and "stride" in listing.output
    as_json = CliRunner().invoke(main, ["list", "--json"])
    assert as_json.exit_code == 0 and '"stride"' in as_json.output


def test_albench_plugins_check_reports_a_broken_lazy_factory(lazy_module, monkeypatch):
    plugins = Plugins(extra_plugins=(("lazy", Registers("stride", "fine", factory=
                                                        "albench_test_lazy:Missing")),),
                      entry_points=False)
    monkeypatch.setattr(albench.plugins, "_default", plugins)
    assert CliRunner().invoke(main, ["plugins"]).exit_code == 0  # no check: no import
    result = CliRunner().invoke(main, ["plugins", "--check"])
    assert result.exit_code == 1
    assert "factories that cannot be imported:\n  strategy 'fine' (plugin 'lazy'" in \
        result.output
    assert "strategy 'stride' (plugin 'lazy'" in result.output
    data = json.loads(CliRunner().invoke(main, ["plugins", "--json", "--check"]).output)
    assert [(e["name"], e["factory"]) for e in data["factory_errors"]] == [
        ("fine", "albench_test_lazy:Missing"), ("stride", "albench_test_lazy:Missing")]


def test_a_parametrised_name_resolves_its_lazy_factory_at_use():
    plugins = Plugins(entry_points=False)
    assert plugins.get("strategies", "mix:").lazy
    mixed = plugins.get("strategies", "mix:random+entropy").factory()
    assert (mixed.first_name, mixed.second_name) == ("random", "entropy")


def test_every_installed_lazy_factory_imports():
    plugins = Plugins()
    assert plugins.check_factories() == []
