"""Outreach attempts: each planned or made attempt of a campaign account's cadence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import AttemptOutcome, AttemptStatus, Channel
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.accounts import Contact
    from outboundql.models.auth import User
    from outboundql.models.campaigns import Campaign, CampaignAccount
    from outboundql.models.outreach import Message


class OutreachAttempt(ProjectScopedModel):
    """One attempt of a cadence step to one contact: planned, approved, claimed by a worker, delivered through a
    channel, settled with its outcome. The database is the truth about what is due."""

    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    campaign_account: fields.ForeignKeyRelation[CampaignAccount] = fields.ForeignKeyField(
        "models.CampaignAccount", related_name="attempts", on_delete=fields.OnDelete.CASCADE
    )
    campaign_account_id: int
    contact: fields.ForeignKeyNullableRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    contact_id: int | None
    channel = fields.CharEnumField(Channel, max_length=16)
    step = fields.IntField()  # 1-based position in the cadence
    attempt_number = fields.IntField()  # 1-based, per step and contact
    plan_round = fields.IntField(default=1)  # the row's plan it belongs to (`CampaignAccount.plan_round`)
    status = fields.CharEnumField(AttemptStatus, max_length=24)
    due_at = fields.DatetimeField()
    claimed_at = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=32, null=True)
    # When the execution of the claim last showed it was alive (set as its job starts, renewed as it goes); None
    # while the claim waits in the job queue.
    heartbeat_at = fields.DatetimeField(null=True)
    executed_at = fields.DatetimeField(null=True)
    settled_at = fields.DatetimeField(null=True)
    subject = fields.CharField(max_length=500, null=True)
    body = fields.TextField(default="")
    address = fields.CharField(max_length=500, null=True)  # the e-mail address, phone number… it goes to
    outcome = fields.CharEnumField(AttemptOutcome, max_length=16, null=True)
    goal_achieved = fields.BooleanField(null=True)
    notes = fields.TextField(default="")
    error = fields.TextField(null=True)
    provider_id = fields.CharField(max_length=500, null=True)  # what the channel's provider calls it (Message-ID)
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    message_id: int | None
    reviewed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    reviewed_by_id: int | None

    class Meta:
        table = "outreach_attempt"
        indexes = [
            Index(fields=["status", "due_at"]),
            Index(fields=["campaign_id", "status"]),
            Index(fields=["campaign_id", "due_at", "id"]),  # the campaign's attempts, a page by due time
            Index(fields=["campaign_account_id", "id"]),
        ]

    @property
    def delivery_key(self) -> str:
        """Idempotency key of what executing this attempt writes (its message) and sends (to a channel)."""
        return f"attempt-{self.id}"
