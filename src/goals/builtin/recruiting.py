"""Recruiting: reach candidates for open roles."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, SignalKind, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Candidates to build {product}")
PERSONA_SUMMARY = N_("People with the skills we hire for, at companies where such people work today.")
PERSONA_PAIN_POINTS = (
    N_("career growth"),
    N_("a product that matters"),
    N_("compensation and equity"),
    N_("flexible work"),
)


def recruiting_persona(base: Persona, product: Product) -> Persona:
    # Candidates are people; the persona describes where they work now and what moves them.
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        job_titles=("Software Engineer", "Product Manager", "Account Executive", "Customer Success Manager"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


RECRUITING = Goal(
    key="recruiting",
    label="Recruiting",
    outcome_label="hired",
    signal_kinds=(
        SignalKind("availability", "Availability", "When they could start, notice periods, whether they are looking."),
        SignalKind("compensation", "Compensation", "Pay, equity or benefits they expect or have now."),
        SignalKind("movement", "Movement", "A job change, a team leaving, a reorganisation."),
        SignalKind("referral", "Referral", "Someone else they suggest for the role."),
    ),
    description="Reach candidates for open roles, where they work today.",
    target_role_kind="candidate",
    guardrails={"customer": Guardrail(Block.SOFT), "candidate": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("role_match", 0.35, "job_titles", "Has people in the roles we hire for."),
        Criterion("is_candidate", 0.25, "status", "A candidate account."),
        Criterion("skills_signals", 0.20, "keywords", "Works with the skills and tools we need."),
        Criterion("location", 0.20, "country", "In a country where we can hire."),
    ),
    message_intent="Invite a candidate to talk about a role: why their experience fits and what they would gain "
    "(growth, impact, flexibility).",
    tweak_icp=recruiting_persona,
    target_description="candidate accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(RECRUITING)
