"""Contacts: people at an account. Within an account they dedupe on phone, then e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import timezones
from outboundql.enums import Role, RoleKind
from outboundql.errors import Collector, Conflict
from outboundql.services import audit, fields, idempotency, normalize
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given

_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "title": fields.text(200, label="Title"),
    "email": normalize.normalize_email,
    "linkedin_url": normalize.normalize_url,
    "seniority": fields.text(50, label="Seniority"),
    "department": fields.text(100, label="Department"),
    "language": normalize.normalize_language,
    "time_zone": timezones.normalize_time_zone,
}

_FILLABLE = ("title", "email", "phone", "linkedin_url", "seniority", "department", "language",
             "time_zone")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewContact:
    """A person to add to an account: alone (`CreateContact`) or with the account (`NewAccount.contacts`)."""

    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    linkedin_url: str | None = None
    seniority: str | None = None
    department: str | None = None
    is_decision_maker: bool = False
    role_kind: RoleKind = RoleKind.BUYER
    language: str | None = None
    time_zone: str | None = None  # IANA name, any case; None: the account's
    do_not_contact: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateContact(NewContact):
    """Add a contact to an account, or fill the blanks of the same person there."""

    account_id: int
    idempotency_key: str | None = None
    """A retry with the same key answers the first contact (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateContact:
    """Change the given fields of a contact (`UNSET`: left alone)."""

    id: int
    name: Maybe[str | None] = UNSET
    title: Maybe[str | None] = UNSET
    email: Maybe[str | None] = UNSET
    phone: Maybe[str | None] = UNSET
    linkedin_url: Maybe[str | None] = UNSET
    seniority: Maybe[str | None] = UNSET
    department: Maybe[str | None] = UNSET
    is_decision_maker: Maybe[bool | None] = UNSET
    role_kind: Maybe[RoleKind | None] = UNSET
    language: Maybe[str | None] = UNSET
    time_zone: Maybe[str | None] = UNSET
    do_not_contact: Maybe[bool | None] = UNSET


@dataclass(frozen=True, slots=True)
class ContactUpserted:
    """The contact created, or the duplicate it was folded into (``created`` False)."""

    contact: models.Contact
    created: bool
    replayed: bool = False
    """createContact's answer to an earlier request with the same idempotency key (nothing was written)."""


@dataclass(frozen=True, slots=True)
class ContactChanged:
    contact: models.Contact


def clean_contact(
    data: dict[str, Any], check: Collector, *, prefix: str = "", country: str | None = None
) -> dict[str, Any]:
    """Validate and normalise contact fields, reporting issues on ``prefix`` + the field's name.
    ``country`` (the account's) helps parse national phone numbers."""
    cleaned = fields.clean({k: v for k, v in data.items() if k != "phone"}, _CLEANERS, check, prefix=prefix)
    if "phone" in data:
        try:
            cleaned["phone"] = normalize.normalize_phone(data["phone"], country)
        except ValueError as exc:
            check.add(prefix + "phone", str(exc))
    if "role_kind" in cleaned and cleaned["role_kind"] is not None:
        cleaned["role_kind"] = RoleKind(cleaned["role_kind"])
    return cleaned


def new_contact_data(contact: NewContact) -> dict[str, Any]:
    """The fields of a contact to create, by name, as `clean_contact` takes them."""
    return given(contact, exclude=("account_id", "idempotency_key"))


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


async def upsert_contact(access: Access, account: models.Account, cleaned: dict[str, Any]) -> ContactUpserted:
    """Create a contact, or fill the blanks of its duplicate at the same account (in the caller's transaction)."""
    existing = await _duplicate(account.id, cleaned)
    if existing is None:
        row = await models.Contact.create(project_id=account.project_id, account_id=account.id,
                                          **{k: v for k, v in cleaned.items() if v is not None})
        await audit.record(project_id=account.project_id, actor=access.user, action="contact.create", row=row,
                           after=audit.snapshot(row))
        return ContactUpserted(contact=row, created=True)
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
    return ContactUpserted(contact=existing, created=False)


async def create_contact(access: Access, cmd: CreateContact) -> ContactUpserted:
    """Add a contact to an account, or fill the blanks of the same person (same phone, then e-mail)."""
    account = await access.get(models.Account, cmd.account_id, Role.MEMBER, field="account_id")
    once = idempotency.Once.of(cmd, "contact.create", project_id=account.project_id)
    check = Collector()
    cleaned = clean_contact(new_contact_data(cmd), check, country=account.country)
    check.raise_if_any()

    async def write() -> tuple[ContactUpserted, idempotency.Answer]:
        result = await upsert_contact(access, account, cleaned)
        return result, {"contact_id": result.contact.id, "created": result.created}

    async def replay(answer: idempotency.Answer) -> ContactUpserted | None:
        contact = await models.Contact.get_or_none(id=answer["contact_id"], project_id=account.project_id)
        return None if contact is None else ContactUpserted(contact, bool(answer["created"]), replayed=True)

    return await idempotency.create_once(once, write, replay)


async def update_contact(access: Access, cmd: UpdateContact) -> ContactChanged:
    """Change a contact's given fields; its phone and e-mail stay unique at its account."""
    row = await access.get(models.Contact, cmd.id, Role.MEMBER, field="id")
    account = await models.Account.get(id=row.account_id)
    data = given(cmd, exclude=("id",))
    check = Collector()
    if "name" in data and data["name"] is None:
        check.add("name", "Name cannot be removed.")
    cleaned = clean_contact(data, check, country=account.country)
    check.raise_if_any()
    other = await _duplicate(row.account_id, {k: cleaned.get(k) for k in ("phone", "email") if k in cleaned},
                             exclude_id=row.id)
    if other is not None:
        same_phone = bool(cleaned.get("phone")) and cleaned.get("phone") == other.phone
        raise Conflict(f"Contact {other.name!r} at this account already has that phone or e-mail.",
                       field="phone" if same_phone else "email")
    async with in_transaction(), audit.tracked(row, project_id=row.project_id, actor=access.user,
                                               action="contact.update"):
        for key, value in cleaned.items():
            setattr(row, key, value)
        await row.save()
    return ContactChanged(contact=row)


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
    await models.OutreachAttempt.filter(contact_id=contact.id).update(contact_id=duplicate.id)
    await contact.delete()
