"""Link building: earn a backlink — a guest post or a link placed — from publications that cover your topic."""

from outboundql.goals import Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Sites writing about {product}'s topics")
PERSONA_SUMMARY = N_("Blogs, magazines and resource pages whose readers care about the problem the product solves, "
                     "with an editor who takes guest posts or adds links.")
PERSONA_PAIN_POINTS = (
    N_("useful content for their readers"),
    N_("expert contributors"),
    N_("resources worth linking to"),
)


def link_building_persona(base: Persona, product: Product) -> Persona:
    # Link building targets sites, not buyers: the company-size range stands for the audience a site reaches,
    # and the product's market becomes the topics a site must write about for a link to be worth having.
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        industries=("Media", "Publishing", "Blogs", "Online Media"),
        job_titles=("Editor", "Managing Editor", "Content Manager", "Blogger", "Webmaster"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
        keywords=tuple(dict.fromkeys((*base.keywords, *base.industries))),
    )


LINK_BUILDING = Goal(
    key="link_building",
    label="Link building",
    outcome_label="placed",
    description="Earn backlinks: pitch a guest post or a link placement to publications and blogs on your topic.",
    target_role_kind="journalist",
    guardrails={
        "press": Guardrail(Block.TARGET),
    },
    rubric=(
        Criterion("topical_relevance", 0.40, "keywords", "Writes about the topics the link is for."),
        Criterion("is_publication", 0.20, "status", "A publication, blog or media site."),
        Criterion("editor_reachable", 0.25, "role_kind", "Has an editor or author we can reach."),
        Criterion("audience", 0.15, "company_size", "Reaches an audience within the range that matters."),
    ),
    message_intent="Pitch a placement: a guest post idea or a resource worth linking, with what their readers "
    "gain, and ask whether they would publish it.",
    tweak_icp=link_building_persona,
    target_description="press accounts: publications, blogs and media sites",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(LINK_BUILDING)
