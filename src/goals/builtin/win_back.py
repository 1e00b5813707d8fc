"""Win-back: bring back churned customers and lost deals."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Former {product} customers and lost deals")
PERSONA_SUMMARY = N_("Accounts that left or chose something else, for whom what changed since may matter.")
PERSONA_PAIN_POINTS = (
    N_("why they left or said no"),
    N_("what changed in the product since"),
    N_("their current workaround"),
)


def win_back_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
    )


WIN_BACK = Goal(
    key="win_back",
    label="Win-back",
    outcome_label="won back",
    description="Re-engage churned customers and lost deals with what changed since.",
    target_role_kind="buyer",
    guardrails={
        "customer": Guardrail(Block.SOFT),
        "churned": Guardrail(Block.TARGET),
        "lost": Guardrail(Block.TARGET),
    },
    rubric=(
        Criterion("was_ours", 0.40, "status", "Churned customer or lost deal."),
        Criterion("still_fits", 0.25, "industry", "Still in an industry the product serves."),
        Criterion("decision_maker", 0.20, "job_titles", "A decision maker is still reachable."),
        Criterion("size_fit", 0.15, "company_size", "Still within the persona's size range."),
    ),
    message_intent="Reopen the conversation with a former customer or lost deal: acknowledge why they left, show "
    "what changed, and offer an easy way back.",
    tweak_icp=win_back_persona,
    target_description="churned and lost accounts",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(WIN_BACK)
