"""Research: interview customers, experts and analysts to learn about the market."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("People who know the problem {product} solves")
PERSONA_SUMMARY = N_("Practitioners, customers and analysts who can tell us how the problem is handled today.")
PERSONA_PAIN_POINTS = (
    N_("share their expertise"),
    N_("shape a product for their needs"),
    N_("see early results"),
)


def research_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


RESEARCH = Goal(
    key="research",
    label="Research interviews",
    outcome_label="interview booked",
    description="Interview practitioners, customers and analysts to learn how the problem is handled today.",
    target_role_kind="other",
    guardrails={"customer": Guardrail(Block.ALLOWED), "analyst": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("lives_the_problem", 0.35, "keywords", "Deals with the problem day to day."),
        Criterion("practitioner_roles", 0.30, "job_titles", "Has people who do the work."),
        Criterion("industry_fit", 0.20, "industry", "In an industry we want to learn about."),
        Criterion("is_expert", 0.15, "status", "An analyst account."),
    ),
    message_intent="Ask for a short research conversation: why their view matters, that nothing is being sold, "
    "and what they get (findings, early access).",
    tweak_icp=research_persona,
    target_description="analyst accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(RESEARCH)
