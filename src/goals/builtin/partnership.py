"""Partnership: recruit resellers, integrators and co-marketing partners."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Partners for {product}")
PERSONA_SUMMARY = N_("Companies that serve the same customers as {product} and could resell, integrate or "
                     "co-market it.")
PERSONA_PAIN_POINTS = (
    N_("grow revenue from their existing customers"),
    N_("complete their offering"),
    N_("differentiate from competitors"),
)


def partner_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        job_titles=("Head of Partnerships", "Business Development Director", "Alliances Manager", "CEO"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


PARTNERSHIP = Goal(
    key="partnership",
    label="Partnership",
    outcome_label="partnership agreed",
    description="Find companies that share your customers and could resell, integrate or co-market the product.",
    target_role_kind="partner",
    guardrails={"customer": Guardrail(Block.ALLOWED), "supplier": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("audience_overlap", 0.30, "industry", "Serves the industries our customers are in."),
        Criterion("complementary_offer", 0.25, "keywords", "Sells something that complements the product."),
        Criterion("partner_team", 0.20, "job_titles", "Has partnership or business-development people."),
        Criterion("scale", 0.15, "company_size", "Large enough to bring deals, small enough to care."),
        Criterion("market_fit", 0.10, "country", "Works in our markets."),
    ),
    message_intent="Propose a partnership: show the customer overlap and a concrete way both sides win, and ask "
    "who owns partnerships.",
    tweak_icp=partner_persona,
    target_description="suppliers and companies serving the same customers",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(PARTNERSHIP)
