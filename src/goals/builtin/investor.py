"""Investor: raise money from funds and angels whose thesis fits."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, SignalKind, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Investors for {product}")
PERSONA_SUMMARY = N_("Funds and angels whose thesis covers the market the product sells into.")
PERSONA_PAIN_POINTS = (
    N_("deal flow within their thesis"),
    N_("evidence of traction"),
)


def investor_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        industries=("Venture Capital", "Private Equity", "Angel Investing"),
        job_titles=("General Partner", "Partner", "Principal", "Investment Manager"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
        keywords=tuple(dict.fromkeys((*base.industries, *base.keywords))),
        company_size_min=None,
        company_size_max=None,
    )


INVESTOR = Goal(
    key="investor",
    label="Investor outreach",
    outcome_label="intro call booked",
    signal_kinds=(
        SignalKind("thesis", "Thesis", "What they invest in, or a fit or misfit with their focus."),
        SignalKind("check_size", "Check size", "How much they put in, at which stage, whether they lead."),
        SignalKind("timing", "Timing", "When they deploy, fund cycles, when to come back."),
        SignalKind("decision_maker", "Decision maker", "The partner who decides, and how decisions are taken."),
    ),
    description="Reach funds and angels whose thesis fits the product's market.",
    target_role_kind="investor",
    guardrails={"customer": Guardrail(Block.SOFT), "investor": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("thesis_fit", 0.40, "keywords", "Invests in the product's market."),
        Criterion("is_investor", 0.25, "status", "An investor account."),
        Criterion("partner_access", 0.20, "role_kind", "Has an investor contact we can reach."),
        Criterion("geography", 0.15, "country", "Invests where we operate."),
    ),
    message_intent="Introduce the company to an investor: the market, the traction and why it fits their thesis, "
    "and ask for a first meeting.",
    tweak_icp=investor_persona,
    target_description="investor accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(INVESTOR)
