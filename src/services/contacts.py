"""Contacts: people at an account. Within an account they dedupe on phone, then e-mail."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role, RoleKind
from outboundql.errors import Collector, Conflict
from outboundql.services import audit, fields, normalize
from outboundql.services.access import Access

_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "title": fields.text(200, label="Title"),
    "email": normalize.normalize_email,
    "linkedin_url": normalize.normalize_url,
    "seniority": fields.text(50, label="Seniority"),
    "department": fields.text(100, label="Department"),
    "language": normalize.normalize_language,
}

_FILLABLE = ("title", "email", "phone", "linkedin_url", "seniority", "department", "language")


def clean_contact(data: dict[str, Any], check: Collector, *, prefix: str = "input.") -> dict[str, Any]:
    """Validate and normalise contact fields. ``_country`` (the account's) helps parse national phones."""
    country = data.get("_country")
    cleaned = fields.clean({k: v for k, v in data.items() if k not in ("phone", "_country")}, _CLEANERS, check,
                           prefix=prefix)
    if "phone" in data:
        try:
            cleaned["phone"] = normalize.normalize_phone(data["phone"], country)
        except ValueError as exc:
            check.add(prefix + "phone", str(exc))
    if "role_kind" in cleaned and cleaned["role_kind"] is not None:
        cleaned["role_kind"] = RoleKind(cleaned["role_kind"])
    return cleaned


async def _duplicate(account_id: int, cleaned: dict[str, Any], exclude_id: int | None = None) -> models.Contact | None:
    for key in ("phone", "email"):
        if cleaned.get(key):
            qs = models.Contact.filter(account_id=account_id, **{key: cleaned[key]})
            if exclude_id is not None:
                qs = qs.exclude(id=exclude_id)
            found = await qs.order_by("id").first()
            if found is not None:
                return found
    return None


async def upsert_contact(
    access: Access, account: models.Account, cleaned: dict[str, Any]
) -> tuple[models.Contact, bool]:
    """Create a contact, or fill the blanks of its duplicate at the same account. (row, created)."""
    existing = await _duplicate(account.id, cleaned)
    if existing is None:
        row = await models.Contact.create(project_id=account.project_id, account_id=account.id,
                                          **{k: v for k, v in cleaned.items() if v is not None})
        await audit.record(project_id=account.project_id, actor=access.user, action="contact.create", row=row,
                           after=audit.snapshot(row))
        return row, True
    before = audit.snapshot(existing)
    for name in _FILLABLE:
        if cleaned.get(name) not in (None, "") and getattr(existing, name) in (None, ""):
            setattr(existing, name, cleaned[name])
    if cleaned.get("do_not_contact"):
        existing.do_not_contact = True  # a protection flag is never dropped by a merge
    old, new = audit.changed(before, audit.snapshot(existing))
    if new:
        await existing.save()
        await audit.record(project_id=account.project_id, actor=access.user, action="contact.dedupe_merge",
                           row=existing, before=old, after=new)
    return existing, False


async def create_contact(access: Access, account_id: Any, data: dict[str, Any]) -> tuple[models.Contact, bool]:
    account = await access.get(models.Account, account_id, Role.MEMBER, field="input.accountId")
    check = Collector()
    cleaned = clean_contact({**data, "_country": account.country}, check)
    check.raise_if_any()
    async with in_transaction():
        return await upsert_contact(access, account, cleaned)


async def update_contact(access: Access, contact_id: Any, data: dict[str, Any]) -> models.Contact:
    row = await access.get(models.Contact, contact_id, Role.MEMBER, field="input.id")
    account = await models.Account.get(id=row.account_id)
    check = Collector()
    if "name" in data and data["name"] is None:
        check.add("input.name", "Name cannot be removed.")
    cleaned = clean_contact({**data, "_country": account.country}, check)
    check.raise_if_any()
    other = await _duplicate(row.account_id, {k: cleaned.get(k) for k in ("phone", "email") if k in cleaned},
                             exclude_id=row.id)
    if other is not None:
        same_phone = bool(cleaned.get("phone")) and cleaned.get("phone") == other.phone
        raise Conflict(f"Contact {other.name!r} at this account already has that phone or e-mail.",
                       field="input.phone" if same_phone else "input.email")
    async with in_transaction(), audit.tracked(row, project_id=row.project_id, actor=access.user,
                                               action="contact.update"):
        for key, value in cleaned.items():
            setattr(row, key, value)
        await row.save()
    return row


async def move_contact(contact: models.Contact, target: models.Account) -> None:
    """Move a contact to ``target`` during an account merge, folding it into a duplicate there."""
    duplicate = await _duplicate(target.id, {"phone": contact.phone, "email": contact.email})
    if duplicate is None:
        contact.account_id = target.id
        await contact.save(update_fields=["account_id", "updated_at"])
        return
    for name in _FILLABLE:
        if getattr(contact, name) not in (None, "") and getattr(duplicate, name) in (None, ""):
            setattr(duplicate, name, getattr(contact, name))
    duplicate.do_not_contact = duplicate.do_not_contact or contact.do_not_contact
    duplicate.is_decision_maker = duplicate.is_decision_maker or contact.is_decision_maker
    await duplicate.save()
    await models.CampaignAccount.filter(contact_id=contact.id).update(contact_id=duplicate.id)
    await models.Message.filter(contact_id=contact.id).update(contact_id=duplicate.id)
    await contact.delete()
