"""The plugin manager: built-in goals first, then installed plugins, then extras (tests)."""

from __future__ import annotations

import functools
import importlib
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
        "research", "influencer", "renewal",
    )
)
BUILTIN_SOURCE = "built-in"


def make_plugin_manager(
    *, entry_points: bool = True, blocked: Iterable[str] = (), extra: Iterable[object] = (), trace: bool = False
) -> pluggy.PluginManager:
    """A fresh manager: hookspecs, built-ins, installed plugins (entry-point group
    ``outboundql.goals``, minus ``blocked`` names), then ``extra`` plugin objects."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a plugin that fails to import stops startup, with the way out
            raise GoalRegistrationError(
                f"a goal plugin of the {ENTRY_POINT_GROUP!r} entry-point group failed to load: {exc!r}; "
                "fix or uninstall it, or set OUTBOUNDQL_DISABLE_PLUGINS=<entry point name> to start without it"
            ) from exc
    for plugin in extra:
        pm.register(plugin)
    try:
        pm.check_pending()  # a misspelt hook name fails here, naming the plugin
    except pluggy.PluginValidationError as exc:
        raise GoalRegistrationError(f"plugin {exc.plugin!r}: {exc}") from exc
    if trace:
        pm.trace.root.setwriter(print)
        pm.enable_tracing()
    return pm


def plugin_sources(pm: pluggy.PluginManager) -> dict[str, str]:
    """Plugin name → where it comes from: "built-in", or "<distribution> <version>"."""
    dists = {id(plugin): f"{dist.project_name} {dist.version}" for plugin, dist in pm.list_plugin_distinfo()}
    sources = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        sources[name] = BUILTIN_SOURCE if name in BUILTIN_PLUGINS else dists.get(id(plugin), name)
    return sources


def collect_goals(pm: pluggy.PluginManager) -> GoalRegistry:
    """Ask every plugin for its goals; each registration is attributed to its plugin."""
    registry = GoalRegistry()
    sources = plugin_sources(pm)
    for impl in reversed(pm.hook.outboundql_register_goals.get_hookimpls()):  # registration order
        register = partial(registry.register, source=sources.get(impl.plugin_name, impl.plugin_name),
                           plugin=impl.plugin_name)
        result = impl.function(register=register)
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
