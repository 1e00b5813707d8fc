"""Upsert by external id: a CRM (or any system of record) keeps its accounts and contacts in step with a
project's, keyed by ``(source, external_id)`` — unique per project on both tables.

Modes, for the whole call:

* ``upsert``: the account whose (source, external id) is the item's is updated; without one, the usual
  dedupe (same domain; normalised name + city; phone) looks for the same organisation and *links* it
  (sets its source and external id, then updates it: ``updated``); only then is an account created. A
  dedupe match that already carries another external id (of this or another source) is a CONFLICT:
  linking it would unlink the other record.
* ``update_only``: never creates nor links: an external id with no account is NOT_FOUND.
* ``remove``: the account of the external id is erased like ``deleteAccounts`` (contacts, messages,
  scores, attempts, campaign rows; counters move); no account (already removed, never synced) is
  ``unchanged``: nothing to remove.

Fields: a field left out of an item is left alone; a field given replaces the stored value (not "fill the
blanks" as dedupe does); ``null`` clears it. Fields that cannot be empty (name, status, a contact's flags)
refuse ``null``. Contacts listed are upserted by their own external id within the account (the same
source; a contact dedupe on phone then e-mail links an existing person), contacts not listed are left
alone. Nothing is ever deleted by an upsert.

The suppression list holds: a contact whose e-mail address (or its domain) or phone number is suppressed fails its
item (INVALID on that field) rather than bring an erased person back, and so does an account that would be
created with a suppressed domain.

Idempotent by nature: the same call again finds every value already there and answers ``unchanged``
(nothing written, nothing published). An item that fails is reported and the others land, in one
transaction; statements are per batch (lookups, inserts, updates, audit), not per item.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import AccountStatus, Role, RoleKind, StatusSource
from outboundql.errors import Collector, InvalidInput, Issue
from outboundql.services import audiences, audit, erasure, events, fields, suppressions
from outboundql.services.access import Access
from outboundql.services.accounts import MAX_CONTACTS_PER_ACCOUNT_INPUT, DedupeIndex, clean_account
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.contacts import clean_contact
from outboundql.services.locks import locked_project
from outboundql.services.sql import chunks, insert_rows

MAX_EXTERNAL_ID = 200
_clean_source = fields.text(100, required=True, label="The source")
_clean_external_id = fields.text(MAX_EXTERNAL_ID, required=True, label="The external id")

#: Columns of an account a created row is inserted with (every row the same columns).
_ACCOUNT_COLUMNS = ("project_id", "name", "name_key", "domain", "website", "industry", "employee_count", "country",
                    "city", "city_key", "language", "time_zone", "description", "phone", "email", "tags",
                    "custom_fields", "contract_end_date", "source", "external_id", "status", "created_by_id",
                    "created_at", "updated_at")
_CONTACT_COLUMNS = ("project_id", "account_id", "name", "title", "email", "phone", "linkedin_url", "seniority",
                    "department", "is_decision_maker", "role_kind", "language", "time_zone", "do_not_contact",
                    "source", "external_id", "created_at", "updated_at")
_NOT_EMPTY = {"name": "Name", "is_decision_maker": "isDecisionMaker", "role_kind": "roleKind",
              "do_not_contact": "doNotContact", "status": "Status"}
_DERIVED = ("name_key", "city_key")


class UpsertMode(enum.StrEnum):
    UPSERT = "upsert"
    UPDATE_ONLY = "update_only"
    REMOVE = "remove"


class UpsertOutcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactItem:
    """A contact of an item, keyed by its external id (`UNSET`: left alone; None clears)."""

    external_id: str | None
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


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountItem:
    """One record of the source, keyed by its external id (`UNSET`: left alone; None clears)."""

    external_id: str | None
    name: Maybe[str | None] = UNSET
    domain: Maybe[str | None] = UNSET
    website: Maybe[str | None] = UNSET
    industry: Maybe[str | None] = UNSET
    employee_count: Maybe[int | None] = UNSET
    country: Maybe[str | None] = UNSET
    city: Maybe[str | None] = UNSET
    language: Maybe[str | None] = UNSET
    time_zone: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    phone: Maybe[str | None] = UNSET
    email: Maybe[str | None] = UNSET
    tags: Maybe[Sequence[str] | None] = UNSET
    custom_fields: Maybe[Any] = UNSET
    contract_end_date: Maybe[date | None] = UNSET
    status: Maybe[AccountStatus | None] = UNSET
    contacts: Sequence[ContactItem] = ()


@dataclass(frozen=True, slots=True)
class UpsertAccounts:
    """Create, update or remove a project's accounts by the external ids ``source`` gave them."""

    project_id: int
    source: str
    mode: UpsertMode
    items: tuple[AccountItem, ...]


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item: its outcome, the account (none when failed or removed), and why it failed."""

    index: int
    external_id: str | None
    outcome: UpsertOutcome
    account: models.Account | None = None
    issues: tuple[Issue, ...] = ()
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountsUpserted:
    results: tuple[ItemResult, ...]

    def count(self, outcome: UpsertOutcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


# --- planning ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """One item on its way: the account row (existing, or new and unsaved) and what changes."""

    index: int
    external_id: str
    row: models.Account | None = None
    created: bool = False
    linked: bool = False
    rule: str = ""  # the dedupe rule a linked row was matched on
    changed: set[str] = field(default_factory=set)
    status: AccountStatus | None = None  # a status to record in the history
    before: dict[str, Any] = field(default_factory=dict)
    contacts: list[_ContactPlan] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.issues)


@dataclass(slots=True)
class _ContactPlan:
    index: int
    external_id: str
    data: dict[str, Any]
    row: models.Contact | None = None
    changed: set[str] = field(default_factory=set)
    before: dict[str, Any] = field(default_factory=dict)


def _account_data(item: AccountItem, check: Collector, prefix: str) -> dict[str, Any]:
    data = given(item, exclude=("external_id", "contacts"))
    for name, label in _NOT_EMPTY.items():
        if name in data and data[name] is None:
            check.add(prefix + name, f"{label} cannot be removed; leave the field out to keep it.")
    return data


async def upsert_accounts(access: Access, cmd: UpsertAccounts, *, max_items: int) -> AccountsUpserted:
    """Apply ``cmd`` and answer each item in input order. A role below member, a bad source or mode, no
    items or too many refuse the whole call; a bad item fails alone (its issues on ``items[i]...``)."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    source = fields.cleaned("source", _clean_source, cmd.source)
    assert source is not None
    if not cmd.items:
        raise InvalidInput("Give at least one item.", field="items")
    if len(cmd.items) > max_items:
        raise InvalidInput(f"At most {max_items} items per call (got {len(cmd.items)}); split the list.",
                           field="items")
    if cmd.mode is UpsertMode.REMOVE:
        plans, keys = _keyed(cmd)
        return await _remove(access, cmd, plans, await _by_external_id(models.Account, cmd.project_id, source, keys))
    for attempt in range(2):
        plans, keys = _keyed(cmd)
        try:
            async with in_transaction():
                # Every writer that deduplicates the project's accounts queues here, so this call's lookups and
                # dedupe see what a concurrent call (or import) committed.
                await locked_project(cmd.project_id)
                found = await _by_external_id(models.Account, cmd.project_id, source, keys, lock=True)
                await _plan_accounts(access, cmd, source, plans, found)
                await _plan_contacts(cmd, source, plans)
                await _write(access, cmd.project_id, source, plans)
            break
        except IntegrityError:
            # A concurrent call created one of these records first (rows that do not exist yet cannot be
            # locked): once more, and that call's rows are found and updated instead.
            if attempt:
                raise
    results = tuple(_result(p) for p in plans)
    for r in results:
        if r.account is not None and r.outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED):
            await events.publish_account_change(cmd.project_id, r.account.id,
                                                "created" if r.outcome is UpsertOutcome.CREATED else "updated")
    await audiences.accounts_changed(cmd.project_id, [
        r.account.id for r in results
        if r.account is not None and r.outcome in (UpsertOutcome.CREATED, UpsertOutcome.UPDATED)])
    return AccountsUpserted(results)


def _keyed(cmd: UpsertAccounts) -> tuple[list[_Plan], list[str]]:
    """A fresh plan per item with its external id checked (a repeated one fails), and the ids to look up."""
    plans: list[_Plan] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(cmd.items):
        plan = _Plan(i, "")
        try:
            plan.external_id = _clean_external_id(item.external_id) or ""
        except ValueError as exc:
            plan.issues.append(Issue("INVALID", str(exc), f"items[{i}].external_id"))
        if plan.external_id and plan.external_id in seen:
            plan.issues.append(Issue("INVALID", f"This external id is already given at position "
                                     f"{seen[plan.external_id]}; give each record once.", f"items[{i}].external_id"))
        elif plan.external_id:
            seen[plan.external_id] = i
        plans.append(plan)
    return plans, list(seen)


async def _by_external_id(model: Any, project_id: int, source: str, external_ids: list[str],
                          lock: bool = False) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for part in chunks(external_ids):
        query = model.filter(project_id=project_id, source=source, external_id__in=list(part))
        if lock:
            query = query.select_for_update()
        rows.update({row.external_id: row for row in await query})
    return rows


async def _plan_accounts(access: Access, cmd: UpsertAccounts, source: str, plans: list[_Plan],
                         found: dict[str, models.Account]) -> None:
    """Match, clean and change the rows in memory; creations get unsaved rows."""
    cleaned: dict[int, dict[str, Any]] = {}
    seen_contacts: set[str] = set()
    for plan in plans:
        if plan.failed:
            continue
        item = cmd.items[plan.index]
        prefix = f"items[{plan.index}]."
        check = Collector()
        data = _account_data(item, check, prefix)
        existing = found.get(plan.external_id)
        row_data = clean_account(data, check, prefix=prefix,
                                 existing_country=existing.country if existing else None)
        if len(item.contacts) > MAX_CONTACTS_PER_ACCOUNT_INPUT:
            check.add(prefix + "contacts", f"At most {MAX_CONTACTS_PER_ACCOUNT_INPUT} contacts per account.")
        else:
            country = row_data.get("country", existing.country if existing else None)
            _clean_contacts(plan, item, country, check, seen_contacts)
        plan.issues += check.items
        if existing is None and cmd.mode is UpsertMode.UPDATE_ONLY and not plan.failed:
            plan.issues.append(Issue("NOT_FOUND", f"No account of source {source!r} has this external id; "
                                     "UPDATE_ONLY never creates (use UPSERT).", prefix + "external_id"))
        if existing is not None and "domain" not in data and existing.domain:
            row_data.pop("domain", None)  # a new website never replaces a domain the row already has
        plan.row = existing
        cleaned[plan.index] = row_data
    banned = await suppressions.suppressed(
        cmd.project_id, emails=[c.data.get("email") for p in plans if not p.failed for c in p.contacts],
        phones=[c.data.get("phone") for p in plans if not p.failed for c in p.contacts],
        domains=[cleaned[p.index].get("domain") for p in plans if not p.failed])
    if banned:
        for plan in plans:
            if not plan.failed:
                _refuse_suppressed_contacts(plan, banned)
    # Dedupe of the items that match no external id: link the same organisation instead of a duplicate.
    unmatched = [p for p in plans if not p.failed and p.row is None]
    index = await DedupeIndex.load(cmd.project_id, [cleaned[p.index] for p in unmatched])
    domains = {v["domain"] for p in plans if not p.failed and p.row is not None
               for v in [cleaned[p.index]] if v.get("domain") and v["domain"] != p.row.domain}
    taken = await _domains_taken(cmd.project_id, domains)
    for plan in plans:
        if plan.failed:
            continue
        row_data, prefix = cleaned[plan.index], f"items[{plan.index}]."
        if plan.row is None:
            hit = index.match(row_data)
            if hit is not None:
                row, rule = hit
                if row.external_id is not None:
                    plan.issues.append(_linked_elsewhere(row, rule, source, prefix))
                    continue
                plan.row, plan.linked, plan.rule = row, True, rule
                plan.before = audit.snapshot(row)
                row.source, row.external_id = source, plan.external_id
                plan.changed |= {"source", "external_id"}
            elif row_data.get("domain") in banned.domains:
                plan.issues.append(_suppressed_issue(row_data["domain"], prefix + "domain"))
                continue
            elif "name" not in row_data:
                plan.issues.append(Issue("INVALID", "Name is required to create an account (no account has this "
                                         "external id, and none is the same organisation).", prefix + "name"))
                continue
            else:
                plan.row, plan.created = models.Account(
                    project_id=cmd.project_id, created_by=access.user, source=source, external_id=plan.external_id,
                    status=AccountStatus.NEW, name_key="", city_key="", description="", tags=[], custom_fields={},
                ), True
        else:
            plan.before = audit.snapshot(plan.row)
            domain = row_data.get("domain")
            if domain and domain in taken and taken[domain] != plan.row.id:
                plan.issues.append(Issue("CONFLICT", f"Another account already has the domain {domain}; merge the "
                                         "two with mergeAccounts first.", prefix + "domain"))
                continue
        row = plan.row
        assert row is not None
        status = cmd.items[plan.index].status
        for key, value in row_data.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                if key not in _DERIVED:
                    plan.changed.add(key)
        if status is not UNSET and status is not None and (plan.created or row.status is not AccountStatus(status)):
            plan.status = AccountStatus(status)
            row.status = plan.status
            plan.changed.add("status")
        if plan.created:
            index.add(row)
    await _lock_linked(plans, source)


def _linked_elsewhere(row: models.Account, rule: str, source: str, prefix: str) -> Issue:
    other = "another record of this source" if row.source == source else f"a record of {row.source!r}"
    return Issue("CONFLICT", f"The same organisation (matched on {rule}) is already linked to {other} (external id "
                 f"{row.external_id!r}); it cannot be linked to two.", prefix + "external_id")


async def _lock_linked(plans: list[_Plan], source: str) -> None:
    """Lock the rows dedupe matched, as the rows of the external ids are, and check them again under the lock: a
    concurrent call that linked one first wins, this item fails (CONFLICT) instead of unlinking that record."""
    linked = {p.row.id: p for p in plans if p.linked and not p.failed and p.row is not None}
    for part in chunks(sorted(linked)):
        fresh = {row.id: row for row in await models.Account.filter(id__in=list(part))
                 .order_by("id").select_for_update()}
        for pk in part:
            plan, row = linked[pk], fresh.get(pk)
            if row is None:
                plan.issues.append(Issue("CONFLICT", "The same organisation was removed while this call linked it; "
                                         "send the item again.", f"items[{plan.index}].external_id"))
            elif row.external_id is not None and (row.source, row.external_id) != (source, plan.external_id):
                plan.issues.append(_linked_elsewhere(row, plan.rule, source, f"items[{plan.index}]."))


async def _domains_taken(project_id: int, domains: set[str]) -> dict[str, int]:
    taken: dict[str, int] = {}
    for part in chunks(sorted(domains)):
        for pk, domain in await models.Account.filter(project_id=project_id, domain__in=list(part)) \
                .order_by("id").values_list("id", "domain"):
            taken.setdefault(domain, pk)
    return taken


def _suppressed_issue(value: str, where: str) -> Issue:
    return Issue("INVALID", f"{value} is on the project's suppression list; it is not synced again.", where)


def _refuse_suppressed_contacts(plan: _Plan, found: suppressions.Suppressed) -> None:
    """A contact whose e-mail address (or its domain) or phone number is suppressed is neither created nor linked
    nor given that address: its item fails."""
    for c in plan.contacts:
        where = f"items[{plan.index}].contacts[{c.index}]."
        email, phone = c.data.get("email"), c.data.get("phone")
        if found.email(email):
            plan.issues.append(_suppressed_issue(str(email), where + "email"))
        elif found.phone(phone):
            plan.issues.append(_suppressed_issue(str(phone), where + "phone"))


def _clean_contacts(plan: _Plan, item: AccountItem, country: str | None, check: Collector, seen: set[str]) -> None:
    """Clean the item's contacts into ``plan.contacts`` (issues on ``items[i].contacts[j]…``)."""
    for j, contact in enumerate(item.contacts):
        where = f"items[{plan.index}].contacts[{j}]."
        try:
            external_id = _clean_external_id(contact.external_id) or ""
        except ValueError as exc:
            check.add(where + "external_id", str(exc))
            external_id = ""
        if external_id and external_id in seen:
            check.add(where + "external_id", "This contact's external id is given twice in this call.")
        seen.add(external_id)
        data = given(contact, exclude=("external_id",))
        for name, label in _NOT_EMPTY.items():
            if name in data and data[name] is None:
                check.add(where + name, f"{label} cannot be removed; leave the field out to keep it.")
        plan.contacts.append(_ContactPlan(j, external_id, clean_contact(data, check, prefix=where, country=country)))


async def _plan_contacts(cmd: UpsertAccounts, source: str, plans: list[_Plan]) -> None:
    """Match each item's contacts: by external id in the project (it must be at the same account), else by
    phone then e-mail among the account's contacts (linked), else new."""
    wanted = [c.external_id for p in plans if not p.failed for c in p.contacts]
    if not wanted:
        return
    project_id = cmd.project_id
    found = await _by_external_id(models.Contact, project_id, source, wanted)
    existing_ids = [p.row.id for p in plans if not p.failed and p.contacts and p.row is not None and not p.created]
    at_account: dict[int, list[models.Contact]] = {}
    for part in chunks(existing_ids):
        for person in await models.Contact.filter(account_id__in=list(part)).order_by("id"):
            at_account.setdefault(person.account_id, []).append(person)
    for plan in plans:
        if plan.failed:
            continue
        assert plan.row is not None
        mine = at_account.get(plan.row.id, []) if not plan.created else []
        for c in plan.contacts:
            where = f"items[{plan.index}].contacts[{c.index}]."
            row = found.get(c.external_id)
            if row is not None and (plan.created or row.account_id != plan.row.id):
                plan.issues.append(Issue("CONFLICT", "A contact with this external id belongs to another account; "
                                         "it cannot be at two.", where + "external_id"))
                continue
            if row is None:
                row = next((m for key in ("phone", "email") if c.data.get(key)
                            for m in mine if getattr(m, key) == c.data[key]), None)
                if row is not None and row.external_id is not None:
                    plan.issues.append(Issue("CONFLICT", "The same person (same phone or e-mail) is already linked "
                                             f"to the external id {row.external_id!r}.", where + "external_id"))
                    continue
                if row is not None:
                    c.before = audit.snapshot(row)
                    row.source, row.external_id = source, c.external_id
                    c.changed |= {"source", "external_id"}
            else:
                c.before = audit.snapshot(row)
            if row is None and "name" not in c.data:
                plan.issues.append(Issue("INVALID", "Name is required to create a contact.", where + "name"))
                continue
            if row is None:
                row = models.Contact(project_id=project_id, source=source, external_id=c.external_id,
                                     is_decision_maker=False, role_kind=RoleKind.BUYER, do_not_contact=False)
                c.changed.add("created")
            for key, value in c.data.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
                    c.changed.add(key)
            c.row = row
            if row.pk is None:
                mine.append(row)


# --- writing -----------------------------------------------------------------------------------------------


async def _write(access: Access, project_id: int, source: str, plans: list[_Plan]) -> None:
    """Inserts, updates, status history and audit of the items that did not fail: a few statements each."""
    conn = connections.get("default")
    live = [p for p in plans if not p.failed]
    now = datetime.now(UTC)
    created = [p for p in live if p.created]
    actor_id = access.user.id if access.user else None
    await insert_rows(conn, models.Account, [
        {**{c: getattr(p.row, c) for c in _ACCOUNT_COLUMNS if c not in ("created_at", "updated_at",
                                                                        "created_by_id")},
         "created_by_id": actor_id, "created_at": now, "updated_at": now}
        for p in created])
    if created:
        rows = await _by_external_id(models.Account, project_id, source, [p.external_id for p in created])
        for p in created:
            p.row = rows[p.external_id]
    updated = [p for p in live if not p.created and p.changed]
    changed_fields = sorted({f for p in updated for f in p.changed} | set(_DERIVED))
    for p in updated:
        assert p.row is not None
        p.row.updated_at = now
    if updated:
        await models.Account.bulk_update([p.row for p in updated if p.row is not None],
                                         [*changed_fields, "updated_at"], batch_size=200)
    await models.AccountStatusChange.bulk_create([
        models.AccountStatusChange(
            account_id=p.row.id, to_status=p.status or AccountStatus.NEW, source=StatusSource.API,
            changed_by=access.user, from_status=None if p.created else AccountStatus(p.before["status"]),
            note="" if p.created else f"from {source}")
        for p in live if p.row is not None and (p.created or p.status is not None)])
    await _write_contacts(conn, project_id, source, live, now)
    events_rows: list[models.AuditEvent] = []
    for p in live:
        if p.row is None:
            continue
        if p.created:
            events_rows.append(models.AuditEvent(project_id=project_id, actor=access.user, action="account.create",
                                                 object_type="Account", object_id=p.row.id,
                                                 after={**audit.snapshot(p.row), "via": "upsert"}))
        elif p.changed:
            old, new = audit.changed(p.before, audit.snapshot(p.row))
            events_rows.append(models.AuditEvent(
                project_id=project_id, actor=access.user, action="account.link" if p.linked else "account.upsert",
                object_type="Account", object_id=p.row.id, before=old, after=new))
        for c in p.contacts:
            if c.row is None or not c.changed:
                continue
            if "created" in c.changed:
                events_rows.append(models.AuditEvent(project_id=project_id, actor=access.user,
                                                     action="contact.create", object_type="Contact",
                                                     object_id=c.row.id, after=audit.snapshot(c.row)))
            else:
                old, new = audit.changed(c.before, audit.snapshot(c.row))
                events_rows.append(models.AuditEvent(project_id=project_id, actor=access.user,
                                                     action="contact.upsert", object_type="Contact",
                                                     object_id=c.row.id, before=old, after=new))
    await models.AuditEvent.bulk_create(events_rows, batch_size=500)


async def _write_contacts(conn: Any, project_id: int, source: str, live: list[_Plan], now: datetime) -> None:
    new: list[_ContactPlan] = []
    changed: list[models.Contact] = []
    changed_fields: set[str] = set()
    for p in live:
        assert p.row is not None
        for c in p.contacts:
            if c.row is None or not c.changed:
                continue
            if "created" in c.changed:
                c.row.account_id = p.row.id
                new.append(c)
            else:
                c.row.updated_at = now
                changed.append(c.row)
                changed_fields |= c.changed
    await insert_rows(conn, models.Contact, [
        {**{k: getattr(c.row, k) for k in _CONTACT_COLUMNS if k not in ("created_at", "updated_at")},
         "created_at": now, "updated_at": now}
        for c in new])
    if new:
        rows = await _by_external_id(models.Contact, project_id, source, [c.external_id for c in new])
        for c in new:
            c.row = rows[c.external_id]
    if changed:
        await models.Contact.bulk_update(changed, [*sorted(changed_fields), "updated_at"], batch_size=200)


def _result(plan: _Plan) -> ItemResult:
    if plan.failed:
        return ItemResult(plan.index, plan.external_id or None, UpsertOutcome.FAILED, issues=tuple(plan.issues))
    contacts_changed = any(c.changed for c in plan.contacts)
    if plan.created:
        outcome = UpsertOutcome.CREATED
    elif plan.changed or contacts_changed:
        outcome = UpsertOutcome.UPDATED
    else:
        outcome = UpsertOutcome.UNCHANGED
    fields_changed = sorted(plan.changed) + (["contacts"] if contacts_changed and not plan.created else [])
    return ItemResult(plan.index, plan.external_id, outcome, plan.row, changed_fields=tuple(fields_changed))


# --- removing ----------------------------------------------------------------------------------------------


async def _remove(access: Access, cmd: UpsertAccounts, plans: list[_Plan],
                  found: dict[str, models.Account]) -> AccountsUpserted:
    """Erase the accounts of the external ids (the erasure of deleteAccounts); an external id with no account
    (already removed, or never synced) has nothing to remove: unchanged, so a retried call answers as any other."""
    ids = [found[p.external_id].id for p in plans if not p.failed and p.external_id in found]
    if ids:
        await erase_accounts(access, ids)
    return AccountsUpserted(tuple(
        ItemResult(p.index, p.external_id or None, UpsertOutcome.FAILED, issues=tuple(p.issues)) if p.failed
        else ItemResult(p.index, p.external_id,
                        UpsertOutcome.REMOVED if p.external_id in found else UpsertOutcome.UNCHANGED)
        for p in plans))


async def erase_accounts(access: Access, account_ids: list[int]) -> None:
    """Erase the accounts (all of the caller's project, checked before)."""
    await erasure.delete_accounts(access, erasure.DeleteAccounts(account_ids=account_ids))
