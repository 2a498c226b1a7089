"""Checks made before the first run starts, so that a typo fails in seconds, not hours."""

from __future__ import annotations

import inspect
import json
import tomllib
from typing import Any

from albench.errors import AlbenchError
from albench.plugins import Plugins
from albench.spec import RunSpec


class PreflightError(AlbenchError):
    """Something the runs would fail on, found before any of them started."""


def parse_option(text: str) -> tuple[str, str, Any]:
    """``STRATEGY.KEY=VALUE`` -> ``(strategy, key, value)``; VALUE is read as a TOML value
    (``20``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``), else taken as a bare string."""
    target, sep, raw = text.partition("=")
    strategy, dot, key = target.strip().rpartition(".")
    if not sep or not dot or not strategy or not key.strip():
        raise PreflightError(f"-o {text!r}: write STRATEGY.KEY=VALUE, e.g. -o dal.sub_batches=20")
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return strategy.strip(), key.strip(), value


def with_options(suite_options: dict[str, dict[str, Any]],
                 overrides: list[tuple[str, str, Any]], names: list[str],
                 plugins: Plugins) -> dict[str, dict[str, Any]]:
    """The suite's ``[strategy_options]`` with each ``(strategy, key, value)`` set over them."""
    merged = {name: dict(values) for name, values in suite_options.items()}
    for strategy, key, value in overrides:
        strategy = plugins.get("strategies", strategy).name
        if strategy not in names:
            raise PreflightError(f"an option is given for {strategy} ({key} = {value!r}), "
                                 f"which is not one of the strategies run ({', '.join(names)});"
                                 f" add it (-s {strategy})")
        merged.setdefault(strategy, {})[key] = value
    return merged


def accepted_options(factory) -> list[str] | None:
    """The keyword options ``factory`` takes, or None when it takes any (``**options``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def check_strategies(plugins: Plugins, options: dict[str, dict[str, Any]],
                     names: list[str]) -> None:
    """Build each strategy once with its options: unknown keys and bad values fail here."""
    for name in names:
        item = plugins.get("strategies", name)
        factory = item.factory  # a factory registered as "module:attr" is imported here
        chosen = options.get(name, {})
        try:
            factory(**chosen)
        except Exception as exc:  # noqa: BLE001 -- whatever a factory raises stops every run
            accepted = accepted_options(factory) if isinstance(exc, TypeError) else None
            known = ("" if accepted is None
                     else f"; it accepts {', '.join(accepted) or 'no options'}")
            raise PreflightError(
                f"strategy {name!r} (plugin {item.plugin}) rejects the options "
                f"{json.dumps(chosen, sort_keys=True)}: {type(exc).__name__}: {exc}{known}. "
                f"Fix them in the suite's [strategy_options] or in -o {name}.KEY=VALUE"
            ) from None


def check_datasets(specs: list[RunSpec], plugins: Plugins) -> None:
    """Open every dataset the runs use once (downloading what is missing, if allowed)."""
    from albench.loop import load_dataset

    seen = set()
    for spec in specs:
        key = json.dumps([spec.dataset, spec.dataset_options, spec.pool_size], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            load_dataset(spec, plugins)
        except Exception as exc:  # noqa: BLE001 -- any failure to load stops every run
            options = (f" with options {json.dumps(spec.dataset_options, sort_keys=True)}"
                       if spec.dataset_options else "")
            raise PreflightError(f"dataset {spec.dataset!r}{options} cannot be loaded, so no "
                                 f"run was started: {type(exc).__name__}: {exc}") from None
