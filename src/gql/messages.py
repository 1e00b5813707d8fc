"""Conversations: messages on a campaign account's thread, logging them, and reading threads."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.gql.base import ProjectNode, lazy_class, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import CallOutcome, Channel, MessageDirection, MessageMode, MessageStatus
from outboundql.gql.errors import UserError
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.reply_classes import ReplyClassification
from outboundql.gql.signals import Signal, SignalInput
from outboundql.services import drafts
from outboundql.services import messages as messages_service

if TYPE_CHECKING:
    from outboundql.gql.accounts import Contact
    from outboundql.gql.campaign_accounts import CampaignAccount
    from outboundql.gql.campaigns import Campaign
    from outboundql.gql.users import User

CampaignAccountRef = Annotated["CampaignAccount", strawberry.lazy("outboundql.gql.campaign_accounts")]
CampaignRef = Annotated["Campaign", strawberry.lazy("outboundql.gql.campaigns")]
ContactRef = Annotated["Contact", strawberry.lazy("outboundql.gql.accounts")]
UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]


@strawberry.type(description="One message or call on a campaign account's thread.")
class Message(ProjectNode):
    id: relay.NodeID[int]
    direction: MessageDirection
    channel: Channel
    status: MessageStatus
    mode: MessageMode
    subject: str | None
    original_text: str = strawberry.field(description="The text as written or received.")
    original_language: str | None = strawberry.field(description="Language tag (BCP 47) of the original text.")
    translated_text: str | None = strawberry.field(description="A translation, when one was made or given.")
    translated_language: str | None = strawberry.field(
        description="Language tag (BCP 47) of the translation (TYPE_AND_TRANSLATE: the target language).")
    outcome: CallOutcome | None
    sent_at: datetime | None = strawberry.field(description="When it was sent or received; null for drafts.")
    created_at: datetime
    row: strawberry.Private[models.Message]
    node_model = models.Message

    @strawberry.field(description="What a received message says (its class), once classified; null for outbound "
                      "messages, drafts, and a reply not classified yet.")
    def classification(self) -> ReplyClassification | None:
        return ReplyClassification.of(self.row)

    @strawberry.field(description="The signals of the conversation, oldest first: those a person gave (CONFIRMED), "
                      "and those a language model proposed (PROPOSED until confirmed or dismissed).")
    async def signals(self, info: Info) -> list[Signal]:
        return [Signal.from_model(s) for s in await info.context.loaders.signals_by_message_id.load(self.row.id)]

    @strawberry.field(description="The thread this message belongs to.")
    async def campaign_account(self, info: Info) -> CampaignAccountRef:
        row = await info.context.loaders.campaign_account_by_id.load(self.row.campaign_account_id)
        campaign_account: type[CampaignAccount] = lazy_class(CampaignAccountRef)
        return campaign_account.from_model(row)

    @strawberry.field(description="The campaign of the thread.")
    async def campaign(self, info: Info) -> CampaignRef:
        row = await info.context.loaders.campaign_account_by_id.load(self.row.campaign_account_id)
        assert row is not None
        campaign: type[Campaign] = lazy_class(CampaignRef)
        return campaign.from_model(await info.context.loaders.campaign_by_id.load(row.campaign_id))

    @strawberry.field(description="The person written to or heard from.")
    async def contact(self, info: Info) -> ContactRef | None:
        if self.row.contact_id is None:
            return None
        row = await info.context.loaders.contact_by_id.load(self.row.contact_id)
        return lazy_class(ContactRef).from_model(row) if row else None

    @strawberry.field(description="Who logged or drafted it.")
    async def created_by(self, info: Info) -> UserRef | None:
        if self.row.created_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.created_by_id)
        return lazy_class(UserRef).from_model(row) if row else None


@strawberry.type
class MessageConnection(CountedConnection[Message]):
    @classmethod
    def resolve_node(cls, node: models.Message, *, info: Info, **kwargs: Any) -> Message:
        return Message.from_model(node)


@strawberry.input(description="A message to add to a campaign account's thread. A sent outbound moves the "
                  "outreach status to SENT and promotes a NEW account to INITIATED; an inbound moves it to "
                  "RESPONDED and promotes NEW/INITIATED to ENGAGED; drafts move nothing.")
class LogMessageInput:
    campaign_account_id: relay.GlobalID
    direction: MessageDirection = enums.Direction.OUTBOUND
    channel: Channel = enums.Channel.EMAIL
    status: MessageStatus = enums.MessageStatus.SENT
    mode: MessageMode | None = strawberry.field(
        default=None, description="Default: PASTE_INBOUND for inbound, LOG_SENT for a sent outbound, "
        "TYPE_AND_TRANSLATE for an outbound draft.")
    subject: str | None = None
    text: str = strawberry.field(default="", description="Required except for a call logged with its outcome.")
    original_language: str | None = strawberry.field(
        default=None, description="A BCP 47 language tag (e.g. es, pt-BR), stored in canonical form.")
    translated_text: str | None = None
    translated_language: str | None = strawberry.field(
        default=None, description="Language tag (BCP 47) of `translatedText` (only with a translation).")
    outcome: CallOutcome | None = None
    signals: list[SignalInput] = strawberry.field(
        default_factory=list, description="At most 20, each of a kind of the campaign goal's `signalKinds`; "
        "confirmed as given.")
    sent_at: datetime | None = strawberry.field(
        default=None, description="When it was sent or received (default: now); not for drafts, not in the future.")
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A contact of the account; default: the campaign account's contact.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Up to 100 characters, unique per project: a retried request with the same key "
        "answers the first message (`replayed: true`) and counts nothing twice.")
    draft_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Send this DRAFT of the same campaign account: the draft becomes the logged "
        "message (no second message; its mode is kept unless `mode` is given) and moves everything a sent outbound "
        "moves. Direction OUTBOUND and status SENT; a message that is no draft is INVALID.")
    override_suppression: bool = strawberry.field(
        default=False, description="Log a sent outbound message to an address on the project's suppression list "
        "all the same (it was sent elsewhere, and the log must say so). Without it such a message is refused "
        "(INVALID, saying which entry, since when and why). The entry stays: nothing is planned or sent there.")

    def to_command(self) -> messages_service.LogMessage:
        return messages_service.LogMessage(
            campaign_account_id=pk_of(self.campaign_account_id, "CampaignAccount", "campaign_account_id"),
            direction=self.direction, channel=self.channel, status=self.status, mode=self.mode,
            subject=self.subject, text=self.text, original_language=self.original_language,
            translated_text=self.translated_text, translated_language=self.translated_language,
            outcome=self.outcome, signals=tuple(s.to_value() for s in self.signals), sent_at=self.sent_at,
            contact_id=None if self.contact_id is None else pk_of(self.contact_id, "Contact", "contact_id"),
            idempotency_key=self.idempotency_key,
            draft_id=None if self.draft_id is None else pk_of(self.draft_id, "Message", "draft_id"),
            override_suppression=self.override_suppression)


@strawberry.type
class LogMessagePayload:
    message: Message | None = None
    campaign_account: CampaignAccountRef | None = strawberry.field(
        default=None, description="The thread's row, with its outreach status after the message.")
    replayed: bool = strawberry.field(
        default=False, description="True when an earlier request with the same idempotency key made the message.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="The draft to discard.")
class DiscardDraftInput:
    message_id: relay.GlobalID


@strawberry.type
class DiscardDraftPayload:
    deleted_message_id: relay.GlobalID | None = None
    campaign_account: CampaignAccountRef | None = strawberry.field(
        default=None, description="The thread's row, without the draft.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.enum(description="What to draft.")
class DraftMode(enum.Enum):
    AI_DRAFT = "ai_draft"
    AI_CONTINUE = "ai_continue"
    TYPE_AND_TRANSLATE = "type_and_translate"


@strawberry.input(description="Draft a message on a campaign account's thread; it is saved as a DRAFT (which moves "
                  "nothing) in the resolved language: the account's, else the campaign's, else the product's, "
                  "else yours, else English.")
class DraftMessageInput:
    campaign_account_id: relay.GlobalID
    mode: DraftMode = strawberry.field(
        default=DraftMode.AI_DRAFT, description="AI_DRAFT: a first message from the goal's intent, product, "
        "persona, account and contact. AI_CONTINUE: the next message of the thread. TYPE_AND_TRANSLATE: your "
        "`text` translated into the resolved language (needs an LLM).")
    channel: Channel = enums.Channel.EMAIL
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A contact of the account; default: the campaign account's contact.")
    language: str | None = strawberry.field(
        default=None, description="Override the resolved language (a BCP 47 tag, e.g. es, pt-BR).")
    text: str | None = strawberry.field(default=None, description="TYPE_AND_TRANSLATE: the text to translate.")
    source_language: str | None = strawberry.field(
        default=None, description="TYPE_AND_TRANSLATE: the language of `text` (default: yours).")
    subject: str | None = strawberry.field(default=None, description="TYPE_AND_TRANSLATE: a subject line.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Unique per project: a retry answers the first draft (`replayed: true`).")

    def to_command(self) -> drafts.DraftMessage:
        return drafts.DraftMessage(
            campaign_account_id=pk_of(self.campaign_account_id, "CampaignAccount", "campaign_account_id"),
            mode=enums.MessageMode(self.mode.value), channel=self.channel,
            contact_id=None if self.contact_id is None else pk_of(self.contact_id, "Contact", "contact_id"),
            language=self.language, text=self.text, source_language=self.source_language, subject=self.subject,
            idempotency_key=self.idempotency_key)


@strawberry.type
class DraftMessagePayload:
    message: Message | None = None
    language: str | None = strawberry.field(default=None, description="The language the draft is written in.")
    requested_language: str | None = strawberry.field(
        default=None, description="The resolved (or requested) language tag. The built-in drafter writes a "
        "regional tag in its base language (es-ES: es) and a language it has no catalog for in English.")
    drafter: str | None = strawberry.field(default=None, description="`template`, `llm` (or `replay`).")
    notice: str | None = strawberry.field(default=None, description="Something the operator should know.")
    replayed: bool = False
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="UNAVAILABLE on `input.mode` when translation needs an LLM that is not "
        "configured (nothing is saved).")


@strawberry.type
class MessageMutations:
    @mutation("Log a message or call on a campaign account's thread. A sent outbound to a do_not_contact "
              "account or contact is refused and nothing is written. Give an idempotency key to make retries safe, "
              "and a draftId to send a draft (it becomes the logged message).")
    async def log_message(self, info: Info, input: LogMessageInput) -> LogMessagePayload:
        logged = await messages_service.log_message(info.context.access, input.to_command())
        return LogMessagePayload(message=Message.from_model(logged.message), replayed=logged.replayed,
                                 campaign_account=lazy_class(CampaignAccountRef).from_model(logged.campaign_account))

    @mutation("Discard (delete) an unsent DRAFT; a message that was sent or received is INVALID. The audit "
              "trail keeps the draft.")
    async def discard_draft(self, info: Info, input: DiscardDraftInput) -> DiscardDraftPayload:
        cmd = messages_service.DiscardDraft(message_id=pk_of(input.message_id, "Message", "message_id"))
        discarded = await messages_service.discard_draft(info.context.access, cmd)
        return DiscardDraftPayload(
            deleted_message_id=relay.GlobalID("Message", str(discarded.message.id)),
            campaign_account=lazy_class(CampaignAccountRef).from_model(discarded.campaign_account))

    @mutation("Draft a first message (AI_DRAFT), the next one in the thread (AI_CONTINUE), or translate your text "
              "(TYPE_AND_TRANSLATE), saved as a draft. Template based unless an LLM is configured.")
    async def draft_message(self, info: Info, input: DraftMessageInput) -> DraftMessagePayload:
        drafted = await drafts.draft_message(info.context.access, info.context.settings, info.context.goals,
                                             input.to_command())
        return DraftMessagePayload(message=Message.from_model(drafted.message), language=drafted.language,
                                   requested_language=drafted.requested_language, drafter=drafted.drafter,
                                   notice=drafted.notice, replayed=drafted.replayed)
