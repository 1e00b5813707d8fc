"""Win-back: bring back churned customers and lost deals."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl


def win_back_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=f"Former {product.name} customers and lost deals",
        summary="Accounts that left or chose something else, for whom what changed since may matter.",
        pain_points=("why they left or said no", "what changed in the product since", "their current workaround"),
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
