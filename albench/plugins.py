"""The plugin manager: loads entry points and built-ins, and keeps the registries."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from albench import __version__, hookspecs
from albench.errors import AlbenchError
from albench.names import did_you_mean, folded_match

ENTRY_POINT_GROUP = "albench"
KINDS = ("datasets", "models", "strategies", "executors")
SINGULAR = {"datasets": "dataset", "models": "model", "strategies": "strategy",
            "executors": "executor"}
BUILTIN_MODULES = (
    "albench.builtin.datasets",
    "albench.builtin.image_datasets",
    "albench.builtin.models",
    "albench.builtin.strategies",
    "albench.builtin.mix",
    "albench.builtin.executors",
)


class RegistrationError(AlbenchError):
    """A plugin registered something invalid, such as a name already taken."""


class FactoryImportError(AlbenchError):
    """A factory registered lazily as ``"package.module:attr"`` that cannot be loaded: its
    module fails to import, or it has no such attribute, or the attribute is not callable."""


class UnknownNameError(AlbenchError, KeyError):
    """A dataset, model, strategy or executor name that no plugin registered."""

    def __str__(self) -> str:
        return str(self.args[0])


LAZY_FACTORY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
"""A factory named lazily, as entry points name objects: ``"package.module:attr"``."""


@dataclass(frozen=True)
class Registered:
    """One registered dataset, model, strategy or executor.

    ``target`` is the factory as registered: a callable, or a ``"package.module:attr"``
    string that :attr:`factory` imports on first use, so that listing imports nothing heavy.
    """

    kind: str
    name: str
    target: Callable[..., Any] | str
    plugin: str
    version: str
    description: str = ""

    @property
    def lazy(self) -> bool:
        """Whether the factory is named by a string and imported on first use."""
        return isinstance(self.target, str)

    @property
    def factory(self) -> Callable[..., Any]:
        """The factory (see :meth:`resolve`)."""
        return self.resolve()

    def resolve(self) -> Callable[..., Any]:
        """The factory, imported now if it was registered as ``"package.module:attr"``;
        :class:`FactoryImportError` names the plugin when that fails."""
        if not isinstance(self.target, str):
            return self.target
        return _import_factory(self.target, f"{SINGULAR[self.kind]} {self.name!r} "
                                            f"(plugin {self.plugin!r}, version {self.version})")


@dataclass
class PluginInfo:
    """What albench knows about one plugin, for ``albench plugins``."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    builtin: bool = False


DISABLE_HINT = ("ALBENCH_DISABLE_PLUGINS=NAME[,NAME] skips plugins (and silences this); "
                "ALBENCH_LOAD_PLUGINS=NAME[,NAME] loads only those")


@dataclass
class LoadError:
    """A plugin that was skipped: it could not be imported, or its hooks are broken."""

    name: str
    distribution: str
    error: str


def _selected(name: str) -> bool:
    """Apply ``ALBENCH_LOAD_PLUGINS`` (allow-list) and ``ALBENCH_DISABLE_PLUGINS`` (block-list)."""
    load = os.environ.get("ALBENCH_LOAD_PLUGINS")
    if load is not None and name not in {n.strip() for n in load.split(",") if n.strip()}:
        return False
    disabled = os.environ.get("ALBENCH_DISABLE_PLUGINS", "")
    return name not in {n.strip() for n in disabled.split(",") if n.strip()}


class Plugins:
    """Loaded plugins and everything they registered, keyed by kind and name."""

    def __init__(self, extra_plugins: tuple[tuple[str, object], ...] = (), entry_points=True):
        self.manager = pluggy.PluginManager("albench")
        self.manager.add_hookspecs(hookspecs)
        self.load_errors: list[LoadError] = []
        self._sources: dict[str, tuple[str, str]] = {}
        self.registry: dict[str, dict[str, Registered]] = {kind: {} for kind in KINDS}
        if entry_points:
            self._load_entry_points()
        for module_name in BUILTIN_MODULES:
            module = importlib.import_module(module_name)
            self._add(module, module_name, "albench", _albench_version())
        for name, plugin in extra_plugins:
            self._add(plugin, name, name, "0")
        self._check_hooks()
        self._collect()

    def _reject(self, name: str, error: str) -> None:
        """Skip a broken plugin: unregister it and everything it registered, note why."""
        if name in BUILTIN_MODULES:
            raise RegistrationError(f"built-in plugin {name!r}: {error}")
        if self.manager.get_plugin(name) is not None:
            self.manager.unregister(name=name)
        for items in self.registry.values():
            for key in [k for k, item in items.items() if item.plugin == name]:
                del items[key]
        self.load_errors.append(LoadError(name, self._sources.get(name, ("?",))[0], error))

    def _check_hooks(self) -> None:
        """Skip plugins whose hooks albench does not define or calls with other arguments."""
        while True:
            try:
                self.manager.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                self._reject(self.manager.get_name(exc.plugin),
                             f"{exc}; albench's hooks are {', '.join(_hook_names())}")

    def _load_entry_points(self) -> None:
        for ep in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        ):
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if not _selected(ep.name):
                continue
            if self.manager.get_plugin(ep.name) is not None:
                self._add(None, ep.name, dist, version)  # reports the name as taken
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 -- a broken plugin must not take the CLI down
                self.load_errors.append(LoadError(ep.name, dist, f"{type(exc).__name__}: {exc}"))
                continue
            self._add(plugin, ep.name, dist, version)

    def _add(self, plugin: object, name: str, distribution: str, version: str) -> None:
        if not _selected(name) and distribution != "albench":
            return
        if self.manager.get_plugin(name) is not None:
            self.load_errors.append(LoadError(name, distribution, f"the plugin name {name!r} "
                                              f"is already taken by {self._sources[name][0]}"))
            return
        self._sources[name] = (distribution, version)
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._reject(name, str(exc))

    def _collect(self) -> None:
        """Call every registration hook, built-ins first; a plugin whose hook raises or
        registers something invalid is skipped with everything it registered."""
        for kind in KINDS:
            hook = getattr(self.manager.hook, f"albench_register_{kind}")
            impls = sorted(hook.get_hookimpls(),
                           key=lambda impl: impl.plugin_name not in BUILTIN_MODULES)
            for impl in impls:
                if self.manager.get_plugin(impl.plugin_name) is None:
                    continue  # skipped after an earlier hook
                try:
                    self._call(impl, kind)
                except RegistrationError as exc:
                    self._reject(impl.plugin_name, str(exc))
                except Exception as exc:  # noqa: BLE001 -- a broken plugin is skipped
                    self._reject(impl.plugin_name, f"its albench_register_{kind} hook raised "
                                                   f"{type(exc).__name__}: {exc}")

    def _call(self, impl, kind: str) -> None:
        """Call one hook implementation; keep its registrations only if all are valid."""
        distribution, version = self._sources[impl.plugin_name]
        items: list[Registered] = []

        def register(name, factory, description=""):
            items.append(Registered(kind, name, factory, impl.plugin_name, version,
                                    description))

        impl.function(**{"register": register} if "register" in impl.argnames else {})
        for item in items:
            self._check(item, distribution)
        for item in items:
            self.registry[kind][item.name] = item

    def _check(self, item: Registered, distribution: str) -> None:
        if (not isinstance(item.name, str) or not item.name.strip() or not item.name.isprintable()
                or item.name != item.name.strip()):
            raise RegistrationError(f"plugin {item.plugin!r} registered a {SINGULAR[item.kind]} "
                                    f"with an invalid name {item.name!r}")
        if isinstance(item.target, str):
            if not LAZY_FACTORY.fullmatch(item.target):
                raise RegistrationError(
                    f"plugin {item.plugin!r} registered {SINGULAR[item.kind]} {item.name!r} "
                    f"with the factory {item.target!r}: name it as 'package.module:attr' "
                    f"(imported on first use) or pass the callable itself")
        elif not callable(item.target):
            raise RegistrationError(f"plugin {item.plugin!r} registered {SINGULAR[item.kind]} "
                                    f"{item.name!r} with a factory that is not callable")
        existing = self.registry[item.kind].get(item.name)
        if existing is not None:
            first = self._sources[existing.plugin][0]
            raise RegistrationError(
                f"{SINGULAR[item.kind]} {item.name!r} is registered twice: by plugin "
                f"{existing.plugin!r} ({first}) and by plugin {item.plugin!r} ({distribution})"
            )

    def get(self, kind: str, name: str) -> Registered:
        """The registered item (a name differing only in case or ``_``/``-`` finds it), or an
        error naming the closest names and the plugins that failed to load."""
        items = self.registry[kind]
        if name in items:
            return items[name]
        resolved = self._resolve_parametrised(kind, name)
        if resolved is not None:
            return resolved
        folded = folded_match(name, self.names(kind))
        if folded is not None:
            return items[folded]
        raise UnknownNameError(f"unknown {SINGULAR[kind]} {name!r}"
                               f"{did_you_mean(name, self.names(kind))}; `albench list {kind}` "
                               f"shows every one{self._load_errors_note()}")

    def _load_errors_note(self) -> str:
        """The plugins that failed to load, one of which may have registered a missing name."""
        if not self.load_errors:
            return ""
        failed = "; ".join(f"plugin {err.name} ({err.distribution}): {err.error}"
                           for err in self.load_errors)
        return f". Plugins that failed to load, which may register it: {failed}"

    def _resolve_parametrised(self, kind: str, name: str) -> Registered | None:
        """Names like ``mix:A+B`` resolve to the item registered as ``mix:``."""
        prefix, sep, argument = name.partition(":")
        item = self.registry[kind].get(prefix + ":") if sep else None
        if item is None:
            return None

        def bound(**options):
            return item.factory(argument, plugins=self, **options)

        return Registered(kind, name, bound, item.plugin, item.version, item.description)

    def names(self, kind: str) -> list[str]:
        """Sorted names of one kind (parametrised entries such as ``mix:`` excluded)."""
        return sorted(n for n in self.registry[kind] if not n.endswith(":"))

    def info(self) -> list[PluginInfo]:
        """One entry per loaded plugin, sorted by name."""
        infos = []
        for name, plugin in self.manager.list_name_plugin():
            distribution, version = self._sources.get(name, ("?", "?"))
            hooks = sorted(h.name for h in self.manager.get_hookcallers(plugin) or [])
            registered = {
                kind: sorted(n for n, item in self.registry[kind].items() if item.plugin == name)
                for kind in KINDS
            }
            infos.append(PluginInfo(name, distribution, version, hooks,
                                    {k: v for k, v in registered.items() if v},
                                    builtin=name in BUILTIN_MODULES))
        return sorted(infos, key=lambda p: p.name)

    def check_factories(self) -> list[tuple[Registered, FactoryImportError]]:
        """Import every lazily registered factory (which may import torch and the like);
        the ones that fail, each with its error, sorted by kind and name."""
        failed = []
        for kind in KINDS:
            for _, item in sorted(self.registry[kind].items()):
                try:
                    item.resolve()
                except FactoryImportError as exc:
                    failed.append((item, exc))
        return failed


def _import_factory(target: str, who: str) -> Callable[..., Any]:
    """Import ``"package.module:attr"`` for ``who``, or raise :class:`FactoryImportError`."""
    module_name, _, attribute = target.partition(":")
    fix = "reinstall the plugin's package, or disable the plugin with ALBENCH_DISABLE_PLUGINS"
    try:
        value: Any = importlib.import_module(module_name)
    except Exception as exc:  # whatever the import raises, name the plugin
        raise FactoryImportError(f"{who} cannot be loaded: importing its module "
                                 f"{module_name!r} (from {target!r}) failed with "
                                 f"{type(exc).__name__}: {exc}; {fix}") from exc
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise FactoryImportError(f"{who} cannot be loaded: {target!r} names no "
                                     f"attribute {part!r}; {fix}") from None
    if not callable(value):
        raise FactoryImportError(f"{who} cannot be loaded: {target!r} is not callable "
                                 f"(it is of type {type(value).__name__}); {fix}")
    return value


def _hook_names() -> list[str]:
    return sorted(n for n in vars(hookspecs) if n.startswith("albench_"))


def _albench_version() -> str:
    return __version__


_default: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin set, loaded on first use."""
    global _default
    if _default is None:
        _default = Plugins()
    return _default
