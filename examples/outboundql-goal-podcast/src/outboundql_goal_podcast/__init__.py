"""Podcast guest: get invited onto the podcasts the product's buyers listen to."""

from datetime import date

from outboundql.goals import AccountFacts, Block, Criterion, Goal, Guardrail, Persona, Product, RegisterGoal, hookimpl


def podcast_persona(base: Persona, product: Product) -> Persona:
    """Turn the product's sales persona into the shows worth pitching: the buyers' industries and
    keywords become the topics a show covers; the company size range becomes audience size."""
    return base.replace(
        name=f"Podcasts {product.name}'s buyers listen to",
        summary="Shows and hosts whose listeners have the problem the product solves.",
        industries=("Podcasts", "Media"),
        job_titles=("Podcast Host", "Producer", "Guest Booker"),
        pain_points=("guests with a story worth an episode", "fresh angles for their listeners"),
        keywords=tuple(dict.fromkeys((*base.industries, *base.keywords))),
    )


def is_show(goal: Goal, facts: AccountFacts, today: date) -> bool:
    """The target audience: press accounts, and any account with an influencer (a host) among its contacts."""
    return facts.status == "press" or "influencer" in facts.contact_role_kinds


PODCAST = Goal(
    key="podcast",
    label="Podcast guest",
    description="Get invited as a guest on the podcasts your buyers listen to.",
    target_role_kind="influencer",
    guardrails={
        "press": Guardrail(Block.TARGET),  # shows are media accounts
        "customer": Guardrail(Block.ALLOWED),  # a customer who hosts a show is a great first guest spot
    },
    rubric=(
        Criterion("topic_fit", 0.4, "keywords", "The show covers the topics our buyers care about."),
        Criterion("host_reachable", 0.3, "role_kind", "We can reach the host or the producer."),
        Criterion("is_media", 0.2, "status", "A press account: a show, network or publication."),
        Criterion("market_fit", 0.1, "country", "The show's audience is in our markets."),
    ),
    message_intent="Pitch a guest episode: the story the host's listeners would get, why you are the one to "
    "tell it, and a simple way to book a recording.",
    tweak_icp=podcast_persona,
    is_target=is_show,
    target_description="press accounts and accounts with a podcast host (influencer) among their contacts",
    outcome_label="episode booked",
)


@hookimpl
def outboundql_register_goals(register: RegisterGoal) -> None:
    register(PODCAST)
