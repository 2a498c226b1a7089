"""Help texts and machine-readable listings."""

import json

from click.testing import CliRunner

from albench.cli import main


def test_help_lists_whole_command_summaries_without_cutting_them():
    result = CliRunner().invoke(main, ["-h"])
    assert result.exit_code == 0
    assert "..." not in result.output.split("Commands:")[1]
    merge = " ".join(result.output.split("merge", 1)[1].split("new-plugin")[0].split())
    assert merge == ("Copy runs from other results stores (directories, .sqlite files or "
                     "folders of JSON record files) into this one.")


def test_every_command_accepts_h():
    for command in main.commands:
        result = CliRunner().invoke(main, [command, "-h"])
        assert result.exit_code == 0 and "Usage: main " + command in result.output, command


def test_list_json_gives_names_descriptions_and_plugins():
    result = CliRunner().invoke(main, ["list", "--json"])
    listing = json.loads(result.output)
    assert set(listing) == {"datasets", "models", "strategies", "executors", "suites"}
    random = next(item for item in listing["strategies"] if item["name"] == "random")
    assert random["plugin"] == "albench.builtin.strategies" and random["description"]
    assert "quick" in [item["name"] for item in listing["suites"]]
    assert list(json.loads(CliRunner().invoke(main, ["list", "models", "--json"]).output)) == \
        ["models"]

