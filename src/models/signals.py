"""Signals: short pieces of intelligence a conversation gave (a budget, a competitor, a move), each of a kind its
campaign's goal declares (`outboundql.goals.SignalKind`). A person's are confirmed as written; a language model's
are proposed until a person confirms or dismisses them (`outboundql.services.signals`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import SignalStatus
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User
    from outboundql.models.campaigns import Campaign, CampaignAccount
    from outboundql.models.outreach import Message


class Signal(ProjectScopedModel):
    """One signal of a message (a reply, a call's notes), rolled up by kind per campaign and market."""

    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="signal_rows", on_delete=fields.OnDelete.CASCADE
    )
    message_id: int
    campaign_account: fields.ForeignKeyRelation[CampaignAccount] = fields.ForeignKeyField(
        "models.CampaignAccount", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    campaign_account_id: int
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    kind = fields.CharField(max_length=64)
    text = fields.CharField(max_length=300)
    status = fields.CharEnumField(SignalStatus, max_length=16)
    # Who found it: "person", or the key of the model that proposed it (e.g. "llm").
    source = fields.CharField(max_length=64, default="person")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signal"
        indexes = [
            Index(fields=["message_id", "id"]),
            Index(fields=["campaign_id", "status", "kind"]),
        ]
