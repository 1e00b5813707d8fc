"""A test kit for goal-plugin authors (like ``pytester`` for pytest plugins).

Example:
    from outboundql.goals.testing import check_goal, registry_with

    def test_goal_satisfies_the_contract():
        check_goal(PODCAST)

    def test_coexists_with_builtins():
        assert "podcast" in registry_with(my_plugin_module)

    def test_installed_plugin_is_discovered():
        assert "podcast" in installed_goals()
        assert installed_plugin("podcast") is my_plugin_module
"""

from __future__ import annotations

import dataclasses
from datetime import date

from outboundql.goals.api import ACCOUNT_STATUSES, AccountFacts, Goal, Persona, Product
from outboundql.goals.manager import collect_goals, make_plugin_manager
from outboundql.goals.registry import GoalRegistry, validate_goal

SAMPLE_PERSONA = Persona(
    name="Operations leaders", summary="Runs delivery operations.", industries=("Logistics",),
    job_titles=("COO",), pain_points=("late deliveries",), company_size_min=50, company_size_max=500,
    countries=("ES",), keywords=("fleet",),
)
SAMPLE_PRODUCT = Product(name="RouteWise", description="Route optimisation for delivery fleets.")
#: The persona fields compared with account data: a tweak keeps them whatever the language it writes in.
MATCHING_FIELDS = ("industries", "job_titles", "company_size_min", "company_size_max", "countries", "keywords",
                   "exclusions")


def check_goal(goal: Goal) -> Goal:
    """Run the host's registration checks and exercise the goal's callables; returns the checked goal.

    The registration checks include the rubric's ``translations`` (language tags, one line of text each, an English
    description beside them). ``tweak_icp`` is called for ``SAMPLE_PRODUCT`` in English and in Spanish: it must
    return a Persona both times, with the same matching terms (`MATCHING_FIELDS`).

    Raises `GoalRegistrationError` (or the callable's own error) when the goal breaks the contract.
    """
    checked = validate_goal(goal, plugin="test")
    persona = checked.tweak_icp(SAMPLE_PERSONA, SAMPLE_PRODUCT)
    spanish = checked.tweak_icp(SAMPLE_PERSONA, dataclasses.replace(SAMPLE_PRODUCT, language="es"))
    for derived in (persona, spanish):
        if not isinstance(derived, Persona):
            raise AssertionError(f"tweak_icp must return a Persona, got {type(derived).__name__}")
    for name in MATCHING_FIELDS:
        if getattr(persona, name) != getattr(spanish, name):
            raise AssertionError(f"tweak_icp changed {name} with the product's language ({getattr(persona, name)!r} "
                                 f"in English, {getattr(spanish, name)!r} in Spanish): write only the prose (name, "
                                 "summary, pain points) in product.language, matching terms are compared with "
                                 "account data")
    for status in ACCOUNT_STATUSES:
        result = checked.is_target(checked, AccountFacts(status=status), date.today())
        if not isinstance(result, bool):
            raise AssertionError(f"is_target must return a bool, got {type(result).__name__} for {status!r}")
    return checked


def registry_with(*plugins: object) -> GoalRegistry:
    """The built-in goals plus ``plugins`` (modules or objects with hook implementations)."""
    return collect_goals(make_plugin_manager(entry_points=False, extra=plugins))


def installed_goals() -> GoalRegistry:
    """The goals of the built-ins and of every installed plugin (the ``outboundql.goals`` entry points), loaded as
    ``outboundql serve`` loads them (``OUTBOUNDQL_DISABLE_PLUGINS`` aside): proves a distribution's packaging."""
    return collect_goals(make_plugin_manager())


def installed_plugin(name: str) -> object | None:
    """The plugin installed under entry-point name ``name`` (the module the entry point names), or None when no
    installed distribution has that entry point."""
    return make_plugin_manager().get_plugin(name)
