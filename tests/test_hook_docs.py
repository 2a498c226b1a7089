"""CONTRIBUTING.md stays true to the code: hooks, commands, checks and fixtures."""

import inspect
import re
import shlex
from pathlib import Path

import pytest

from albench import hookspecs
from albench.cli import main
from albench.testing import check_dataset, check_model, check_strategy, pytest_plugin

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
HOOKS = sorted(name for name, value in vars(hookspecs).items()
               if callable(value) and hasattr(value, "albench_spec"))


def test_there_are_hooks_to_document():
    assert "albench_register_strategies" in HOOKS and len(HOOKS) >= 4


def test_every_hook_has_a_reference_section_and_no_other_hook_does():
    documented = re.findall(r"^### `(albench_\w+)\(register\)`$", GUIDE, flags=re.MULTILINE)
    assert sorted(documented) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    test_files = [*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("plugins/*/tests/**/test_*.py")]
    using = [p for p in test_files
             if p.name != Path(__file__).name and hook in p.read_text(encoding="utf-8")]
    assert using, f"no test under tests/ or plugins/*/tests/ mentions {hook}"


def _commands() -> list[list[str]]:
    """Every ``albench ...`` command line in the guide's code blocks and inline code."""
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE, flags=re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    lines += [" ".join(span.split()) for span in re.findall(r"`(albench [^`]+)`", GUIDE)]
    commands = []
    for line in lines:
        words = shlex.split(line.split("#")[0])
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # environment assignments
            words = words[1:]
        if words and words[0] == "albench":
            commands.append(words[1:])
    return commands


def test_the_guide_shows_commands():
    names = {words[0] for words in _commands()}
    assert {"new-plugin", "plugins", "run", "leaderboard", "list"} <= names


@pytest.mark.parametrize("words", _commands(), ids=" ".join)
def test_every_documented_command_and_option_exists(words):
    command = main.commands.get(words[0])
    assert command is not None, f"albench {words[0]} does not exist"
    options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    for word in words[1:]:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"albench {words[0]} has no option {word}"


def _documented_signature(function) -> str:
    parts = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{parameter.name}")
        elif parameter.default is parameter.empty:
            parts.append(parameter.name)
        elif isinstance(parameter.default, str):
            parts.append(f'{parameter.name}="{parameter.default}"')
        else:
            parts.append(f"{parameter.name}={parameter.default!r}")
    return f"{function.__name__}({', '.join(parts)})"


@pytest.mark.parametrize("check", [check_strategy, check_dataset, check_model])
def test_every_check_is_documented_with_its_signature(check):
    assert f"`{_documented_signature(check)}`" in " ".join(GUIDE.split())


def test_every_fixture_is_documented():
    fixtures = [name for name, value in vars(pytest_plugin).items()
                if name.startswith("albench_") and callable(value)]
    assert len(fixtures) >= 4
    for name in fixtures:
        assert f"`{name}`" in GUIDE, name


def test_the_plugin_selection_variables_exist():
    source = (ROOT / "albench" / "plugins.py").read_text(encoding="utf-8")
    for variable in ("ALBENCH_LOAD_PLUGINS", "ALBENCH_DISABLE_PLUGINS"):
        assert variable in GUIDE and f'"{variable}"' in source
