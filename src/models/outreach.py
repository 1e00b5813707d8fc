"""The conversation log: one thread per campaign account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from outboundql.classifiers import ReplyClass
from outboundql.enums import CallOutcome, Channel, Direction, MessageMode, MessageStatus
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.accounts import Contact
    from outboundql.models.auth import User
    from outboundql.models.campaigns import CampaignAccount


class Message(ProjectScopedModel):
    """One message or call in a campaign account's thread."""

    campaign_account: fields.ForeignKeyRelation[CampaignAccount] = fields.ForeignKeyField(
        "models.CampaignAccount", related_name="messages", on_delete=fields.OnDelete.CASCADE
    )
    campaign_account_id: int
    direction = fields.CharEnumField(Direction, max_length=16)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.EMAIL)
    status = fields.CharEnumField(MessageStatus, max_length=16)
    mode = fields.CharEnumField(MessageMode, max_length=24)
    subject = fields.CharField(max_length=500, null=True)
    original_text = fields.TextField(default="")
    original_language = fields.CharField(max_length=8, null=True)
    translated_text = fields.TextField(null=True)
    translated_language = fields.CharField(max_length=8, null=True)  # BCP 47 tag of translated_text
    outcome = fields.CharEnumField(CallOutcome, max_length=16, null=True)
    sent_at = fields.DatetimeField(null=True)
    contact: fields.ForeignKeyNullableRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    contact_id: int | None
    idempotency_key = fields.CharField(max_length=100, null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None
    # An inbound message's class (`outboundql.services.reply_classes`): what the classifier (its key) answered,
    # or what a person corrected it to.
    reply_class = fields.CharEnumField(ReplyClass, max_length=16, null=True)
    reply_class_confidence = fields.FloatField(null=True)
    classifier = fields.CharField(max_length=64, null=True)
    reply_class_corrected = fields.BooleanField(default=False)
    classified_at = fields.DatetimeField(null=True)
    returns_on = fields.DateField(null=True)  # out of office: the day they say they are back
    # A referral: the person named, as {"name", "email", "phone"} (each as written, or null).
    referral: fields.JSONField[dict[str, str | None] | None] = fields.JSONField(null=True)
    # When a language model read it for signals (`outboundql.services.signal_proposals`); null: not read (yet).
    signals_read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "message"
        unique_together = (("project", "idempotency_key"),)
        indexes = [
            Index(fields=["campaign_account_id", "created_at"]),
            Index(fields=["project_id", "created_at"]),
            Index(fields=["direction", "reply_class", "created_at"]),  # replies still to classify
        ]
