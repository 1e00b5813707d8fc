"""Press: earn coverage from publications, journalists and analysts."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, SignalKind, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Press covering {product}'s market")
PERSONA_SUMMARY = N_("Publications, podcasts and journalists whose audience cares about the problem the product "
                     "solves.")
PERSONA_PAIN_POINTS = (
    N_("fresh stories for their audience"),
    N_("data and expert sources"),
    N_("exclusive angles"),
)


def press_persona(base: Persona, product: Product) -> Persona:
    # Press targets publications; the company-size range now means audience size, and the
    # industries the product sells into become the beats a journalist covers.
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        industries=("Media", "Publishing", "Podcasts", "News"),
        job_titles=("Journalist", "Editor", "Reporter", "Podcast Host", "Analyst"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
        keywords=tuple(dict.fromkeys((*base.industries, *base.keywords))),
    )


PRESS = Goal(
    key="press",
    label="Press coverage",
    outcome_label="coverage placed",
    signal_kinds=(
        SignalKind("story_angle", "Story angle", "What the journalist or editor would write about, or wants more of."),
        SignalKind("deadline", "Deadline", "When they publish, an editorial calendar, a closing date for a piece."),
        SignalKind("contact_route", "Contact route", "Who covers the topic now, or the way in (an editor, a desk)."),
        SignalKind("competitor", "Competitor", "Rivals they covered or are about to cover."),
    ),
    description="Pitch a story to publications, journalists and analysts who cover your market.",
    target_role_kind="journalist",
    guardrails={
        "customer": Guardrail(Block.SOFT),
        "press": Guardrail(Block.TARGET),
        "analyst": Guardrail(Block.TARGET),
    },
    rubric=(
        Criterion("beat_match", 0.35, "keywords", "Covers the topics and industries the story is about."),
        Criterion("is_media", 0.25, "status", "A publication, journalist or analyst."),
        Criterion("journalist_access", 0.20, "role_kind", "Has a journalist or editor we can reach."),
        Criterion("audience_size", 0.10, "company_size", "Audience within the range that matters."),
        Criterion("market_fit", 0.10, "country", "Publishes in our markets."),
    ),
    message_intent="Offer a story angle with a hook for their audience (data, a customer, an exclusive) and ask "
    "whether they would cover it.",
    tweak_icp=press_persona,
    target_description="press and analyst accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(PRESS)
