"""What actors read their settings and goals from.

In a worker process that is the environment (`get_settings`) and the installed goal plugins
(`default_registry`). In the embedded default, actors run inside the API server, which
`configure`s them with its own settings and registry, so a server started with explicit settings
(or tests with their own goals) runs its jobs with the same ones.
"""

from __future__ import annotations

from outboundql.goals.manager import default_registry
from outboundql.goals.registry import GoalRegistry
from outboundql.settings import Settings, get_settings

_configured: tuple[Settings, GoalRegistry] | None = None


def configure(settings: Settings, goals: GoalRegistry) -> None:
    global _configured
    _configured = (settings, goals)


def settings() -> Settings:
    return _configured[0] if _configured else get_settings()


def goals() -> GoalRegistry:
    return _configured[1] if _configured else default_registry()
