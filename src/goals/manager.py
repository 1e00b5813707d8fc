"""The plugin manager: built-in goals first, then installed plugins, then extras (tests)."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Iterable
from functools import partial

import pluggy

from outboundql.goals import hookspecs
from outboundql.goals.api import GoalRegistrationError
from outboundql.goals.registry import GoalRegistry

ENTRY_POINT_GROUP = "outboundql.goals"
BUILTIN_PLUGINS: tuple[str, ...] = tuple(
    f"outboundql.goals.builtin.{name}"
    for name in (
        "sales", "partnership", "press", "investor", "recruiting", "customer_expansion", "win_back", "event",
        "research", "influencer", "renewal", "link_building",
    )
)
#: Built-in channel plugins (``log``, ``email``, ``webhook``), registered through the same hooks.
BUILTIN_CHANNEL_PLUGINS: tuple[str, ...] = ("outboundql.channels.builtin",)
#: Built-in reply classifier plugins (``rules``), registered through the same hooks.
BUILTIN_CLASSIFIER_PLUGINS: tuple[str, ...] = ("outboundql.classifiers.builtin",)
#: Built-in scorer plugins (``rubric``, ``llm``), registered through the same hooks.
BUILTIN_SCORER_PLUGINS: tuple[str, ...] = ("outboundql.scoring.builtin",)
BUILTIN_SOURCE = "built-in"
_BUILTINS = BUILTIN_PLUGINS + BUILTIN_CHANNEL_PLUGINS + BUILTIN_CLASSIFIER_PLUGINS + BUILTIN_SCORER_PLUGINS


def make_plugin_manager(
    *, entry_points: bool = True, blocked: Iterable[str] = (), extra: Iterable[object] = (), trace: bool = False
) -> pluggy.PluginManager:
    """A fresh manager: hookspecs, built-ins, installed plugins (entry-point group
    ``outboundql.goals``, minus ``blocked`` names), then ``extra`` plugin objects."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for module_name in _BUILTINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a plugin that fails to import stops startup, with the way out
            name = _failed_entry_point(pm) or "<entry point name>"
            raise GoalRegistrationError(
                f"goal plugin {name!r} of the {ENTRY_POINT_GROUP!r} entry-point group failed to load: {exc!r}; "
                f"fix or uninstall it, or set OUTBOUNDQL_DISABLE_PLUGINS={name} to start without it"
            ) from exc
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()  # a misspelt hook name fails here, naming the plugin
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        hooks = ", ".join(sorted(n for n, caller in vars(pm.hook).items() if caller.has_spec()))
        raise GoalRegistrationError(
            f"plugin {name!r}: {exc}; outboundql hooks are {hooks}: fix the spelling of the @hookimpl function"
        ) from exc
    for name, plugin in pm.list_name_plugin():  # a plugin that implements nothing is a mistake, never a no-op
        if plugin is not None and name not in _BUILTINS and not pm.get_hookcallers(plugin):
            raise GoalRegistrationError(_implements_nothing(pm, name, plugin))
    if trace:
        pm.trace.root.setwriter(print)
        pm.enable_tracing()
    return pm


def _implements_nothing(pm: pluggy.PluginManager, name: str, plugin: object) -> str:
    """Why a registered plugin with no hook implementation is refused, and what to do."""
    module = getattr(plugin, "__name__", type(plugin).__name__)
    where = f"plugin {name!r}" + (f" (module {module!r})" if module != name else "")
    hooks = sorted(n for n, caller in vars(pm.hook).items() if caller.has_spec())
    undecorated = [n for n in hooks if callable(getattr(plugin, n, None))]
    if undecorated:
        return (f"{where} implements no outboundql hook: its function {undecorated[0]} is not decorated with "
                "@outboundql.goals.hookimpl, so outboundql cannot see it; add the decorator")
    return (f"{where} implements no outboundql hook: define one of {', '.join(hooks)} decorated with "
            "@outboundql.goals.hookimpl in that module, or remove the entry point")


def _failed_entry_point(pm: pluggy.PluginManager) -> str | None:
    """The entry point pluggy was loading when it failed: the first one (in pluggy's order) not yet registered."""
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP and pm.get_plugin(ep.name) is None and not pm.is_blocked(ep.name):
                return ep.name
    return None


def plugin_sources(pm: pluggy.PluginManager) -> dict[str, str]:
    """Plugin name → where it comes from: "built-in", or "<distribution> <version>"."""
    dists = {id(plugin): f"{dist.project_name} {dist.version}" for plugin, dist in pm.list_plugin_distinfo()}
    sources = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        builtin = name in _BUILTINS
        sources[name] = BUILTIN_SOURCE if builtin else dists.get(id(plugin), name)
    return sources


def collect_goals(pm: pluggy.PluginManager) -> GoalRegistry:
    """Ask every plugin for its goals; each registration is attributed to its plugin."""
    registry = GoalRegistry()
    sources = plugin_sources(pm)
    hooktrace = pm.trace.root.get("hook")  # writes only when tracing is on (OUTBOUNDQL_TRACE_PLUGINS)
    for impl in pm.hook.outboundql_register_goals.get_hookimpls():  # registration order (pluggy calls LIFO)
        hooktrace("outboundql_register_goals", "plugin:", impl.plugin_name)
        register = partial(registry.register, source=sources.get(impl.plugin_name, impl.plugin_name),
                           plugin=impl.plugin_name)
        # like pluggy, pass only the arguments the implementation declares (it may take fewer than the spec)
        result = impl.function(**{name: arg for name, arg in {"register": register}.items() if name in impl.argnames})
        if result is not None:
            raise GoalRegistrationError(
                f"plugin {impl.plugin_name!r}: outboundql_register_goals must call register(goal) and return None, "
                f"not {type(result).__name__}"
            )
    return registry


@functools.cache
def default_registry() -> GoalRegistry:
    """The process-wide registry, built on first use (never at import)."""
    from outboundql.settings import get_settings

    settings = get_settings()
    return collect_goals(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))
