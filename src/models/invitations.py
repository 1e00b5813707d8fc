"""Invitations to join a project: a single-use, expiring token sent to an e-mail address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.enums import Role

if TYPE_CHECKING:
    from outboundql.models.auth import User
    from outboundql.models.projects import Project


class Invitation(Model):
    """An offer of a role in a project, accepted once with its token before it expires. Only the SHA-256 of the
    token is stored: the inviter sees the token once, the invitee gets it by e-mail (when the project has one)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="invitations", on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    email = fields.CharField(max_length=254)  # normalised (normalize.normalize_email)
    role = fields.CharEnumField(Role, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    invited_by_id: int | None
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    accepted_by_id: int | None
    revoked_at = fields.DatetimeField(null=True)
    #: ``emailed``, ``not_configured`` (no e-mail channel: the inviter passes the token on) or ``failed``.
    delivery = fields.CharField(max_length=16, default="not_configured")
    delivery_error = fields.TextField(default="")

    class Meta:
        table = "invitation"
        indexes = [Index(fields=["project_id", "created_at"]), Index(fields=["project_id", "email"])]
