"""Customer expansion: sell more to existing customers."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("{product} customers ready to expand")
PERSONA_SUMMARY = N_("Existing customers with more teams, sites or use cases the product could serve.")
PERSONA_PAIN_POINTS = (
    N_("other teams with the same problem"),
    N_("adjacent needs"),
    N_("consolidating tools"),
)


def expansion_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        job_titles=tuple(dict.fromkeys((*base.job_titles, "Department Head", "Procurement Lead"))),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


CUSTOMER_EXPANSION = Goal(
    key="customer_expansion",
    label="Customer expansion",
    outcome_label="expansion agreed",
    description="Grow existing customers: more seats, teams, sites or products.",
    target_role_kind="buyer",
    guardrails={"customer": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("is_customer", 0.35, "status", "Already a customer."),
        Criterion("room_to_grow", 0.25, "company_size", "Large enough to have more teams to serve."),
        Criterion("new_buyers", 0.25, "job_titles", "Has decision makers in other departments."),
        Criterion("adjacent_needs", 0.15, "keywords", "Shows needs the product covers beyond today's use."),
    ),
    message_intent="Build on what the customer already achieved and propose the next use, team or site, with a "
    "concrete benefit.",
    tweak_icp=expansion_persona,
    target_description="customer accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(CUSTOMER_EXPANSION)
