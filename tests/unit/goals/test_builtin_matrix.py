"""The built-in goals equal the guardrail table below: every cell of it, registered and decided."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outboundql.enums import RoleKind
from outboundql.goals import OVERRIDE_FLAGS, AccountFacts, Block, Goal, Persona
from outboundql.goals.guardrails import Verdict, decide
from outboundql.goals.testing import SAMPLE_PERSONA, SAMPLE_PRODUCT, check_goal, registry_with

# Every built-in goal's rules, written out by hand. H = hard block, S(flag) = soft block admitted by that override flag
# (a bare S uses the column's flag, as spelt in the sales row), T = target audience, · = admitted.
SPEC_TABLE = """
| goal | customer | supplier | investor | press | analyst | candidate |
|---|---|---|---|---|---|---|
| sales | S(include_customers) | S(include_suppliers) | S(include_investors) | S(include_press) | S(include_analysts) | S(include_candidates) |
| partnership | · | T | S | S | S | S |
| press | S | S | S | T | T | S |
| investor | S | S | T | S | S | S |
| recruiting | S | S | S | S | S | T |
| customer_expansion | T | S | S | S | S | S |
| win_back | S | S | S | S | S | S (target: `churned`, `lost`) |
| event | · | S | S | S | S | S |
| research | · | S | S | S | T | S |
| influencer | S | S | S | S | S | S (target: contacts with role_kind `influencer`) |
| renewal | T (contract_end_date within the renewal window) | S | S | S | S | S |
| link_building | S | S | S | T | S | S |
"""  # noqa: E501

#: "Every goal: do_not_contact, competitor, personal_network → H. Pipeline statuses and partner are admitted."
PROTECTED = ("do_not_contact", "competitor", "personal_network")
PIPELINE_AND_PARTNER = ("new", "initiated", "engaged", "qualified", "lost", "churned", "partner")
#: The row notes that add target statuses beyond the table's columns.
EXTRA_TARGETS = {"win_back": ("churned", "lost")}

ALL_STATUSES = (
    "new", "initiated", "engaged", "qualified", "customer", "lost", "churned",
    "partner", "supplier", "investor", "press", "analyst", "candidate",
    "competitor", "personal_network", "do_not_contact",
)
SPEC_KEYS = (
    "sales", "partnership", "press", "investor", "recruiting", "customer_expansion", "win_back", "event",
    "research", "influencer", "renewal", "link_building",
)
ALL_FLAGS = frozenset(OVERRIDE_FLAGS.values())
TODAY = date(2025, 6, 1)


def _parse(table: str) -> dict[str, dict[str, tuple[Block, str | None]]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.strip().splitlines()]
    header, rows = rows[0][1:], [r for r in rows[2:]]
    flags = {col: cell[cell.index("(") + 1 : cell.index(")")] for col, cell in zip(header, rows[0][1:], strict=True)}
    matrix: dict[str, dict[str, tuple[Block, str | None]]] = {}
    for goal, *cells in rows:
        row: dict[str, tuple[Block, str | None]] = dict.fromkeys(PROTECTED, (Block.HARD, None))
        row.update(dict.fromkeys(PIPELINE_AND_PARTNER, (Block.ALLOWED, None)))
        row.update(dict.fromkeys(EXTRA_TARGETS.get(goal, ()), (Block.TARGET, None)))
        for column, cell in zip(header, cells, strict=True):
            if cell.startswith("S"):
                row[column] = (Block.SOFT, flags[column])
            elif cell.startswith("T"):
                row[column] = (Block.TARGET, None)
            elif cell.startswith("·"):
                row[column] = (Block.ALLOWED, None)
            elif cell.startswith("H"):
                row[column] = (Block.HARD, None)
            else:  # pragma: no cover - a typo in the table above
                raise AssertionError(f"unreadable cell {cell!r} for {goal}")
        matrix[goal] = row
    return matrix


SPEC = _parse(SPEC_TABLE)
REGISTRY = registry_with()
EXPECTED_VERDICT = {
    Block.HARD: (Verdict.HARD_BLOCKED, Verdict.HARD_BLOCKED),
    Block.SOFT: (Verdict.SOFT_BLOCKED, Verdict.ADMITTED),
    Block.TARGET: (Verdict.TARGET, Verdict.TARGET),
    Block.ALLOWED: (Verdict.ADMITTED, Verdict.ADMITTED),
}


def test_the_parsed_table_covers_every_status_of_every_goal() -> None:
    assert tuple(SPEC) == SPEC_KEYS
    assert all(set(row) == set(ALL_STATUSES) for row in SPEC.values())
    assert SPEC["sales"]["press"] == (Block.SOFT, "include_press")
    assert SPEC["press"]["press"] == (Block.TARGET, None)
    assert SPEC["win_back"]["churned"] == (Block.TARGET, None)


def test_exactly_the_eleven_spec_goals_are_built_in() -> None:
    assert REGISTRY.keys() == sorted(SPEC_KEYS)
    assert len(REGISTRY) == 12
    assert {REGISTRY.source(key) for key in SPEC_KEYS} == {"built-in"}


@pytest.mark.parametrize("override", [False, True], ids=["no-override", "override"])
@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("goal_key", SPEC_KEYS)
def test_matrix_cell(goal_key: str, status: str, override: bool) -> None:
    goal = REGISTRY[goal_key]
    block, flag = SPEC[goal_key][status]

    rule = goal.guardrails[status]
    assert (rule.block, rule.override_flag) == (block, flag)

    # Renewal's customer cell is TARGET only within the window: use a date inside it here.
    facts = AccountFacts(status=status, contract_end_date=TODAY + timedelta(days=30))
    if block is Block.SOFT:
        overrides: frozenset[str] = frozenset({flag}) if override else frozenset()
    else:
        overrides = ALL_FLAGS if override else frozenset()
    decision = decide(goal, facts, overrides, TODAY)
    assert decision.verdict is EXPECTED_VERDICT[block][override]
    assert decision.status == status
    assert decision.overridden is (block is Block.SOFT and override)
    if block is Block.SOFT:
        assert decision.override_flag == flag
        assert decide(goal, facts, ALL_FLAGS, TODAY).verdict is Verdict.ADMITTED
        others = ALL_FLAGS - {flag}
        assert decide(goal, facts, others, TODAY).verdict is Verdict.SOFT_BLOCKED
        for other in others:
            assert decide(goal, facts, {other}, TODAY).verdict is Verdict.SOFT_BLOCKED
    if block is Block.HARD:
        assert decide(goal, facts, ALL_FLAGS, TODAY).verdict is Verdict.HARD_BLOCKED
        assert decision.override_flag is None


RENEWAL_CASES = {
    "today": (0, Verdict.TARGET),
    "tomorrow": (1, Verdict.TARGET),
    "window end": (90, Verdict.TARGET),
    "past the window": (91, Verdict.ADMITTED),
    "next year": (365, Verdict.ADMITTED),
    "lapsed yesterday": (-1, Verdict.TARGET),
    "grace end": (-30, Verdict.TARGET),
    "past the grace": (-31, Verdict.ADMITTED),
}


@pytest.mark.parametrize(("offset", "verdict"), list(RENEWAL_CASES.values()), ids=list(RENEWAL_CASES))
def test_renewal_targets_customers_by_contract_end(offset: int, verdict: Verdict) -> None:
    facts = AccountFacts(status="customer", contract_end_date=TODAY + timedelta(days=offset))
    decision = decide(REGISTRY["renewal"], facts, (), TODAY)
    assert decision.verdict is verdict
    assert decision.overridden is False


def test_renewal_customer_without_contract_end_is_admitted_not_target() -> None:
    decision = decide(REGISTRY["renewal"], AccountFacts(status="customer"), (), TODAY)
    assert decision.verdict is Verdict.ADMITTED


def test_renewal_window_applies_to_customers_only() -> None:
    soon = TODAY + timedelta(days=10)
    renewal = REGISTRY["renewal"]
    assert decide(renewal, AccountFacts(status="new", contract_end_date=soon), (), TODAY).verdict is Verdict.ADMITTED
    supplier = AccountFacts(status="supplier", contract_end_date=soon)
    assert decide(renewal, supplier, (), TODAY).verdict is Verdict.SOFT_BLOCKED
    assert decide(renewal, supplier, {"include_suppliers"}, TODAY).verdict is Verdict.ADMITTED
    dnc = AccountFacts(status="do_not_contact", contract_end_date=soon)
    assert decide(renewal, dnc, ALL_FLAGS, TODAY).verdict is Verdict.HARD_BLOCKED


def test_renewal_defaults_today_to_the_current_date() -> None:
    facts = AccountFacts(status="customer", contract_end_date=date.today() + timedelta(days=5))
    assert decide(REGISTRY["renewal"], facts).verdict is Verdict.TARGET


INFLUENCER = frozenset({"influencer"})


@pytest.mark.parametrize("status", PIPELINE_AND_PARTNER)
def test_influencer_targets_accounts_with_an_influencer_contact(status: str) -> None:
    goal = REGISTRY["influencer"]
    with_creator = AccountFacts(status=status, contact_role_kinds=frozenset({"buyer", "influencer"}))
    without = AccountFacts(status=status, contact_role_kinds=frozenset({"buyer", "journalist"}))
    assert decide(goal, with_creator, (), TODAY).verdict is Verdict.TARGET
    assert decide(goal, without, (), TODAY).verdict is Verdict.ADMITTED
    assert decide(goal, AccountFacts(status=status), (), TODAY).verdict is Verdict.ADMITTED


def test_influencer_contacts_do_not_lift_blocks() -> None:
    goal = REGISTRY["influencer"]
    press = AccountFacts(status="press", contact_role_kinds=INFLUENCER)
    assert decide(goal, press, (), TODAY).verdict is Verdict.SOFT_BLOCKED
    lifted = decide(goal, press, {"include_press"}, TODAY)
    assert (lifted.verdict, lifted.overridden) == (Verdict.TARGET, True)
    for status in PROTECTED:
        facts = AccountFacts(status=status, contact_role_kinds=INFLUENCER)
        assert decide(goal, facts, ALL_FLAGS, TODAY).verdict is Verdict.HARD_BLOCKED


def test_only_influencer_targets_by_contact_role_kind() -> None:
    facts = AccountFacts(status="new", contact_role_kinds=INFLUENCER)
    targeting = [g.key for g in REGISTRY if decide(g, facts, (), TODAY).verdict is Verdict.TARGET]
    assert targeting == ["influencer"]


@pytest.mark.parametrize("goal_key", SPEC_KEYS)
def test_builtin_goal_satisfies_the_contract(goal_key: str) -> None:
    goal = REGISTRY[goal_key]
    checked = check_goal(goal)
    assert isinstance(checked, Goal)
    for name in ("label", "description", "message_intent", "outcome_label"):
        value = getattr(goal, name)
        assert isinstance(value, str) and value.strip(), name
    assert goal.target_role_kind in {k.value for k in RoleKind}
    assert goal.rubric
    assert sum(c.weight for c in goal.rubric) == pytest.approx(1.0)
    assert len({c.key for c in goal.rubric}) == len(goal.rubric)
    persona = goal.tweak_icp(SAMPLE_PERSONA, SAMPLE_PRODUCT)
    assert isinstance(persona, Persona)
    assert set(goal.guardrails) == set(ALL_STATUSES)


def test_builtin_labels() -> None:
    assert {g.key: g.label for g in REGISTRY} == {
        "customer_expansion": "Customer expansion",
        "event": "Event invitation",
        "influencer": "Influencer outreach",
        "investor": "Investor outreach",
        "link_building": "Link building",
        "partnership": "Partnership",
        "press": "Press coverage",
        "recruiting": "Recruiting",
        "renewal": "Renewal",
        "research": "Research interviews",
        "sales": "Sales",
        "win_back": "Win-back",
    }


def test_press_tweak_turns_buyers_into_journalists() -> None:
    persona = REGISTRY["press"].tweak_icp(SAMPLE_PERSONA, SAMPLE_PRODUCT)
    assert persona.industries[0] == "Media"
    assert "Journalist" in persona.job_titles
    assert persona.keywords == ("Logistics", "fleet")  # the buyers' industries become the beat
    assert "RouteWise" in persona.name


def test_sales_keeps_the_base_persona() -> None:
    assert REGISTRY["sales"].tweak_icp(SAMPLE_PERSONA, SAMPLE_PRODUCT) == SAMPLE_PERSONA
