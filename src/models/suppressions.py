"""Suppression: addresses nobody is ever contacted at again (and that imports never bring back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields

from outboundql.enums import SuppressionKind
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class Suppression(ProjectScopedModel):
    """One suppressed e-mail address, phone number (E.164) or domain of a project, with why and from where."""

    kind = fields.CharEnumField(SuppressionKind, max_length=16)
    value = fields.CharField(max_length=254)  # normalised: lowercase e-mail or domain, E.164 phone
    reason = fields.TextField(default="")
    source = fields.CharField(max_length=32, default="manual")  # manual, erasure, unsubscribe, bounce…
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "suppression"
        unique_together = (("project", "kind", "value"),)
