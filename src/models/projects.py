"""The tenant (project), the counts the database keeps for it, its memberships, markets and saved filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.enums import Role
from outboundql.models.base import ProjectScopedModel, TimestampedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class Project(TimestampedModel):
    """The tenant. Every other row belongs to exactly one project."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=100, unique=True)  # unique site-wide
    description = fields.TextField(default="")
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "project"


class ProjectCounts(Model):
    """What a project holds, counted by the database itself: triggers on the counted tables move these numbers in
    the transaction that writes the rows (`outboundql.models.triggers`), whichever code writes them, so they are
    exact wherever they are read. A project gets its row with its first counted row."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    accounts = fields.IntField(default=0, description="The project's accounts.")

    class Meta:
        table = "project_counts"


class AccountsRevision(Model):
    """Which state of a project's accounts is current: a new random ``revision`` whenever a transaction that wrote
    any of them (inserted, updated or deleted, by any code) commits, set by triggers (`outboundql.models.triggers`).
    Whatever is worked out from the accounts alone and remembered with the revision it was read at holds while the
    revision stays the same. A project gets its row with its first account write."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    revision = fields.BigIntField()

    class Meta:
        table = "accounts_revision"


class Membership(TimestampedModel):
    """A user's role in a project."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.OnDelete.CASCADE
    )
    user_id: int
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="memberships", on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    role = fields.CharEnumField(Role, max_length=16)

    class Meta:
        table = "membership"
        unique_together = (("user", "project"),)
        indexes = [Index(fields=["project_id", "role"])]


class Market(ProjectScopedModel):
    """A territory inside a project that groups campaigns (e.g. "M&A — New York")."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=100)
    description = fields.TextField(default="")
    filters: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "market"
        unique_together = (("project", "slug"),)


class SavedFilter(ProjectScopedModel):
    """A named filter expression over account fields and ``cf.<key>`` custom fields."""

    name = fields.CharField(max_length=200)
    expression: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "saved_filter"
        unique_together = (("project", "name"),)
