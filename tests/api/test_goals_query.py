"""The `goals` and `goal(key)` queries: every registered goal with its full guardrail table."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from outboundql.app import create_app
from outboundql.goals import Block, Criterion, Goal, Guardrail, RegisterGoal, hookimpl
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings
from tests.helpers import data_of

GOAL_FIELDS = """
  key label description targetRoleKind targetDescription messageIntent outcomeLabel source
  guardrails { status kind overrideFlag }
  rubric { criterion weight measure description }
"""
GOALS = f"query {{ goals {{ {GOAL_FIELDS} }} }}"
GOAL = f"query($key: String!) {{ goal(key: $key) {{ {GOAL_FIELDS} }} }}"

BUILTIN_KEYS = sorted([
    "sales", "partnership", "press", "investor", "recruiting", "customer_expansion", "win_back", "event",
    "research", "influencer", "renewal", "link_building",
])
STATUSES = [
    "new", "initiated", "engaged", "qualified", "customer", "lost", "churned", "partner", "supplier", "investor",
    "press", "analyst", "candidate", "competitor", "personal_network", "do_not_contact",
]


def rules(goal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["status"]: g for g in goal["guardrails"]}


async def test_goals_lists_every_builtin_sorted_by_key(gql: Any, owner: Any) -> None:
    goals = data_of(await gql(GOALS, as_=owner))["goals"]
    assert [g["key"] for g in goals] == BUILTIN_KEYS
    for goal in goals:
        assert sorted(g["status"] for g in goal["guardrails"]) == sorted(STATUSES)
        assert len(goal["guardrails"]) == 16
        assert goal["source"] == "built-in"
        assert goal["label"] and goal["description"] and goal["messageIntent"]
        assert goal["rubric"]
        assert all(c["criterion"] and c["measure"] and c["weight"] > 0 for c in goal["rubric"])
        assert sum(c["weight"] for c in goal["rubric"]) == pytest.approx(1.0)


async def test_goals_needs_no_token(gql: Any) -> None:
    result = await gql(GOALS)
    assert [g["key"] for g in data_of(result)["goals"]] == BUILTIN_KEYS


async def test_guardrail_kinds_and_camel_case_flags(gql: Any) -> None:
    goals = {g["key"]: g for g in data_of(await gql(GOALS))["goals"]}
    assert rules(goals["sales"])["press"] == {"status": "press", "kind": "SOFT", "overrideFlag": "includePress"}
    assert rules(goals["sales"])["customer"]["overrideFlag"] == "includeCustomers"
    assert rules(goals["press"])["press"] == {"status": "press", "kind": "TARGET", "overrideFlag": None}
    assert rules(goals["press"])["new"] == {"status": "new", "kind": "ALLOWED", "overrideFlag": None}
    assert rules(goals["win_back"])["churned"]["kind"] == "TARGET"
    assert rules(goals["partnership"])["customer"]["kind"] == "ALLOWED"
    for goal in goals.values():
        for status in ("do_not_contact", "competitor", "personal_network"):
            assert rules(goal)[status] == {"status": status, "kind": "HARD", "overrideFlag": None}
        for rule in goal["guardrails"]:
            assert (rule["overrideFlag"] is not None) == (rule["kind"] == "SOFT")


async def test_goal_identity_fields(gql: Any) -> None:
    press = data_of(await gql(GOAL, {"key": "press"}))["goal"]
    assert press["label"] == "Press coverage"
    assert press["targetRoleKind"] == "journalist"
    assert press["targetDescription"] == "press and analyst accounts"
    assert "story" in press["messageIntent"]
    assert press["rubric"][0] == {"criterion": "beat_match", "weight": 0.35, "measure": "keywords",
                                  "description": "Covers the topics and industries the story is about."}


BUILTIN_OUTCOME_LABELS = {
    "sales": "meeting booked", "partnership": "partnership agreed", "press": "coverage placed",
    "investor": "intro call booked", "recruiting": "hired", "customer_expansion": "expansion agreed",
    "win_back": "won back", "event": "registered", "research": "interview booked",
    "influencer": "collaboration agreed", "renewal": "renewed", "link_building": "placed",
}


async def test_every_builtin_names_its_outcome(gql: Any) -> None:
    goals = data_of(await gql(GOALS))["goals"]
    assert {g["key"]: g["outcomeLabel"] for g in goals} == BUILTIN_OUTCOME_LABELS
    assert data_of(await gql(GOAL, {"key": "recruiting"}))["goal"]["outcomeLabel"] == "hired"


async def test_unknown_goal_is_null(gql: Any) -> None:
    assert data_of(await gql(GOAL, {"key": "nope"}))["goal"] is None


async def test_goal_matches_its_entry_in_goals(gql: Any) -> None:
    goals = {g["key"]: g for g in data_of(await gql(GOALS))["goals"]}
    for key in ("sales", "renewal"):
        assert data_of(await gql(GOAL, {"key": key}))["goal"] == goals[key]


# --- a goal from a plugin -------------------------------------------------------------------


PODCAST = Goal(
    key="podcast",
    label="Podcast guest",
    description="Get invited as a guest on podcasts your buyers listen to.",
    target_role_kind="influencer",
    guardrails={"press": Guardrail(Block.TARGET), "new": Guardrail(Block.HARD)},
    rubric=(Criterion("topic_fit", 0.6, "keywords"), Criterion("host_reachable", 0.4, "role_kind")),
    message_intent="Pitch a guest episode.",
    target_description="podcasts (press accounts)",
)


def podcast_plugin() -> types.ModuleType:
    module = types.ModuleType("outboundql_goal_podcast")

    @hookimpl
    def outboundql_register_goals(register: RegisterGoal) -> None:
        register(PODCAST)

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    return module


@pytest.fixture
async def plugin_gql(db: Any, settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with(podcast_plugin()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:

        async def run(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
            assert response.status_code == 200, response.text
            return response.json()

        yield run


async def test_a_plugin_goal_is_listed_with_its_source(plugin_gql: Any) -> None:
    goals = data_of(await plugin_gql(GOALS))["goals"]
    assert [g["key"] for g in goals] == sorted([*BUILTIN_KEYS, "podcast"])
    podcast = next(g for g in goals if g["key"] == "podcast")
    assert podcast["source"] == "outboundql_goal_podcast"
    assert podcast["label"] == "Podcast guest"
    assert podcast["targetRoleKind"] == "influencer"
    assert podcast["targetDescription"] == "podcasts (press accounts)"
    assert podcast["outcomeLabel"] == "goal achieved"  # the plugin names none
    assert len(podcast["guardrails"]) == 16
    table = rules(podcast)
    assert table["press"] == {"status": "press", "kind": "TARGET", "overrideFlag": None}
    assert table["new"]["kind"] == "HARD"
    assert table["customer"] == {"status": "customer", "kind": "SOFT", "overrideFlag": "includeCustomers"}
    assert table["partner"]["kind"] == "ALLOWED"
    assert [c["criterion"] for c in podcast["rubric"]] == ["topic_fit", "host_reachable"]
    assert {g["source"] for g in goals if g["key"] != "podcast"} == {"built-in"}


async def test_a_plugin_goal_by_key(plugin_gql: Any) -> None:
    goal = data_of(await plugin_gql(GOAL, {"key": "podcast"}))["goal"]
    assert (goal["key"], goal["source"]) == ("podcast", "outboundql_goal_podcast")
