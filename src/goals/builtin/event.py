"""Event: invite people to an event, webinar or meetup."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Attendees for {product} events")
PERSONA_SUMMARY = N_("People who would get value from attending: peers of our buyers, customers and prospects.")
PERSONA_PAIN_POINTS = (
    N_("learn from peers"),
    N_("see what others do"),
    N_("meet the team behind the product"),
)


def event_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


EVENT = Goal(
    key="event",
    label="Event invitation",
    outcome_label="registered",
    description="Invite customers and prospects to an event, webinar or meetup.",
    target_role_kind="buyer",
    guardrails={"customer": Guardrail(Block.ALLOWED)},
    rubric=(
        Criterion("topic_interest", 0.35, "keywords", "Interested in the event's topics."),
        Criterion("attendee_roles", 0.30, "job_titles", "Has people in the roles the event is for."),
        Criterion("location", 0.20, "country", "Close enough to attend."),
        Criterion("industry_fit", 0.15, "industry", "In an industry the event speaks to."),
    ),
    message_intent="Invite them to the event: what they will learn or whom they will meet, the date and place, "
    "and how to register.",
    tweak_icp=event_persona,
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(EVENT)
