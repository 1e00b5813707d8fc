"""The podcast goal keeps outboundql's plugin contract, and installing the package is enough to get it."""

from datetime import date

import outboundql_goal_podcast as plugin

from outboundql.goals import AccountFacts, Block, Persona, Product
from outboundql.goals.testing import check_goal, installed_goals, installed_plugin, registry_with


def test_goal_satisfies_the_contract() -> None:
    checked = check_goal(plugin.PODCAST)  # key format, invariants, rubric weights, callables
    assert checked.guardrails["press"].block is Block.TARGET
    assert checked.guardrails["do_not_contact"].block is Block.HARD  # added by the host, never admitted


def test_coexists_with_builtins() -> None:
    registry = registry_with(plugin)
    assert registry["podcast"].label == "Podcast guest"
    assert {"sales", "press", "podcast"} <= set(registry.keys())


def test_installed_plugin_is_discovered() -> None:  # like datasette-plugin's starter test
    assert "podcast" in installed_goals()
    assert installed_plugin("podcast") is plugin  # the entry-point name is the plugin name


def test_persona_turns_buyer_industries_into_show_topics() -> None:
    base = Persona(name="Ops leaders", industries=("Logistics",), keywords=("fleet", "Logistics"))
    persona = plugin.podcast_persona(base, Product(name="RouteWise"))
    assert persona.name == "Podcasts RouteWise's buyers listen to"
    assert persona.keywords == ("Logistics", "fleet")
    assert "Podcast Host" in persona.job_titles


def test_hosts_and_press_are_the_target_audience() -> None:
    today = date(2025, 1, 1)
    assert plugin.is_show(plugin.PODCAST, AccountFacts(status="press"), today)
    assert plugin.is_show(plugin.PODCAST, AccountFacts(status="new", contact_role_kinds=frozenset({"influencer"})),
                          today)
    assert not plugin.is_show(plugin.PODCAST, AccountFacts(status="new"), today)
