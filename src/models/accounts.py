"""Accounts (organisations), their status history, and their contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.enums import AccountStatus, RoleKind, StatusSource
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class Account(ProjectScopedModel):
    """An organisation: company, publication, podcast, venue… Only ``name`` is required."""

    name = fields.CharField(max_length=300)
    name_key = fields.CharField(max_length=300, default="")  # normalised name, for dedupe
    domain = fields.CharField(max_length=253, null=True)  # no scheme, no www., lowercase
    website = fields.CharField(max_length=500, null=True)
    industry = fields.CharField(max_length=200, null=True)
    employee_count = fields.IntField(null=True)
    country = fields.CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    city = fields.CharField(max_length=200, null=True)
    city_key = fields.CharField(max_length=200, default="")  # normalised city, for dedupe
    language = fields.CharField(max_length=8, null=True)
    time_zone = fields.CharField(max_length=64, null=True)  # IANA name, e.g. Europe/Madrid
    description = fields.TextField(default="")
    phone = fields.CharField(max_length=32, null=True)  # E.164 when it parses, else as given
    email = fields.CharField(max_length=254, null=True)
    tags: fields.JSONField[list[str]] = fields.JSONField(default=list)
    custom_fields: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    contract_end_date = fields.DateField(null=True)
    source = fields.CharField(max_length=100, null=True)
    external_id = fields.CharField(max_length=200, null=True)  # the id in `source` (a CRM), for upserts
    status = fields.CharEnumField(AccountStatus, max_length=20, default=AccountStatus.NEW)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "account"
        unique_together = (("project", "source", "external_id"),)
        indexes = [
            Index(fields=["project_id", "domain"]),
            Index(fields=["project_id", "name_key", "city_key"]),
            Index(fields=["project_id", "phone"]),
            Index(fields=["project_id", "status"]),
            # The account list's sort keys, each with the id that breaks its ties: a page is an index range.
            Index(fields=["project_id", "name", "id"]),
            Index(fields=["project_id", "country"]),
            Index(fields=["project_id", "industry"]),
            Index(fields=["project_id", "employee_count", "id"]),
            Index(fields=["project_id", "created_at", "id"]),
            Index(fields=["project_id", "updated_at", "id"]),
        ]


class AccountStatusChange(Model):
    """One move of an account's status: from, to, what caused it, who, when."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="status_changes", on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    from_status = fields.CharEnumField(AccountStatus, max_length=20, null=True)  # null on creation
    to_status = fields.CharEnumField(AccountStatus, max_length=20)
    source = fields.CharEnumField(StatusSource, max_length=16)
    changed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    changed_by_id: int | None
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account_status_change"
        indexes = [Index(fields=["account_id", "created_at"])]


class Contact(ProjectScopedModel):
    """A person at an account."""

    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="contacts", on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=200)
    title = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=254, null=True)  # lowercased
    phone = fields.CharField(max_length=32, null=True)  # E.164 when it parses
    linkedin_url = fields.CharField(max_length=500, null=True)
    seniority = fields.CharField(max_length=50, null=True)
    department = fields.CharField(max_length=100, null=True)
    is_decision_maker = fields.BooleanField(default=False)
    role_kind = fields.CharEnumField(RoleKind, max_length=16, default=RoleKind.BUYER)
    language = fields.CharField(max_length=8, null=True)
    time_zone = fields.CharField(max_length=64, null=True)  # IANA name; null: the account's
    do_not_contact = fields.BooleanField(default=False)
    source = fields.CharField(max_length=100, null=True)
    external_id = fields.CharField(max_length=200, null=True)  # the id in `source` (a CRM), for upserts

    class Meta:
        table = "contact"
        unique_together = (("project", "source", "external_id"),)
        indexes = [
            Index(fields=["account_id", "phone"]),
            Index(fields=["account_id", "email"]),
            Index(fields=["project_id", "email"]),
        ]
