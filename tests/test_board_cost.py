"""``benchmarks/board_cost.py --remaining``: what a rerun still lacks and what it will cost."""

import importlib.util
from pathlib import Path

import pytest

from albench.record_files import RecordFolder

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "leaderboards" / "results"
_spec = importlib.util.spec_from_file_location("board_cost", ROOT / "benchmarks" / "board_cost.py")
board_cost = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(board_cost)  # a script, not part of the installed package
remaining_cost = board_cost.remaining_cost
QUICK = sorted(RecordFolder(RESULTS).records(), key=lambda r: r.run_id) if (
    RESULTS / "quick").is_dir() else []

pytestmark = pytest.mark.skipif(not QUICK, reason="no committed quick records")


def _respecified(record, **changes):
    """``record`` with its spec changed, and so its run id."""
    spec = record.spec.model_copy(update=changes)
    return record.model_copy(update={"spec": spec, "run_id": spec.run_id})


def _mean_seconds(records) -> dict[str, float]:
    return {s: train + query for s, (train, query) in board_cost._mean_parts(records).items()}


def _training(records) -> float:
    """The mean seconds a run of ``records`` trained."""
    return board_cost._mean_training(records)


def _query(records, strategy="margin") -> float:
    """The mean seconds ``strategy``'s runs in ``records`` spent querying."""
    return board_cost._mean_parts(records)[strategy][1]


def _quick():
    return [r for r in QUICK if r.spec.suite == "quick"]


def test_a_complete_board_lacks_nothing():
    missing, predicted, _ = remaining_cost("quick", _quick())
    assert not missing and not predicted


def test_missing_runs_are_predicted_from_their_strategys_complete_runs():
    records = _quick()
    dropped = [r for r in records if r.spec.strategy == "entropy" and r.spec.seed in (3, 7)]
    kept = [r for r in records if r not in dropped]
    missing, predicted, how = remaining_cost("quick", kept)
    assert dict(missing) == {"entropy": 2}
    assert predicted["entropy"] == pytest.approx(2 * _mean_seconds(kept)["entropy"])
    assert how == {"entropy": "measured"}


def test_a_strategy_without_runs_is_scaled_from_an_earlier_version():
    records = _quick()
    current = [r for r in records if r.spec.strategy != "margin"]
    earlier = [_respecified(r, suite_version=1) for r in records]  # the same costs: a ratio of 1
    missing, predicted, how = remaining_cost("quick", current, earlier)
    assert missing["margin"] == 10
    assert how["margin"] == "earlier version: queries x 1.00, training as measured"
    assert predicted["margin"] == pytest.approx(10 * (_training(current) + _query(records)))
    _, _, unscaled = remaining_cost("quick", current)
    assert unscaled == {"margin": "unmeasured"}


def _costing(record, suite, factor, query_factor=None):
    """``record`` as a run of ``suite`` whose rounds took ``factor`` times as long (its
    queries ``query_factor`` times, if given), with no shared round 0 (so each strategy's
    mean is its own rounds')."""
    query_factor = factor if query_factor is None else query_factor
    rounds = [r.model_copy(update={"train_seconds": factor * r.train_seconds,
                                   "query_seconds": query_factor * (r.query_seconds or 0.0)})
              for r in record.rounds]
    return _respecified(record, suite=suite).model_copy(
        update={"rounds": rounds, "round_zero": None})


def test_a_strategy_new_to_the_suite_is_scaled_from_a_like_suite():
    records = [_costing(r, "quick", 1) for r in _quick()]
    current = [r for r in records if r.spec.strategy != "margin"]
    like = [_costing(r, "other", 2) for r in records
            if r.spec.strategy in ("margin", "entropy", "random")]
    missing, predicted, how = remaining_cost("quick", current, like=like)
    assert missing["margin"] == 10
    assert how["margin"] == "other: queries x 0.50, training as measured"  # twice as long
    assert predicted["margin"] == pytest.approx(10 * (_training(current) + _query(records)))
    # an earlier version of the suite itself comes first
    earlier = [_respecified(r, suite_version=1) for r in records]
    _, _, how = remaining_cost("quick", current, earlier, like)
    assert how["margin"] == "earlier version: queries x 1.00, training as measured"


def _older(record):
    return _respecified(record, suite_version=record.spec.suite_version - 1)


def test_a_new_version_with_no_run_yet_is_scaled_from_a_like_suite_by_older_versions():
    records = [_costing(r, "quick", 1) for r in _quick()]
    like = [_costing(r, "other", 2) for r in records]  # "other" took twice as long ...
    earlier = [_older(_costing(r, "quick", 3)) for r in records] + [
        _older(_costing(r, "other", 1)) for r in records]  # ... where before it took a third
    missing, predicted, how = remaining_cost("quick", [], earlier, like)
    assert missing["margin"] == 10
    assert how["margin"] == "other (as earlier versions): queries x 3.00, training x 3.00"
    assert predicted["margin"] == pytest.approx(10 * 6 * (_training(records) + _query(records)))
    _, _, unscaled = remaining_cost("quick", [], [], like)
    assert set(unscaled.values()) == {"unmeasured"}


def test_a_strategy_not_yet_run_trains_as_the_versions_runs_did_and_queries_as_before():
    """A version that trains three times as long and queries as fast as before: a strategy
    not yet run is predicted by the version's training and its own queries, not by the
    mix's ratio."""
    records = [_costing(r, "quick", 1) for r in _quick()]
    current = [_costing(r, "quick", 3, query_factor=1) for r in records
               if r.spec.strategy != "margin"]
    _, predicted, how = remaining_cost("quick", current, [_older(r) for r in records])
    assert how["margin"] == "earlier version: queries x 1.00, training as measured"
    assert predicted["margin"] == pytest.approx(10 * (_training(current) + _query(records)))


def test_a_shared_round_0_is_trained_once_but_every_strategys_first_query_counts():
    records = _quick()
    shared = {r.round_zero for r in records}
    assert None not in shared and len(shared) < len(records)  # strategies share round 0
    queries = sum(r.query_seconds or 0.0 for record in records for r in record.rounds)
    training = sum(r.train_seconds for record in records for r in record.rounds
                   if r.round > 0)
    round_zero = {}  # each shared round 0's training, as the first of its runs recorded it
    for record in records:
        round_zero.setdefault(record.round_zero, record.rounds[0].train_seconds)
    _, total, _, _ = board_cost.board_cost(records)
    assert total == pytest.approx(queries + training + sum(round_zero.values()))


def test_a_run_given_twice_counts_once():
    records = [r for r in _quick() if r.spec.strategy != "margin"]
    like = [_costing(r, "other", 1) for r in _quick()]
    like = [r.model_copy(update={"round_zero": "shared"}) for r in like]  # one round 0 for all
    once = remaining_cost("quick", records, like=like)
    assert remaining_cost("quick", records, like=like + like[:7]) == once
    assert remaining_cost("quick", records, earlier=like[:3] * 2, like=like) == once
