"""The committed leaderboards: every run record file is valid and named after its run, and
every table is what the records generate."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from albench.record_files import RecordFolder, record_text
from albench.report import write_leaderboard
from albench.results import parse_record

LEADERBOARDS = Path(__file__).resolve().parent.parent / "leaderboards"
RESULTS = LEADERBOARDS / "results"
PENDING = LEADERBOARDS / "pending"
"""Runs of the boards' next version, committed while they are computed (not on a board)."""
FILES = sorted(RESULTS.glob("*/*.json"))
BOARDS = sorted(p for p in LEADERBOARDS.glob("*.md") if p.name != "README.md")

pytestmark = pytest.mark.skipif(not FILES, reason="no committed run records")


def test_every_record_file_parses_and_is_named_after_its_run():
    assert not list(LEADERBOARDS.glob("*/*.sqlite")), (
        "commit JSON files (`albench export`), not SQLite")
    ids = set()
    files = FILES + sorted(PENDING.glob("*/*.json"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        record = parse_record(text, str(path))  # validates the record
        assert path.stem == record.run_id == record.spec.run_id, path
        assert path.parent.name == record.spec.suite, path
        assert text == record_text(record), f"{path} is not in canonical form"
        json.loads(text)
        ids.add((path.parent.parent.name, record.run_id))
    assert len(ids) == len(files)


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.stem)
def test_committed_markdown_matches_the_records(board, tmp_path):
    regenerated = write_leaderboard(RecordFolder(RESULTS), board.stem, tmp_path)
    assert regenerated.read_text() == board.read_text(), (
        f"{board.name} is out of date: run `albench leaderboard --results leaderboards/results "
        f"--out leaderboards --csv`")


NOT_YET_RECOMPUTED = {"fmnist-b1000", "fmnist-gpu-b100"}
"""Boards whose records predate their suite's current version (each board says so).
``fmnist-gpu-b100`` needs a GPU; ``fmnist-b1000`` is being recomputed in
``leaderboards/pending``."""


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.stem)
def test_every_current_board_has_every_run_its_suite_plans(board):
    """A board made by its suite's current version has, for every installed strategy, a
    complete run for every seed the suite gives it (10, or 5 for the expensive ones)."""
    from albench.plugins import get_plugins
    from albench.spec import load_suite

    suite = load_suite(board.stem)
    records = [r for r in RecordFolder(RESULTS).records() if r.spec.suite == suite.name]
    versions = {r.spec.suite_version for r in records}
    if board.stem in NOT_YET_RECOMPUTED:
        assert versions and max(versions) < suite.version, (
            f"{board.stem} is at version {suite.version} now: drop it from NOT_YET_RECOMPUTED")
        return
    assert versions == {suite.version}, f"{board.stem} mixes suite versions {versions}"
    strategies = suite.strategy_names(get_plugins().names("strategies"))
    planned = {(s.strategy, s.seed) for s in suite.run_specs(strategies)}
    complete = {(r.spec.strategy, r.spec.seed) for r in records if r.status == "complete"}
    assert sorted(planned - complete) == [], f"{board.stem} lacks these runs"


def test_committed_findings_report_matches_the_records():
    from albench.report import load_board
    from albench.report.findings import (
        check_findings,
        load_comparisons,
        read_baseline,
        render_findings,
    )

    folder = RecordFolder(RESULTS)
    suites = sorted({record.spec.suite for record in folder.records()})
    boards = {suite: load_board(folder, suite) for suite in suites}
    comparisons = load_comparisons(LEADERBOARDS / "comparisons")
    expected = render_findings(boards, comparisons,
                               read_baseline(LEADERBOARDS / "findings-v1.json"))
    fix = ("run `albench leaderboard --results leaderboards/results --out leaderboards --csv "
           "--findings --baseline leaderboards/findings-v1.json`")
    assert (LEADERBOARDS / "README.md").read_text() == expected, f"README.md is stale: {fix}"
    committed = json.loads((LEADERBOARDS / "findings.json").read_text())
    assert [(v["setting"], v["subject"], v["verdict"]) for v in committed["verdicts"]] == [
        (c.setting, c.subject, c.verdict) for f in check_findings(boards, comparisons)
        for c in f.checks], f"findings.json is stale: {fix}"


def test_the_readmes_cost_of_the_main_job_is_what_the_records_say():
    """The README's figures for `quick` come from ``benchmarks/board_cost.py``."""
    root = LEADERBOARDS.parent
    out = subprocess.run([sys.executable, "-m", "benchmarks.board_cost", str(RESULTS),
                          "--suite", "quick", "--workers", "2", "--top", "100"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    hours, at_two = re.search(r"quick: \d+ runs, ([\d.]+) device-hours of rounds, ([\d.]+) h",
                              out).groups()
    dal = sum(float(share) for share in re.findall(r"^  dal[\w-]*: ([\d.]+)%", out,
                                                   re.MULTILINE))
    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    assert f"rounds took {float(hours):.1f} CPU-hours" in readme
    assert f"{float(at_two):.1f} hours with `--workers 2`, {dal:.0f}% of it in the DAL" in readme
