"""draftMessage: a first message, the next one in a thread, or "type and translate", saved as a draft.

The language is resolved account → campaign → product → acting user → ``en``. The template drafter
writes in that language when it has a catalog for it (else English, and the answer says so); an
LLM drafter, when one is configured, writes in any language and records its paid usage. Type and
translate needs the LLM: without one nothing is written and the answer says translation is
unavailable. Drafts move nothing (no outreach status, counter or account status changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from outboundql import drafting, i18n, models
from outboundql.enums import Channel, Direction, MessageMode, MessageStatus, Role
from outboundql.errors import Collector, InvalidInput, Unavailable
from outboundql.goals.registry import GoalRegistry
from outboundql.services import api_usage, audit, events, fields, normalize
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import get_row
from outboundql.services.messages import clean_key, replay, thread_queryset
from outboundql.settings import Settings

MODES = (MessageMode.AI_DRAFT, MessageMode.AI_CONTINUE, MessageMode.TYPE_AND_TRANSLATE)


@dataclass(frozen=True, slots=True)
class DraftMessage:
    """Draft a message on a campaign account's thread, saved as a DRAFT (see the module docstring)."""

    campaign_account_id: int
    mode: MessageMode = MessageMode.AI_DRAFT
    """AI_DRAFT, AI_CONTINUE or TYPE_AND_TRANSLATE."""
    channel: Channel = Channel.EMAIL
    contact_id: int | None = None
    """Default (None): the campaign account's contact."""
    language: str | None = None
    """Override the resolved language (a BCP 47 tag, see ``normalize.normalize_language``)."""
    text: str | None = None
    """TYPE_AND_TRANSLATE: the text to translate."""
    source_language: str | None = None
    """TYPE_AND_TRANSLATE: the language of ``text`` (default: the acting user's)."""
    subject: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Drafted:
    message: models.Message
    language: str
    requested_language: str
    drafter: str
    replayed: bool = False
    drafter_notice: str | None = None
    llm_configured: bool = False
    """An LLM drafter was used (a template draft then means it failed, and the drafter notice says so)."""

    @property
    def notice(self) -> str | None:
        notes = [self.drafter_notice] if self.drafter_notice else []
        if i18n.primary_language(self.language) != i18n.primary_language(self.requested_language):
            advice = "" if self.llm_configured else "; configure an LLM to draft in any language"
            notes.append(f"The built-in drafter has no catalog for {self.requested_language!r}, so this draft is "
                         f"in English{advice}.")
        return " ".join(notes) or None


def resolve_language(account: models.Account, campaign: models.Campaign, product: models.Product,
                     user: models.User) -> str:
    """account → campaign → product → acting user → en: the first language tag set, as stored (canonical,
    e.g. ``pt-BR``)."""
    for value in (account.language, campaign.communication_language, product.communication_language,
                  user.language):
        if value and value.strip():
            return value.strip()
    return "en"


def select_drafter(settings: Settings) -> drafting.Drafter:
    """The LLM drafter when an LLM is configured, else the template drafter."""
    from outboundql.drafting import llm

    return llm.drafter(settings) or drafting.TemplateDrafter()


async def draft_message(access: Access, settings: Settings, registry: GoalRegistry, cmd: DraftMessage) -> Drafted:
    """Draft and save; once committed, the campaign's page hears ``accounts_changed`` (a replay publishes
    nothing)."""
    row = await get_row(access, cmd.campaign_account_id, Role.MEMBER, "campaign_account_id")
    drafted = await _draft(access, settings, registry, row, cmd)
    if not drafted.replayed:
        await events.publish_campaign_event(row.campaign_id, "accounts_changed")
    return drafted


async def _draft(access: Access, settings: Settings, registry: GoalRegistry, row: models.CampaignAccount,
                 cmd: DraftMessage) -> Drafted:
    campaign = row.campaign
    key = clean_key(cmd.idempotency_key)
    mode = MessageMode(cmd.mode or MessageMode.AI_DRAFT)
    channel = Channel(cmd.channel or Channel.EMAIL)
    check = Collector()
    if mode not in MODES:
        check.add("mode", "Draft with AI_DRAFT, AI_CONTINUE or TYPE_AND_TRANSLATE; log other messages with "
                  "logMessage.")
    contact_id = row.contact_id if cmd.contact_id is None else cmd.contact_id
    contact = None
    if contact_id is not None:
        contact = await models.Contact.filter(id=contact_id, account_id=row.account_id).first()
        if contact is None:
            check.add("contact_id", "Contact not found.", code="NOT_FOUND")  # worded like any missing row
    try:
        override = normalize.normalize_language(cmd.language)
    except ValueError as exc:
        check.add("language", str(exc))
        override = None
    try:
        normalize.normalize_language(cmd.source_language)  # checked whatever the mode: used by TYPE_AND_TRANSLATE
    except ValueError as exc:
        check.add("source_language", str(exc))
    cleaned = fields.clean({"text": cmd.text, "subject": cmd.subject},
                           {"text": fields.long_text(label="Text"), "subject": fields.text(500, label="Subject")},
                           check)
    text = cleaned.get("text") or ""
    if mode is MessageMode.TYPE_AND_TRANSLATE and not text:
        check.add("text", "Type the text to translate.")
    thread = await thread_queryset(row.id)  # the whole conversation, in the order it was said
    if mode is MessageMode.AI_CONTINUE and not any(m.status is MessageStatus.SENT for m in thread):
        check.add("mode", "Nothing to continue: no message was sent or received on this thread yet; "
                  "draft a first message with AI_DRAFT.")
    check.raise_if_any()
    earlier = await replay(access, campaign.project_id, key, row.id, action="message.draft",
                           request=_draft_request(mode, channel, text, cleaned.get("subject")))
    if earlier is not None:
        return _replayed(earlier)
    account = await models.Account.get(id=row.account_id)
    product = await models.Product.get(id=campaign.product_id)
    language = override or resolve_language(account, campaign, product, access.user)
    if mode is MessageMode.TYPE_AND_TRANSLATE:
        return await _type_and_translate(access, settings, row, contact, channel, text, language, key,
                                         cleaned.get("subject"), cmd.source_language)
    goal = registry.get(campaign.goal_key)
    persona = await models.Persona.filter(product_id=product.id, goal_key=campaign.goal_key).first()
    request = drafting.DraftRequest(
        mode=drafting.CONTINUE if mode is MessageMode.AI_CONTINUE else drafting.FIRST,
        language=language, channel=channel.value, goal_key=campaign.goal_key,
        goal_label=goal.label if goal else campaign.goal_key, message_intent=goal.message_intent if goal else "",
        product_name=product.name, product_description=product.description or "",
        persona_summary=persona.summary if persona else "", pain_points=tuple(persona.pain_points) if persona else (),
        account_name=account.name, account_industry=account.industry, account_description=account.description,
        contact_name=contact.name if contact else None, contact_title=contact.title if contact else None,
        sender_name=access.user.name or "",
        thread=tuple(drafting.ThreadMessage(m.direction.value, m.status.value, m.subject, m.original_text)
                     for m in thread),
    )
    drafter = select_drafter(settings)
    draft = await drafter.draft(request)
    message = await _save(access, row, contact, channel, mode, key, {
        "subject": draft.subject, "original_text": draft.text, "original_language": draft.language,
    }, draft.usage)
    if isinstance(message, Drafted):
        return message
    return Drafted(message, draft.language, language, draft.drafter, llm_configured=drafter.name != "template",
                   drafter_notice=" ".join(filter(None, [draft.notice, _do_not_contact_notice(account, contact)]))
                   or None)


def _draft_request(mode: MessageMode, channel: Channel, text: str, subject: str | None) -> dict[str, Any]:
    """What a retry must repeat for its key to answer the earlier draft (the typed text when translating)."""
    request: dict[str, Any] = {"direction": Direction.OUTBOUND, "status": MessageStatus.DRAFT, "mode": mode,
                               "channel": channel}
    if mode is MessageMode.TYPE_AND_TRANSLATE:
        request.update(original_text=text, subject=subject)
    return request


def _do_not_contact_notice(account: models.Account, contact: models.Contact | None) -> str | None:
    if account.status.value == "do_not_contact":
        return f"{account.name} is marked do_not_contact: this draft cannot be logged as sent."
    if contact is not None and contact.do_not_contact:
        return f"{contact.name} is marked do not contact: pick another contact before sending."
    return None


async def _type_and_translate(access: Access, settings: Settings, row: models.CampaignAccount,
                              contact: models.Contact | None, channel: Channel, text: str, language: str,
                              key: str | None, subject: str | None, source_language: str | None) -> Drafted:
    from outboundql.drafting import llm

    translator = llm.translator(settings)
    if translator is None:
        raise Unavailable(f"Translation is unavailable: no LLM is configured on this server "
                          f"(set OUTBOUNDQL_LLM_URL and OUTBOUNDQL_LLM_MODEL). Nothing was saved; write the message "
                          f"in {language!r} yourself and log it with logMessage.", field="mode")
    try:
        source = normalize.normalize_language(source_language) or access.user.language
    except ValueError as exc:
        raise InvalidInput(str(exc), field="source_language") from None
    try:
        translation = await translator.translate(text, source=source, target=language)
    except llm.TranslationFailed as exc:
        await record_usage(row, exc.usage)  # billed even though it failed
        raise Unavailable(f"{exc} Nothing was saved; try again later, or write the message in {language!r} "
                          "yourself and log it with logMessage.", field="mode") from None
    message = await _save(access, row, contact, channel, MessageMode.TYPE_AND_TRANSLATE, key, {
        "subject": subject, "original_text": text, "original_language": source,
        "translated_text": translation.text, "translated_language": language,
    }, translation.usage)
    if isinstance(message, Drafted):
        return message
    return Drafted(message, language, language, translator.name)


async def record_usage(row: models.CampaignAccount, usage: Any) -> None:
    """One ApiUsage row per billed LLM call, attributed to the campaign and wholly to the account."""
    await api_usage.record(row.campaign.project_id, row.campaign_id, [
        api_usage.PaidCall(u.provider, u.model, u.operation, u.input_units, u.output_units, u.cost_usd,
                           account_ids=[row.account_id])
        for u in usage
    ])


async def _save(access: Access, row: models.CampaignAccount, contact: models.Contact | None, channel: Channel,
                mode: MessageMode, key: str | None, content: dict[str, Any], usage: Any
                ) -> models.Message | Drafted:
    campaign = row.campaign
    # The LLM call is billed whatever happens to the draft: its usage is its own write, committed before the
    # draft's insert, so a failed insert (a duplicate key of a concurrent retry…) never rolls it back.
    async with in_transaction():
        await record_usage(row, usage)
    try:
        async with in_transaction():
            message = await models.Message.create(
                project_id=campaign.project_id, campaign_account_id=row.id, direction=Direction.OUTBOUND,
                channel=channel, status=MessageStatus.DRAFT, mode=mode, contact=contact, idempotency_key=key,
                created_by=access.user, **content,
            )
            await audit.record(project_id=campaign.project_id, actor=access.user, action="message.draft",
                               row=message, after=audit.snapshot(message, ["campaign_account_id", "mode", "channel",
                                                                           "original_language"]))
    except IntegrityError:
        earlier = await replay(access, campaign.project_id, key, row.id, action="message.draft",
                               request=_draft_request(mode, channel, content.get("original_text") or "",
                                                      content.get("subject")))
        if earlier is None:
            raise
        return _replayed(earlier)
    return message


def _replayed(earlier: models.Message) -> Drafted:
    """The answer of a retry: the language the draft is written in (a translation's target language)."""
    language = earlier.translated_language or earlier.original_language or "en"
    return Drafted(earlier, language, language, "replay", replayed=True)
