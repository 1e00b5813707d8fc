"""Users and their API tokens."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.models.base import TimestampedModel


class User(TimestampedModel):
    """A person who signs in with API tokens."""

    email = fields.CharField(max_length=254, unique=True)  # stored lowercased
    name = fields.CharField(max_length=200, default="")
    language = fields.CharField(max_length=8, null=True)  # BCP 47 tag, canonical (normalize.normalize_language)

    class Meta:
        table = "user"


class ApiToken(Model):
    """A bearer token. Only the SHA-256 of the secret is stored, the secret is shown once."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.OnDelete.CASCADE
    )
    user_id: int
    name = fields.CharField(max_length=200, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)  # first characters, to recognise a token in a list
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
        indexes = [Index(fields=["user_id", "created_at"])]
