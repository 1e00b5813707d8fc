"""Recruiting: reach candidates for open roles."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, SignalKind, hookimpl


def recruiting_persona(base: Persona, product: Product) -> Persona:
    # Candidates are people; the persona describes where they work now and what moves them.
    return base.replace(
        name=f"Candidates to build {product.name}",
        summary="People with the skills we hire for, at companies where such people work today.",
        job_titles=("Software Engineer", "Product Manager", "Account Executive", "Customer Success Manager"),
        pain_points=("career growth", "a product that matters", "compensation and equity", "flexible work"),
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
