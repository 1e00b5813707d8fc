"""Influencer: reach creators whose audience matches the product's buyers."""

from datetime import date

from outboundql.goals import AccountFacts, Criterion, Goal, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.builtin.i18n import N_, all_in_language, in_language

PERSONA_NAME = N_("Creators whose audience buys {product}")
PERSONA_SUMMARY = N_("Creators, newsletter authors and community leaders followed by the product's buyers.")
PERSONA_PAIN_POINTS = (
    N_("content their audience values"),
    N_("fair sponsorships"),
    N_("products worth recommending"),
)


def influencer_persona(base: Persona, product: Product) -> Persona:
    return base.replace(
        name=in_language(product, PERSONA_NAME),
        summary=in_language(product, PERSONA_SUMMARY),
        industries=("Media", "Creators", "Newsletters", "Communities"),
        job_titles=("Creator", "Newsletter Author", "Community Lead", "YouTuber", "Podcast Host"),
        pain_points=all_in_language(product, PERSONA_PAIN_POINTS),
        keywords=tuple(dict.fromkeys((*base.industries, *base.keywords))),
    )


def has_influencer(goal: Goal, facts: AccountFacts, today: date) -> bool:
    """The target audience is accounts with at least one contact whose role kind is influencer."""
    return "influencer" in facts.contact_role_kinds


INFLUENCER = Goal(
    key="influencer",
    label="Influencer outreach",
    outcome_label="collaboration agreed",
    description="Reach creators and community leaders whose audience matches the product's buyers.",
    target_role_kind="influencer",
    rubric=(
        Criterion("audience_match", 0.40, "keywords", "Their audience cares about the product's topics."),
        Criterion("creator_access", 0.30, "role_kind", "Has an influencer contact we can reach."),
        Criterion("audience_size", 0.15, "company_size", "Audience within the range that matters."),
        Criterion("market_fit", 0.15, "country", "Audience in our markets."),
    ),
    message_intent="Propose a collaboration to a creator: why their audience would care, what you offer, and a "
    "simple next step.",
    tweak_icp=influencer_persona,
    is_target=has_influencer,
    target_description="accounts with contacts whose role kind is influencer",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(INFLUENCER)
