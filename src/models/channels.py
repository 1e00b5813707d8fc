"""Channel configurations: how a project's attempts of one message channel leave the building."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields

from outboundql.enums import Channel
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class ChannelConfig(ProjectScopedModel):
    """The channel plugin (``key``) a project delivers one message channel (``kind``) through, with its settings
    (validated against the plugin's, defaults filled in) and its secrets, each sealed by `services.secret_box`
    bound to ``channel:<project id>:<kind>`` (a database dump alone does not reveal them)."""

    kind = fields.CharEnumField(Channel, max_length=16)
    key = fields.CharField(max_length=64)
    settings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    secrets: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)  # name → sealed value
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "channel_config"
        unique_together = (("project", "kind"),)
