"""The guardrail engine over many accounts: decide_all, group_blocked and goal-phrased messages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outboundql.goals import AccountFacts, Block, Criterion, Goal, Guardrail, RegisterGoal, hookimpl
from outboundql.goals.guardrails import Decision, Verdict, camel, decide_all, group_blocked, message
from outboundql.goals.testing import registry_with

REGISTRY = registry_with()
TODAY = date(2025, 6, 1)

# Deliberately out of order: the engine sorts ids and groups.
ACCOUNTS = {
    9: AccountFacts(status="press"),
    3: AccountFacts(status="press"),
    7: AccountFacts(status="press"),
    5: AccountFacts(status="do_not_contact"),
    1: AccountFacts(status="competitor"),
    4: AccountFacts(status="new"),
    8: AccountFacts(status="customer"),
    2: AccountFacts(status="personal_network"),
    6: AccountFacts(status="churned"),
    10: AccountFacts(status="analyst"),
}


def groups_of(goal_key: str, overrides: tuple[str, ...] = (), registry: object = REGISTRY) -> dict:
    goal = REGISTRY[goal_key]
    decisions = decide_all(goal, ACCOUNTS, overrides, TODAY)
    return {(g.reason, g.status): g for g in group_blocked(goal, decisions, registry)}  # type: ignore[arg-type]


def test_decide_all_answers_for_every_account() -> None:
    decisions = decide_all(REGISTRY["sales"], ACCOUNTS, (), TODAY)
    assert set(decisions) == set(ACCOUNTS)
    assert {i: d.verdict for i, d in decisions.items()} == {
        9: Verdict.SOFT_BLOCKED, 3: Verdict.SOFT_BLOCKED, 7: Verdict.SOFT_BLOCKED, 5: Verdict.HARD_BLOCKED,
        1: Verdict.HARD_BLOCKED, 4: Verdict.ADMITTED, 8: Verdict.SOFT_BLOCKED, 2: Verdict.HARD_BLOCKED,
        6: Verdict.ADMITTED, 10: Verdict.SOFT_BLOCKED,
    }


def test_decide_all_applies_overrides_to_every_account() -> None:
    decisions = decide_all(REGISTRY["sales"], ACCOUNTS, ["include_press"], TODAY)
    assert all(decisions[i].verdict is Verdict.ADMITTED and decisions[i].overridden for i in (3, 7, 9))
    assert decisions[8].verdict is Verdict.SOFT_BLOCKED
    assert decisions[5].verdict is Verdict.HARD_BLOCKED


def test_decide_all_accepts_a_one_shot_iterator_of_overrides() -> None:
    decisions = decide_all(REGISTRY["sales"], ACCOUNTS, iter(["include_press"]), TODAY)
    assert all(decisions[i].verdict is Verdict.ADMITTED for i in (3, 7, 9))


def test_decide_all_uses_today_for_every_account() -> None:
    accounts = {1: AccountFacts(status="customer", contract_end_date=TODAY + timedelta(days=10)),
                2: AccountFacts(status="customer", contract_end_date=TODAY + timedelta(days=200))}
    decisions = decide_all(REGISTRY["renewal"], accounts, (), TODAY)
    assert (decisions[1].verdict, decisions[2].verdict) == (Verdict.TARGET, Verdict.ADMITTED)
    grace = decide_all(REGISTRY["renewal"], accounts, (), TODAY + timedelta(days=35))
    assert (grace[1].verdict, grace[2].verdict) == (Verdict.TARGET, Verdict.ADMITTED)  # 1 lapsed 25 days ago
    later = decide_all(REGISTRY["renewal"], accounts, (), TODAY + timedelta(days=115))
    assert (later[1].verdict, later[2].verdict) == (Verdict.ADMITTED, Verdict.TARGET)


def test_group_blocked_groups_by_reason_and_status_hard_first() -> None:
    groups = groups_of("sales")
    assert list(groups) == [
        ("hard_block", "competitor"), ("hard_block", "do_not_contact"), ("hard_block", "personal_network"),
        ("soft_block", "analyst"), ("soft_block", "customer"), ("soft_block", "press"),
    ]
    press = groups[("soft_block", "press")]
    assert press.account_ids == (3, 7, 9)
    assert press.count == 3
    assert press.override_flag == "include_press"
    assert groups[("hard_block", "do_not_contact")].account_ids == (5,)
    assert all(g.override_flag is None for (reason, _), g in groups.items() if reason == "hard_block")


def test_admitted_accounts_are_not_grouped() -> None:
    groups = groups_of("press")  # press and analyst are the target; customer soft-blocked
    assert ("soft_block", "press") not in groups
    assert ("soft_block", "analyst") not in groups
    assert list(groups) == [("hard_block", "competitor"), ("hard_block", "do_not_contact"),
                            ("hard_block", "personal_network"), ("soft_block", "customer")]


def test_nothing_blocked_gives_no_groups() -> None:
    decisions = decide_all(REGISTRY["sales"], {1: AccountFacts(status="new")}, (), TODAY)
    assert group_blocked(REGISTRY["sales"], decisions, REGISTRY) == []


def test_sales_press_message_names_the_flag_and_the_goal_that_targets_press() -> None:
    text = groups_of("sales")[("soft_block", "press")].message
    assert "Sales campaign soft-blocks press accounts" in text
    assert "includePress" in text
    assert "'Press coverage'" in text
    assert text == ("This Sales campaign soft-blocks press accounts; set includePress to add them, or switch the "
                    "goal to 'Link building' or 'Press coverage' so press is the target audience.")


def test_soft_message_lists_every_goal_targeting_the_status() -> None:
    analyst = groups_of("sales")[("soft_block", "analyst")].message
    assert "set includeAnalysts" in analyst
    assert "'Press coverage' or 'Research interviews'" in analyst
    customer = groups_of("press")[("soft_block", "customer")].message
    assert customer.startswith("This Press coverage campaign soft-blocks customer accounts; set includeCustomers")
    assert "'Customer expansion' or 'Renewal'" in customer


def test_soft_message_without_a_registry_only_names_the_flag() -> None:
    text = groups_of("sales", registry=None)[("soft_block", "press")].message
    assert text == "This Sales campaign soft-blocks press accounts; set includePress to add them."


def test_do_not_contact_message_says_to_change_the_status_first() -> None:
    text = groups_of("press")[("hard_block", "do_not_contact")].message
    assert "Press coverage campaign" in text
    assert "change its status first" in text


@pytest.mark.parametrize("status", ["competitor", "personal_network"])
def test_competitor_and_personal_network_are_never_contacted(status: str) -> None:
    text = groups_of("sales")[("hard_block", status)].message
    assert "never" in text
    assert status.replace("_", " ") in text.lower()


@pytest.mark.parametrize("goal_key", sorted(REGISTRY.keys()))
def test_no_hard_block_message_suggests_an_override(goal_key: str) -> None:
    for (reason, _), group in groups_of(goal_key, ("include_press", "include_customers")).items():
        if reason == "hard_block":
            assert "include" not in group.message.lower()
            assert "set " not in group.message
            assert group.override_flag is None


class HardOnNew:
    __name__ = "strict_goals"

    @hookimpl
    def outboundql_register_goals(self, register: RegisterGoal) -> None:
        register(Goal(key="strict", label="Strict", description="Only relationships.",
                      guardrails={"new": Guardrail(Block.HARD), "press": Guardrail(Block.TARGET)},
                      rubric=(Criterion("fit", 1.0, "keywords"),), message_intent="Hello."))


def test_a_plugin_hard_block_says_no_override_admits_them() -> None:
    registry = registry_with(HardOnNew())
    goal = registry["strict"]
    decisions = decide_all(goal, ACCOUNTS, ["include_press", "include_customers"], TODAY)
    groups = {(g.reason, g.status): g for g in group_blocked(goal, decisions, registry)}
    text = groups[("hard_block", "new")].message
    assert text == "This Strict campaign hard-blocks new accounts; no override admits them."
    # a soft block now also points at the plugin goal that targets press
    sales_groups = {(g.reason, g.status): g for g in group_blocked(
        registry["sales"], decide_all(registry["sales"], ACCOUNTS, (), TODAY), registry)}
    assert "'Press coverage' or 'Strict'" in sales_groups[("soft_block", "press")].message


def test_messages_for_admitted_decisions() -> None:
    sales, press = REGISTRY["sales"], REGISTRY["press"]
    assert message(press, Decision(Verdict.TARGET, "press")) == (
        "Press accounts are the target audience of this Press coverage campaign.")
    assert message(sales, Decision(Verdict.ADMITTED, "press", "include_press", overridden=True)) == (
        "Admitted because includePress is set.")
    assert message(sales, Decision(Verdict.ADMITTED, "new")) == "New accounts are admitted in this Sales campaign."


@pytest.mark.parametrize(("flag", "expected"), [
    ("include_press", "includePress"),
    ("include_customers", "includeCustomers"),
    ("include_analysts", "includeAnalysts"),
    ("do_not_contact", "doNotContact"),
    ("press", "press"),
])
def test_camel(flag: str, expected: str) -> None:
    assert camel(flag) == expected


def test_verdict_admitted() -> None:
    assert {v for v in Verdict if v.admitted} == {Verdict.ADMITTED, Verdict.TARGET}
