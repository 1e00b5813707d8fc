"""Drafting outreach messages: what a drafter is given, what it answers, and the built-in template drafter.

A drafter is pure with respect to the database: the service builds a `DraftRequest` (goal, product,
persona, account, contact, thread, language), calls `Drafter.draft`, and stores the draft and any
paid usage. The template drafter is offline and deterministic; its sentences come from gettext
catalogs (``drafting/locales/<lang>/LC_MESSAGES/drafts.po``: en, es, fr, de, ca), and a language
without a catalog is drafted in English (the answer says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from outboundql.i18n import Catalogs

CATALOGS = Catalogs("outboundql.drafting", "drafts")

FIRST = "ai_draft"
CONTINUE = "ai_continue"


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    direction: str  # "outbound" | "inbound"
    status: str  # "draft" | "sent"
    subject: str | None
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DraftRequest:
    """Everything a drafter may use. ``language`` is the resolved language (account → campaign → product →
    acting user → en)."""

    mode: str  # FIRST or CONTINUE
    language: str
    channel: str
    goal_key: str
    goal_label: str
    message_intent: str
    product_name: str
    product_description: str = ""
    persona_summary: str = ""
    pain_points: Sequence[str] = ()
    account_name: str
    account_industry: str | None = None
    account_description: str = ""
    contact_name: str | None = None
    contact_title: str | None = None
    sender_name: str = ""
    thread: Sequence[ThreadMessage] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """One call to a paid service, recorded as an ApiUsage row."""

    provider: str
    model: str
    operation: str  # "draft" | "translate"
    input_units: int
    output_units: int
    cost_usd: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class Draft:
    subject: str | None
    text: str
    language: str  # the language actually written in
    drafter: str  # "template" | "llm"
    model: str | None = None
    usage: Sequence[Usage] = field(default_factory=tuple)
    notice: str | None = None  # e.g. why the LLM drafter fell back to the templates


class Drafter(Protocol):
    name: str

    async def draft(self, request: DraftRequest) -> Draft: ...


#: Per built-in goal: the opening sentence of a first message and the ask that closes it.
GOAL_SENTENCES: dict[str, tuple[str, str]] = {
    "sales": ("I am reaching out because teams like {account} often lose time on work that {product} takes off "
              "their hands.", "Would you have 20 minutes next week for a short call?"),
    "partnership": ("I think {account} and {product} serve many of the same customers, and a partnership could "
                    "help both of us.", "Would you be open to a call to explore it?"),
    "press": ("I have a story about {product} that I believe the readers of {account} would find worth covering.",
              "Would you be interested in covering it? I can share all the details."),
    "investor": ("I would like to introduce {product} to {account}: we are growing, and I believe we fit your "
                 "thesis.", "Could we find 30 minutes for an introduction?"),
    "recruiting": ("Your experience caught my attention, and I think a role working on {product} could interest "
                   "you.", "Would you be open to a short conversation?"),
    "customer_expansion": ("Thank you for everything {account} has achieved with {product} so far; I see a next "
                           "step that could add even more.", "Shall we set up a short call to look at it together?"),
    "win_back": ("It has been a while since {account} used {product}, and a lot has changed since then.",
                 "Would you be open to a quick catch-up?"),
    "event": ("We are hosting an event around {product}, and I would be glad to see someone from {account} there.",
              "May I send you an invitation?"),
    "research": ("I am researching how teams like {account} work, and your view would help us a great deal; "
                 "nothing is for sale.", "Could you spare 20 minutes for a conversation?"),
    "influencer": ("I enjoy what you publish, and I think your audience would like {product}; I would love to "
                   "collaborate.", "Would you like to hear what we have in mind?"),
    "link_building": ("I have an article idea for the readers of {account}, on a subject close to {product}, written "
                      "to fit your site.", "Would you be open to a guest post, or to a link to our guide?"),
    "renewal": ("The current {product} term of {account} is coming to an end, and I would like to make the "
                "renewal easy.", "When would suit you for a short call about the renewal?"),
}
GENERIC_SENTENCES = ("I am reaching out from {product} because I believe it could matter to {account}.",
                     "Would you be open to a short conversation?")
#: Channels whose messages carry a subject line.
SUBJECT_CHANNELS = frozenset({"email"})


def _purpose(intent: str) -> str:
    """A goal's message intent as the end of a sentence: first letter lowered (unless an acronym), one
    closing full stop. Written by the plugin, it is not translated."""
    intent = " ".join(intent.split())
    if not intent:
        return ""
    if not (len(intent) > 1 and intent[1].isupper()):
        intent = intent[0].lower() + intent[1:]
    return intent if intent[-1] in ".!?" else intent + "."


class TemplateDrafter:
    """Offline drafts from the catalogs: greeting, the goal's opening (for a goal without sentences of its
    own, a generic one and its message intent as the purpose), a pain point of the persona, the goal's ask,
    sign-off; a continuation thanks for a reply or follows up on the last message."""

    name = "template"

    async def draft(self, request: DraftRequest) -> Draft:
        language = CATALOGS.resolve_language(request.language)

        def t(msgid: str, **values: object) -> str:
            return CATALOGS.translate(language, msgid, **values)

        names = {"account": request.account_name, "product": request.product_name}
        opening, ask = GOAL_SENTENCES.get(request.goal_key, GENERIC_SENTENCES)
        # A goal without sentences of its own (a plugin's) states its message intent as the purpose.
        purpose = _purpose(request.message_intent) if request.goal_key not in GOAL_SENTENCES else ""
        first_name = (request.contact_name or "").split()[0] if (request.contact_name or "").strip() else ""
        greeting = t("Hello {name},", name=first_name) if first_name else t("Hello,")
        body: list[str] = []
        last_subject = next((m.subject for m in reversed(request.thread) if m.subject), None)
        if request.mode == CONTINUE:
            last_sent = next((m for m in reversed(request.thread) if m.status == "sent"), None)
            if last_sent is not None and last_sent.direction == "inbound":
                body += [t("Thank you for your reply."), t("I am glad to answer any questions about {product}.",
                                                           **names)]
            else:
                body.append(t("I wanted to follow up on my previous message about {product}.", **names))
            body.append(t(ask))
            subject = f"Re: {last_subject}" if last_subject else t("{product} for {account}", **names)
        else:
            body.append(t(opening, **names))
            if purpose:
                body.append(t("The purpose of my message: {purpose}", purpose=purpose))
            pain = next((p.strip().rstrip(".") for p in request.pain_points if p.strip()), None)
            if pain:
                body.append(t("Many teams we talk to mention {pain_point}.", pain_point=pain))
            body.append(t(ask))
            subject = t("{product} for {account}", **names)
        closing = t("Best regards,") + (f"\n{request.sender_name}" if request.sender_name else "")
        text = "\n\n".join([greeting, " ".join(body), closing])
        return Draft(subject=subject if request.channel in SUBJECT_CHANNELS else None, text=text,
                     language=language, drafter=self.name)
