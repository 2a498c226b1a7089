"""Run specifications and the suite files (TOML) that expand into them."""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from albench.config import TrainingConfig
from albench.errors import AlbenchError
from albench.names import did_you_mean, folded_match


class SuiteError(AlbenchError):
    """A suite file that cannot be read or does not describe valid runs."""


MAX_SEED = 2**32 - 1
MAX_ROUNDS = 100_000
MAX_SEEDS = 10_000
"""Bounds that keep a typo from asking for years of computing (or overflowing the store)."""


class RunSpec(BaseModel):
    """Every setting of one run: identical specs give identical results."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    late_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields added after records existed; see :func:`identity`."""

    suite: str
    suite_version: int = 1
    dataset: str
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    pool_size: int | None = Field(None, ge=1)
    """Subsample the pool to this many examples (a fixed subset, the same for every seed)."""
    model: str
    model_options: dict[str, Any] = Field(default_factory=dict)
    strategy: str
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    initial_labeled: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    rounds: int = Field(ge=0, le=MAX_ROUNDS)
    seed: int = Field(ge=0, le=MAX_SEED)

    @property
    def run_id(self) -> str:
        """Stable identifier: a hash of the canonical JSON of the spec."""
        canonical = json.dumps(identity(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def setting(self) -> str:
        """The comparable setting: dataset, model and batch size."""
        return f"{self.dataset}/{self.model}/b{self.batch_size}"

    @property
    def label(self) -> str:
        return f"{self.suite}:{self.setting}:{self.strategy}:seed{self.seed}"


def identity(model: BaseModel) -> dict[str, Any]:
    """``model`` as JSON data for hashing into a run id.

    A field added to a spec model after records exist is listed in the model's
    ``late_fields`` and given a default that means the old behaviour; while it holds that
    default it is left out here, so every earlier run keeps its id.
    """
    data = model.model_dump(mode="json")
    _drop_late_defaults(model, data)
    return data


def _drop_late_defaults(model: BaseModel, data: dict[str, Any]) -> None:
    late = getattr(model, "late_fields", frozenset())
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _drop_late_defaults(value, data[name])
        elif name in late and value == field.get_default(call_default_factory=True):
            del data[name]


class Setting(BaseModel):
    """One ``[[settings]]`` table: a dataset × model × batch size with its protocol."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    pool_size: int | None = Field(None, ge=1)
    model: str
    model_options: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    initial_labeled: int | None = Field(None, ge=1)
    batch_size: int = Field(ge=1)
    rounds: int | None = Field(None, ge=0, le=MAX_ROUNDS)
    seeds: list[int] | None = Field(None, min_length=1, max_length=MAX_SEEDS)

    def training_config(self, defaults: TrainingConfig) -> TrainingConfig:
        """The suite's training settings with this setting's overrides."""
        return TrainingConfig.model_validate({**defaults.model_dump(), **self.training},
                                             strict=True)


class Suite(BaseModel):
    """A suite file: named, versioned settings that every strategy is run on."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")
    """Not blank, and no control characters (it names files and leaderboards)."""
    version: int = Field(1, ge=1)
    description: str = ""
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1,
                             max_length=MAX_SEEDS)
    strategies: list[str] = Field(default_factory=lambda: ["all"])
    """Strategy names, or ``all`` for every installed strategy."""
    strategy_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    strategy_seeds: dict[str, list[int]] = Field(default_factory=dict)
    """Seeds for named strategies in place of the suite's (fewer for expensive ones)."""
    initial_labeled: int = Field(100, ge=1)
    rounds: int = Field(10, ge=0, le=MAX_ROUNDS)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    threads: int | None = Field(None, ge=1)
    """torch threads every run uses (results depend on it; None: the machine's default)."""
    settings: list[Setting] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        for name, seeds in self.strategy_seeds.items():
            if not seeds:
                raise ValueError(f"strategy_seeds.{name}: give at least one seed")
        extra = [seed for seeds in self.strategy_seeds.values() for seed in seeds]
        for setting in self.settings:
            for seed in [*self.seeds, *(setting.seeds or []), *extra]:
                if not 0 <= seed <= MAX_SEED:
                    raise ValueError(f"seeds must lie in 0..{MAX_SEED}, got {seed}")
            setting.training_config(self.training)
        return self

    def strategy_names(self, installed: list[str]) -> list[str]:
        """The suite's strategies: ``installed`` (every installed one) for ``all``."""
        return list(installed) if self.strategies == ["all"] else list(self.strategies)

    def run_specs(self, strategies: list[str], seeds: list[int] | None = None) -> list[RunSpec]:
        """Every (setting, strategy, seed) run, in a stable order.

        ``seeds`` overrides the suite's, the setting's and ``strategy_seeds``."""
        specs = []
        for setting in self.settings:
            training = setting.training_config(self.training)
            for strategy in strategies:
                default = setting.seeds or self.seeds
                for seed in (seeds if seeds is not None
                             else self.strategy_seeds.get(strategy, default)):
                    specs.append(RunSpec(
                        suite=self.name, suite_version=self.version,
                        dataset=setting.dataset, dataset_options=setting.dataset_options,
                        pool_size=setting.pool_size, model=setting.model,
                        model_options=setting.model_options, strategy=strategy,
                        strategy_options=self.strategy_options.get(strategy, {}),
                        training=training,
                        initial_labeled=setting.initial_labeled or self.initial_labeled,
                        batch_size=setting.batch_size,
                        rounds=self.rounds if setting.rounds is None else setting.rounds,
                        seed=seed,
                    ))
        return specs


def builtin_suites() -> list[str]:
    """Names of the suites shipped with albench."""
    folder = resources.files("albench") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name, or a suite file by path; errors say what is wrong and where."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        source, text = str(path), _read(path)
    else:
        name = folded_match(str(name_or_path), builtin_suites()) or str(name_or_path)
        resource = resources.files("albench") / "suites" / f"{name}.toml"
        if not resource.is_file():
            raise SuiteError(f"no suite named {name!r}"
                             f"{did_you_mean(name, builtin_suites())}; `albench list suites` "
                             f"shows the built-in ones (or give a path to a .toml file)")
        source, text = f"built-in suite {name}", resource.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Suite.model_validate(data, strict=True)  # no `true` or "3" read as 1 or 3
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SuiteError(f"{source}: {problems}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read suite file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SuiteError(f"suite file {path} is not UTF-8 text (byte {exc.start}); save it as "
                         f"UTF-8") from None
