"""The committed leaderboards: every stored record is valid, and every table is up to date."""

from pathlib import Path

import pytest

from albench.report import write_leaderboard
from albench.results import ResultStore

LEADERBOARDS = Path(__file__).resolve().parent.parent / "leaderboards"
STORE = LEADERBOARDS / "results"
BOARDS = sorted(p for p in LEADERBOARDS.glob("*.md") if p.name != "README.md")

pytestmark = pytest.mark.skipif(not (STORE / "albench.sqlite").exists(),
                                reason="no committed run records")


def test_every_committed_record_is_valid_and_unique():
    records = list(ResultStore(STORE).records())  # parse_record validates each one
    assert records
    assert len({r.run_id for r in records}) == len(records)
    assert all(r.run_id == r.spec.run_id for r in records)


@pytest.mark.parametrize("board", BOARDS, ids=lambda p: p.stem)
def test_committed_markdown_matches_the_records(board, tmp_path):
    regenerated = write_leaderboard(ResultStore(STORE), board.stem, tmp_path)
    assert regenerated.read_text() == board.read_text(), (
        f"{board.name} is out of date: run `albench leaderboard --results leaderboards/results "
        f"--out leaderboards --csv`")
