from typing import ClassVar

from pydantic import BaseModel

from albench.config import TrainingConfig
from albench.spec import RunSpec, identity


def _spec(**training) -> RunSpec:
    return RunSpec(suite="s", dataset="digits", model="mlp", strategy="random",
                   training=TrainingConfig(**training), initial_labeled=10, batch_size=5,
                   rounds=2, seed=0)


class _Inner(BaseModel):
    late_fields: ClassVar[frozenset[str]] = frozenset({"added"})
    kept: int = 1
    added: int = 0


class _Outer(BaseModel):
    late_fields: ClassVar[frozenset[str]] = frozenset({"extra"})
    inner: _Inner = _Inner()
    extra: str | None = None


def test_late_fields_at_their_default_leave_the_identity_unchanged():
    assert identity(_Outer()) == {"inner": {"kept": 1}}
    assert identity(_Outer(extra="x", inner=_Inner(added=2))) == {
        "inner": {"kept": 1, "added": 2}, "extra": "x"}


def test_run_id_depends_on_every_setting():
    assert _spec().run_id == _spec().run_id
    assert _spec().run_id != _spec(epochs=7).run_id


def _suite(**fields):
    from albench.spec import Suite
    return Suite.model_validate({"name": "s", "seeds": [0, 1, 2], "settings": [
        {"dataset": "digits", "model": "mlp", "batch_size": 5}], **fields})


def test_strategy_seeds_give_named_strategies_their_own_seeds():
    suite = _suite(strategy_seeds={"dfal": [0]})
    seeds = {(s.strategy, s.seed) for s in suite.run_specs(["random", "dfal"])}
    assert seeds == {("random", 0), ("random", 1), ("random", 2), ("dfal", 0)}
    # --seeds on the command line overrides them
    assert {s.seed for s in suite.run_specs(["dfal"], seeds=[1, 2])} == {1, 2}


def test_strategy_seeds_are_checked():
    import pytest
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="at least one seed"):
        _suite(strategy_seeds={"dfal": []})
    with pytest.raises(ValidationError, match="seeds must lie"):
        _suite(strategy_seeds={"dfal": [-1]})
