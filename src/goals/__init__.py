"""Outreach goals as pluggy plugins: the public API for plugin authors.

A goal plugin is a module with a function decorated ``@hookimpl`` named
``outboundql_register_goals`` that calls ``register(Goal(...))``, listed under the
``outboundql.goals`` entry-point group. See docs/plugins.md.
"""

import pluggy

from outboundql.goals.api import (
    ALWAYS_HARD,
    MEASURES,
    OVERRIDE_FLAGS,
    AccountFacts,
    Block,
    Criterion,
    Goal,
    GoalRegistrationError,
    Guardrail,
    Persona,
    Product,
    RegisterGoal,
    SignalKind,
)
from outboundql.goals.hookspecs import PROJECT_NAME

#: Marks a function as an implementation of an outboundql hook.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "ALWAYS_HARD",
    "MEASURES",
    "OVERRIDE_FLAGS",
    "AccountFacts",
    "Block",
    "Criterion",
    "Goal",
    "GoalRegistrationError",
    "Guardrail",
    "Persona",
    "Product",
    "RegisterGoal",
    "SignalKind",
    "hookimpl",
]
