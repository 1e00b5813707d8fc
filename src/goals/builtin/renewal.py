"""Renewal: renew customers whose contract ends soon."""

from datetime import date, timedelta

from outboundql.goals import AccountFacts, Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

#: A customer is the renewal target when its contract ends within this many days (or ended
#: at most 30 days ago: a lapsed contract is still worth renewing).
RENEWAL_WINDOW_DAYS = 90
GRACE_DAYS = 30


PERSONA_NAME = N_("{product} customers up for renewal")
PERSONA_SUMMARY = N_("Customers whose contract ends soon: confirm the value delivered and renew.")
PERSONA_PAIN_POINTS = (
    N_("contract ending"),
    N_("proving the value delivered"),
    N_("budget for next year"),
)


def renewal_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


def contract_ends_soon(goal: Goal, facts: AccountFacts, today: date) -> bool:
    """Customers whose contract ends within the renewal window are the target audience."""
    end = facts.contract_end_date
    return (
        facts.status == "customer"
        and end is not None
        and today - timedelta(days=GRACE_DAYS) <= end <= today + timedelta(days=RENEWAL_WINDOW_DAYS)
    )


RENEWAL = Goal(
    key="renewal",
    label="Renewal",
    outcome_label="renewed",
    description=f"Renew customers whose contract ends within {RENEWAL_WINDOW_DAYS} days.",
    target_role_kind="buyer",
    guardrails={"customer": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("contract_timing", 0.45, "contract_window", "Contract ends within the renewal window."),
        Criterion("is_customer", 0.30, "status", "Currently a customer."),
        Criterion("owner_reachable", 0.25, "job_titles", "The person who signs is reachable."),
    ),
    message_intent="Start the renewal: recap the value delivered this term, confirm the renewal date, and offer "
    "a call to plan the next one.",
    tweak_icp=renewal_persona,
    is_target=contract_ends_soon,
    target_description=f"customers whose contract ends within {RENEWAL_WINDOW_DAYS} days",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(RENEWAL)
