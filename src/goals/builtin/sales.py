"""Sales: win new customers for the product."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, RegisterGoal, hookimpl

SALES = Goal(
    key="sales",
    label="Sales",
    outcome_label="meeting booked",
    description="Prospect companies that match the product's ideal customer profile and start a sales conversation.",
    target_role_kind="buyer",
    guardrails={"customer": Guardrail(Block.SOFT)},  # every other relationship status is soft-blocked by default
    rubric=(
        Criterion("industry_fit", 0.25, "industry", "Operates in an industry the persona targets."),
        Criterion("size_fit", 0.20, "company_size", "Company size within the persona's range."),
        Criterion("need_signals", 0.20, "keywords", "Describes problems the product solves."),
        Criterion("buyer_access", 0.15, "job_titles", "Has contacts in the roles that buy."),
        Criterion("market_fit", 0.10, "country", "Located in a market the persona covers."),
        Criterion("exclusion_risk", 0.10, "exclusions", "Free of the persona's exclusions."),
    ),
    message_intent="Open a sales conversation: name a pain this account likely has, show how the product removes "
    "it, and ask for a short call.",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(SALES)
