"""What services run with in this process: the settings, the installed goals, the job port and the clock.

Each kind of process configures it once, before any service is called:

* the API server: `create_app(settings, goals=...)` (its embedded job worker runs in that process,
  so jobs use the same settings and goals as requests);
* an ``outboundql worker`` process: at boot, from its environment (a middleware of its broker);
* scripts (the CLI, ``serve --demo``, ``bench/``): before calling services, e.g.
  ``runtime.configure(Runtime(settings, goals, DramatiqJobs()))``.

Services read it through `current()` (or `settings()` / `goals()` / `jobs()`); they never import
the workers package nor read the environment themselves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from outboundql.channels.registry import ChannelRegistry, collect_channels, default_channels
from outboundql.classifiers.registry import ClassifierRegistry, collect_classifiers, default_classifiers
from outboundql.goals.manager import collect_goals, make_plugin_manager
from outboundql.goals.registry import GoalRegistry
from outboundql.scoring.registry import ScorerRegistry, collect_scorers, default_scorers
from outboundql.services.clock import Clock, SystemClock
from outboundql.services.jobs import Jobs
from outboundql.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    goals: GoalRegistry
    jobs: Jobs
    clock: Clock = field(default_factory=SystemClock)
    channels: ChannelRegistry | None = None
    """The installed channel plugins; None: the process-wide `default_channels()`."""
    classifiers: ClassifierRegistry | None = None
    """The installed reply classifier plugins; None: the process-wide `default_classifiers()`."""
    scorers: ScorerRegistry | None = None
    """The installed scorer plugins; None: the process-wide `default_scorers()`."""


_current: Runtime | None = None


class NotConfigured(RuntimeError):
    """A service ran before its process configured the runtime (a bug of the entry point)."""


def configure(runtime: Runtime) -> Runtime:
    """Make ``runtime`` the process's runtime; returns it."""
    global _current
    _current = runtime
    return runtime


def current() -> Runtime:
    if _current is None:
        raise NotConfigured("No runtime is configured: create_app(), the worker boot, or a script's "
                            "runtime.configure(...) must run before services are called.")
    return _current


@contextlib.contextmanager
def using(runtime: Runtime | None) -> Iterator[Runtime | None]:
    """``runtime`` for the block, then the one before it again (tests, scripts)."""
    global _current
    previous, _current = _current, runtime
    try:
        yield runtime
    finally:
        _current = previous


def installed_goals(settings: Settings) -> GoalRegistry:
    """The goals of the built-in and installed plugins, minus those ``settings`` disable. A plugin
    that fails to load or register raises here: the process should not start without saying so."""
    return collect_goals(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))


def installed_channels(settings: Settings) -> ChannelRegistry:
    """The channels of the built-in and installed plugins, minus those ``settings`` disable; a plugin that fails to
    load or register raises here."""
    return collect_channels(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))


def installed_classifiers(settings: Settings) -> ClassifierRegistry:
    """The reply classifiers of the built-in and installed plugins, minus those ``settings`` disable; a plugin that
    fails to load or register raises here."""
    return collect_classifiers(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))


def installed_scorers(settings: Settings) -> ScorerRegistry:
    """The scorers of the built-in and installed plugins, minus those ``settings`` disable; a plugin that fails to
    load or register raises here."""
    return collect_scorers(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))


def settings() -> Settings:
    return current().settings


def goals() -> GoalRegistry:
    return current().goals


def channels() -> ChannelRegistry:
    """The channel plugins this process delivers through."""
    configured = current().channels
    return configured if configured is not None else default_channels()


def classifiers() -> ClassifierRegistry:
    """The reply classifier plugins this process classifies with."""
    configured = current().classifiers
    return configured if configured is not None else default_classifiers()


def scorers() -> ScorerRegistry:
    """The scorer plugins this process scores with."""
    configured = current().scorers
    return configured if configured is not None else default_scorers()


def jobs() -> Jobs:
    return current().jobs


def clock() -> Clock:
    return current().clock


def now() -> datetime:
    """The runtime clock's current instant (UTC)."""
    return current().clock.now()
