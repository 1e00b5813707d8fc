"""Accounts: create (deduplicated), bulk create, update, bulk status changes, the project's account list.

Dedupe, on every path, first match wins: same domain; same normalised name + city; same
E.164 phone. A match merges the new non-empty fields into the existing row where it has
none (nothing is overwritten or deleted) and the merge is audited.

Every write publishes its account events (``created``, ``merged``, ``updated``) once committed,
whoever called it: the API, the demo seeder, a job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from typing import Any, Literal

from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import timezones
from outboundql.enums import AccountStatus, Role, StatusSource
from outboundql.errors import Collector, Conflict, InvalidInput, Issue
from outboundql.services import (
    audiences,
    audit,
    contacts,
    database_kept,
    events,
    fields,
    idempotency,
    messages,
    normalize,
    sql,
)
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.contacts import NewContact
from outboundql.services.locks import locked_project

MAX_CONTACTS_PER_ACCOUNT_INPUT = 50
MAX_STATUS_UPDATES = 1000

_CLEANERS = {
    "name": fields.text(300, required=True, label="Name"),
    "domain": normalize.normalize_domain,
    "website": normalize.normalize_url,
    "industry": fields.text(200, label="Industry"),
    "employee_count": fields.int_range(0, 10_000_000, label="Employee count"),
    "country": normalize.normalize_country,
    "city": fields.text(200, label="City"),
    "language": normalize.normalize_language,
    "time_zone": timezones.normalize_time_zone,
    "description": fields.long_text(label="Description"),
    "email": normalize.normalize_email,
    "tags": fields.string_list(max_items=50, max_length=100, label="Tags"),
    "source": fields.text(100, label="Source"),
    "custom_fields": fields.json_object(label="Custom fields"),
}

# Fields a dedupe match fills in when the existing row has no value.
_FILLABLE = (
    "domain", "website", "industry", "employee_count", "country", "city", "language", "time_zone",
    "description", "phone", "email", "contract_end_date", "source",
)

#: The columns of an account the dedupe (`DedupeIndex`) and `fill_empty` read.
DEDUPE_COLUMNS = ("id", "project_id", "name_key", "city_key", "tags", "custom_fields", *_FILLABLE)


# --- commands and results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewAccount:
    """An account to create (alone: `CreateAccount`; many: `BulkCreateAccounts`). Only ``name`` is required."""

    name: str
    domain: str | None = None
    website: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    country: str | None = None
    city: str | None = None
    language: str | None = None
    time_zone: str | None = None  # IANA name, any case
    description: str | None = None
    phone: str | None = None
    email: str | None = None
    tags: Sequence[str] | None = None
    custom_fields: Any = None  # JSON: must be an object with non-empty string keys
    contract_end_date: date | None = None
    source: str | None = None
    status: AccountStatus | None = None  # None: NEW
    contacts: Sequence[NewContact] = ()  # at most MAX_CONTACTS_PER_ACCOUNT_INPUT


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAccount(NewAccount):
    """Create one account in a project, or merge it into the existing duplicate."""

    project_id: int
    idempotency_key: str | None = None
    """A retry with the same key answers the first outcome (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class BulkCreateAccounts:
    """Create many accounts of one project at once, deduplicated; a bad item is reported, the rest land."""

    project_id: int
    accounts: tuple[NewAccount, ...]
    idempotency_key: str | None = None
    """A retry with the same key answers the first outcome of every item (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateAccount:
    """Change the given fields of an account (`UNSET`: left alone; None clears an optional field)."""

    id: int
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
    source: Maybe[str | None] = UNSET
    status: Maybe[AccountStatus | None] = UNSET
    status_note: Maybe[str | None] = UNSET  # why the status changed, kept in the history


@dataclass(frozen=True, slots=True)
class UpdateAccountStatuses:
    """Set the status of many accounts. An id that names no account is None (it fails NOT_FOUND)."""

    account_ids: tuple[int | None, ...]
    status: AccountStatus
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """Which accounts of a project a list shows: every condition must hold; a list matches any of its values."""

    statuses: Sequence[AccountStatus] | None = None
    countries: Sequence[str] | None = None
    industries: Sequence[str] | None = None
    min_employees: int | None = None
    max_employees: int | None = None
    search: str | None = None  # part of the name, domain or city
    domain: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    @property
    def narrows(self) -> bool:
        """Whether any condition is set (`filter_accounts` skips an empty list or text)."""
        return any(bool(v) if isinstance(v, (str, list, tuple)) else v is not None
                   for v in (getattr(self, f.name) for f in dataclass_fields(self)))


AccountSortKey = Literal["name", "created_at", "updated_at", "employee_count"]


@dataclass(frozen=True, slots=True)
class AccountOrder:
    key: AccountSortKey = "created_at"
    descending: bool = False


MatchRule = Literal["domain", "name_city", "phone"]


@dataclass(frozen=True, slots=True)
class Upserted:
    """The outcome of one create: the row, whether it is new, and how a duplicate was found."""

    account: models.Account
    created: bool
    matched_on: MatchRule | None = None
    merged_fields: tuple[str, ...] = ()  # fields of the duplicate this create filled in
    replayed: bool = False
    """createAccount's answer to an earlier request with the same idempotency key (nothing was written)."""

    def answer(self) -> idempotency.Answer:
        """What a replay needs to answer the same (`from_answer`)."""
        return {"account_id": self.account.id, "created": self.created, "matched_on": self.matched_on,
                "merged_fields": list(self.merged_fields)}

    @classmethod
    async def from_answer(cls, answer: idempotency.Answer, project_id: int) -> Upserted | None:
        """The outcome `answer` recorded, replayed; None when its account is gone (merged or deleted)."""
        account = await models.Account.get_or_none(id=answer["account_id"], project_id=project_id)
        if account is None:
            return None
        return cls(account, created=bool(answer["created"]), matched_on=answer["matched_on"],
                   merged_fields=tuple(answer["merged_fields"]), replayed=True)


@dataclass(frozen=True, slots=True)
class BulkItem:
    """What happened to one item of a bulk create: ``upserted``, or the ``issues`` that kept it out."""

    index: int
    upserted: Upserted | None = None
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkCreated:
    """Per-item outcomes of a bulk create, aligned with the input list."""

    items: tuple[BulkItem, ...]
    replayed: bool = False
    """The answer to an earlier request with the same idempotency key (nothing was written)."""

    @property
    def created_count(self) -> int:
        return sum(1 for item in self.items if item.upserted is not None and item.upserted.created)

    @property
    def merged_count(self) -> int:
        return sum(1 for item in self.items if item.upserted is not None and not item.upserted.created)

    @property
    def failed_count(self) -> int:
        return sum(1 for item in self.items if item.upserted is None)


@dataclass(frozen=True, slots=True)
class AccountChanged:
    account: models.Account


StatusOutcome = Literal["changed", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Outcome for one id of a bulk status update: ``changed``, ``unchanged`` or ``failed`` (with ``issue``)."""

    index: int
    account_id: int | None
    outcome: StatusOutcome = "failed"
    account: models.Account | None = None
    previous_status: AccountStatus | None = None
    issue: Issue | None = None


@dataclass(frozen=True, slots=True)
class StatusesUpdated:
    """A result per distinct id, in input order."""

    results: tuple[StatusResult, ...]

    def count(self, outcome: StatusOutcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


# --- cleaning and dedupe ---------------------------------------------------------------------------------


def clean_account(
    data: dict[str, Any], check: Collector, *, prefix: str = "", existing_country: str | None = None
) -> dict[str, Any]:
    """Validate and normalise the account's own fields (issues on ``prefix`` + the field's name); derive
    the dedupe keys. ``existing_country`` (on update) helps parse a national phone number.

    Only row fields come back: ``status`` (recorded in the history) and ``contacts`` are left out.
    """
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check, prefix=prefix)
    if "phone" in data:
        country = cleaned.get("country") if "country" in data else existing_country
        try:
            cleaned["phone"] = normalize.normalize_phone(data["phone"], country)
        except ValueError as exc:
            check.add(prefix + "phone", str(exc))
    if "contract_end_date" in data:
        value = data["contract_end_date"]
        if value is not None and not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            check.add(prefix + "contract_end_date", "Contract end date must be between 2000 and 2100.")
        else:
            cleaned["contract_end_date"] = value
    if cleaned.get("website") and not cleaned.get("domain") and not data.get("domain"):
        # A create carries ``domain: None`` when it was not given, so test the value.
        with contextlib.suppress(ValueError):
            cleaned["domain"] = normalize.normalize_domain(cleaned["website"])
    if cleaned.get("name"):
        cleaned["name_key"] = normalize.name_key(cleaned["name"])
    if "city" in cleaned:
        cleaned["city_key"] = normalize.city_key(cleaned["city"])
    return cleaned


@dataclass(slots=True)
class _Candidate:
    """One account to create, cleaned: its row fields, status and contacts."""

    row: dict[str, Any]
    status: AccountStatus
    contacts: list[dict[str, Any]]


def _prepare(item: NewAccount, check: Collector, prefix: str) -> _Candidate:
    data = given(item, exclude=("project_id", "status", "contacts", "idempotency_key"))
    cleaned = clean_account(data, check, prefix=prefix)
    if len(item.contacts) > MAX_CONTACTS_PER_ACCOUNT_INPUT:
        check.add(prefix + "contacts", f"At most {MAX_CONTACTS_PER_ACCOUNT_INPUT} contacts per account.")
        contact_rows = []
    else:
        contact_rows = [
            contacts.clean_contact(contacts.new_contact_data(contact), check, prefix=f"{prefix}contacts[{i}].",
                                   country=item.country)
            for i, contact in enumerate(item.contacts)
        ]
    return _Candidate(cleaned, AccountStatus(item.status) if item.status else AccountStatus.NEW, contact_rows)


@dataclass(slots=True)
class DedupeIndex:
    """Existing accounts of one project keyed by every dedupe key, oldest row first."""

    by_domain: dict[str, models.Account] = field(default_factory=dict)
    by_name_city: dict[tuple[str, str], models.Account] = field(default_factory=dict)
    by_phone: dict[str, models.Account] = field(default_factory=dict)

    @classmethod
    async def load(cls, project_id: int, candidates: Sequence[dict[str, Any]], *,
                   plain: Callable[[dict[str, Any]], Any] | None = None) -> DedupeIndex:
        """The accounts ``candidates`` may match: by domain, then (for the candidates no domain matched) by name,
        then (for those still unmatched) by phone; one query per key, each on its own index (an OR of the three
        makes SQLite read the whole project). With ``plain``, the accounts are what it makes of their
        `DEDUPE_COLUMNS` (the values the dedupe and `fill_empty` use) instead of model instances: an import
        reads thousands, and builds a model instance at several times the cost of the read."""
        index = cls()
        conn = connections.get("default")  # the transaction's, inside one
        found: dict[int, models.Account] = {}
        left = list(candidates)
        for name in ("domain", "name_key", "phone"):
            values = sorted({c[name] for c in left if c.get(name)})
            if not values:
                continue  # no query to make
            if plain is None:
                rows = await sql.select_in(conn, models.Account, name, values, project_id=project_id)
            else:
                rows = [plain(row) for row in await sql.select_values(
                    conn, models.Account, DEDUPE_COLUMNS, name, values, project_id=project_id)]
            if not rows:
                continue  # nothing new: the index and the candidates left stay as they are
            for row in rows:
                found.setdefault(row.id, row)
            index = cls()
            for pk in sorted(found):
                index.add(found[pk])
            left = [c for c in left if index.match(c) is None]
        return index

    def add(self, row: models.Account) -> None:
        if row.domain:
            self.by_domain.setdefault(row.domain, row)
        if row.name_key:
            self.by_name_city.setdefault((row.name_key, row.city_key), row)
        if row.phone:
            self.by_phone.setdefault(row.phone, row)

    def match(self, candidate: dict[str, Any]) -> tuple[models.Account, MatchRule] | None:
        if candidate.get("domain") and candidate["domain"] in self.by_domain:
            return self.by_domain[candidate["domain"]], "domain"
        key = (candidate.get("name_key") or "", candidate.get("city_key") or "")
        if key[0] and key in self.by_name_city:
            return self.by_name_city[key], "name_city"
        if candidate.get("phone") and candidate["phone"] in self.by_phone:
            return self.by_phone[candidate["phone"]], "phone"
        return None


def fill_empty(row: models.Account, incoming: dict[str, Any]) -> list[str]:
    """Copy incoming values into fields the row has no value for. Returns the field names changed."""
    changed: list[str] = []
    for name in _FILLABLE:
        value = incoming.get(name)
        if value not in (None, "") and getattr(row, name) in (None, ""):
            setattr(row, name, value)
            changed.append(name)
    if "city" in changed:
        row.city_key = normalize.city_key(row.city)
    new_tags = [t for t in incoming.get("tags") or [] if t not in row.tags]
    if new_tags:
        row.tags = [*row.tags, *new_tags]
        changed.append("tags")
    new_custom = {k: v for k, v in (incoming.get("custom_fields") or {}).items() if k not in row.custom_fields}
    if new_custom:
        row.custom_fields = {**row.custom_fields, **new_custom}
        changed.append("custom_fields")
    return changed


async def _set_status(
    row: models.Account, status: AccountStatus, source: StatusSource, actor: models.User | None, note: str = ""
) -> None:
    previous = row.status if row.pk else None
    if previous == status and row.pk:
        return
    row.status = status
    if row.pk:
        await row.save(update_fields=["status", "updated_at"])
    await models.AccountStatusChange.create(
        account_id=row.pk, from_status=previous, to_status=status, source=source, changed_by=actor, note=note
    )


async def _upsert_one(
    access: Access, project_id: int, candidate: _Candidate, index: DedupeIndex, source: StatusSource,
) -> Upserted:
    cleaned, status = candidate.row, candidate.status
    hit = index.match(cleaned)
    if hit is None:
        row = models.Account(project_id=project_id, created_by=access.user, status=status, **cleaned)
        await row.save()
        await models.AccountStatusChange.create(
            account_id=row.id, from_status=None, to_status=status, source=source, changed_by=access.user
        )
        await audit.record(project_id=project_id, actor=access.user, action="account.create", row=row,
                           after=audit.snapshot(row))
        result = Upserted(row, created=True)
    else:
        row, matched_on = hit
        before = audit.snapshot(row)
        merged = fill_empty(row, cleaned)
        if merged:
            await row.save()
        if row.status is AccountStatus.NEW and status is not AccountStatus.NEW:
            await _set_status(row, status, source, access.user, note=f"from a duplicate matched on {matched_on}")
            merged.append("status")
        old, new = audit.changed(before, audit.snapshot(row))
        await audit.record(project_id=project_id, actor=access.user, action="account.dedupe_merge", row=row,
                           before=old, after={**new, "matched_on": matched_on})
        result = Upserted(row, created=False, matched_on=matched_on, merged_fields=tuple(merged))
    index.add(row)
    for contact in candidate.contacts:
        await contacts.upsert_contact(access, row, contact)
    return result


async def _publish_upserted(project_id: int, upserted: Upserted) -> None:
    await events.publish_account_change(project_id, upserted.account.id, "created" if upserted.created else "merged")


# --- use cases ---------------------------------------------------------------------------------------------


async def create_account(
    access: Access, cmd: CreateAccount, *, status_source: StatusSource = StatusSource.API
) -> Upserted:
    """Create one account, or merge it into the existing duplicate."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    once = idempotency.Once.of(cmd, "account.create", project_id=cmd.project_id)
    check = Collector()
    candidate = _prepare(cmd, check, "")
    check.raise_if_any()

    async def write() -> tuple[Upserted, idempotency.Answer]:
        await locked_project(cmd.project_id)
        index = await DedupeIndex.load(cmd.project_id, [candidate.row])
        result = await _upsert_one(access, cmd.project_id, candidate, index, status_source)
        return result, result.answer()

    async def replay(answer: idempotency.Answer) -> Upserted | None:
        return await Upserted.from_answer(answer, cmd.project_id)

    result = await idempotency.create_once(once, write, replay)
    if not result.replayed:
        await _publish_upserted(cmd.project_id, result)
        await audiences.accounts_changed(cmd.project_id, [result.account.id])
    return result


async def bulk_create_accounts(
    access: Access, cmd: BulkCreateAccounts, *, max_items: int, status_source: StatusSource = StatusSource.API,
) -> BulkCreated:
    """Create many accounts in one transaction. A bad item is reported and skipped; good items land.

    Items are deduplicated against the project and against earlier items of the same call.
    """
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    if not cmd.accounts:
        raise InvalidInput("Give at least one account.", field="accounts")
    if len(cmd.accounts) > max_items:
        raise InvalidInput(f"At most {max_items} accounts per call (got {len(cmd.accounts)}); split the list.",
                           field="accounts")
    once = idempotency.Once.of(cmd, "account.bulk_create", project_id=cmd.project_id)
    issues: list[tuple[Issue, ...]] = []
    prepared: list[tuple[int, _Candidate]] = []
    for i, item in enumerate(cmd.accounts):
        check = Collector()
        candidate = _prepare(item, check, f"accounts[{i}].")
        issues.append(tuple(check.items))
        if not check.items:
            prepared.append((i, candidate))

    async def write() -> tuple[BulkCreated, idempotency.Answer]:
        upserted: dict[int, Upserted] = {}
        if prepared:
            await locked_project(cmd.project_id)
            index = await DedupeIndex.load(cmd.project_id, [c.row for _, c in prepared])
            for i, candidate in prepared:
                upserted[i] = await _upsert_one(access, cmd.project_id, candidate, index, status_source)
        result = BulkCreated(tuple(BulkItem(i, upserted.get(i), item_issues) for i, item_issues in enumerate(issues)))
        # The items that failed are failed again by a replay's own validation (the same command, the same issues).
        return result, {"upserted": {str(i): up.answer() for i, up in upserted.items()}}

    async def replay(answer: idempotency.Answer) -> BulkCreated | None:
        upserted: dict[int, Upserted] = {}
        for i, recorded in answer["upserted"].items():
            up = await Upserted.from_answer(recorded, cmd.project_id)
            if up is None:
                return None
            upserted[int(i)] = up
        return BulkCreated(tuple(BulkItem(i, upserted.get(i), item_issues) for i, item_issues in enumerate(issues)),
                           replayed=True)

    result = await idempotency.create_once(once, write, replay)
    if not result.replayed:
        for outcome in result.items:
            if outcome.upserted is not None:
                await _publish_upserted(cmd.project_id, outcome.upserted)
        await audiences.accounts_changed(cmd.project_id, [o.upserted.account.id for o in result.items
                                                          if o.upserted is not None])
    return result


async def update_account(access: Access, cmd: UpdateAccount) -> AccountChanged:
    """Change fields of an account. A status change is recorded in its history (source: manual)."""
    row = await access.get(models.Account, cmd.id, Role.MEMBER, field="id")
    data = given(cmd, exclude=("id", "status", "status_note"))
    check = Collector()
    if "name" in data and data["name"] is None:
        check.add("name", "Name cannot be removed.")
    cleaned = clean_account(data, check, existing_country=row.country)
    note = fields.clean({"status_note": None if cmd.status_note is UNSET else cmd.status_note},
                        {"status_note": fields.long_text(2000, label="The status note")}, check).get("status_note", "")
    check.raise_if_any()
    if "domain" not in data and row.domain:
        cleaned.pop("domain", None)  # a new website never replaces a domain the row already has
    if cleaned.get("domain") and cleaned["domain"] != row.domain:
        other = await models.Account.filter(project_id=row.project_id, domain=cleaned["domain"]).exclude(
            id=row.id).first()
        if other is not None:
            raise Conflict(
                f"Account {other.name!r} already has the domain {cleaned['domain']}; "
                "merge the two with mergeAccounts instead.",
                field="domain",
            )
    async with in_transaction(), audit.tracked(row, project_id=row.project_id, actor=access.user,
                                               action="account.update"):
        for key, value in cleaned.items():
            setattr(row, key, value)
        await row.save()
        if cmd.status is not UNSET and cmd.status is not None:
            await _set_status(row, AccountStatus(cmd.status), StatusSource.MANUAL, access.user, note=note)
    await events.publish_account_change(row.project_id, row.id, "updated")
    await audiences.accounts_changed(row.project_id, [row.id])
    return AccountChanged(row)


async def update_statuses(access: Access, cmd: UpdateAccountStatuses) -> StatusesUpdated:
    """Set the status of many accounts (at most 1000), a result per id in input order (a repeated id is
    answered once, at its first position). Ids that are missing or of another project fail with
    NOT_FOUND; the others change in one transaction, each move kept in the status history (source
    manual) and audited. A role below member refuses the whole request."""
    if not cmd.account_ids:
        raise InvalidInput("Give at least one account id.", field="account_ids")
    if len(cmd.account_ids) > MAX_STATUS_UPDATES:
        raise InvalidInput(f"At most {MAX_STATUS_UPDATES} accounts per call (got {len(cmd.account_ids)}); split "
                           "the list.", field="account_ids")
    note = fields.cleaned("note", fields.long_text(2000, label="The note"), cmd.note)
    status = AccountStatus(cmd.status)
    asked: list[tuple[int, int | None]] = []  # (index, id) of each distinct id, in input order
    seen: set[int] = set()
    for i, pk in enumerate(cmd.account_ids):
        if pk is not None and pk in seen:
            continue
        if pk is not None:
            seen.add(pk)
        asked.append((i, pk))
    results: list[StatusResult] = []
    async with in_transaction():
        locked = access.scope(models.Account.filter(id__in=list(seen))).select_for_update()
        rows = {row.id: row for row in await locked}
        for row in rows.values():
            access.require(row.project_id, Role.MEMBER)
        changes: list[models.Account] = []
        for i, pk in asked:
            found = rows.get(pk) if pk is not None else None
            if found is None:
                results.append(StatusResult(i, pk, issue=Issue("NOT_FOUND", "Account not found.",
                                                                f"account_ids[{i}]")))
                continue
            changed = found.status is not status
            results.append(StatusResult(i, pk, "changed" if changed else "unchanged", found, found.status))
            if changed:
                changes.append(found)
        if changes:
            changed_ids = [row.id for row in changes]
            now = datetime.now(UTC)
            await models.Account.filter(id__in=changed_ids).update(status=status, updated_at=now)
            await models.AccountStatusChange.bulk_create([
                models.AccountStatusChange(account_id=row.id, from_status=row.status, to_status=status,
                                           source=StatusSource.MANUAL, changed_by=access.user, note=note)
                for row in changes
            ])
            await models.AuditEvent.bulk_create([
                models.AuditEvent(project_id=row.project_id, actor=access.user, action="account.update_status",
                                  object_type="Account", object_id=row.id, before={"status": row.status.value},
                                  after={"status": status.value, **({"note": note} if note else {})})
                for row in changes
            ])
            for row in changes:
                row.status = status
                row.updated_at = now
    for row in changes:
        await events.publish_account_change(row.project_id, row.id, "updated")
    if changes:
        await audiences.accounts_changed(changes[0].project_id, [row.id for row in changes])
    return StatusesUpdated(tuple(results))


# --- reading -----------------------------------------------------------------------------------------------


def project_accounts(
    access: Access, project_id: int, query: AccountQuery | None = None, order: AccountOrder | None = None
) -> QuerySet[models.Account]:
    """The accounts of a project the viewer belongs to, filtered by ``query`` and sorted by ``order`` (id
    breaks ties, so pages are stable)."""
    access.require(project_id)
    order = order or AccountOrder()
    sign = "-" if order.descending else ""
    return filter_accounts(models.Account.filter(project_id=project_id), query or AccountQuery()).order_by(
        f"{sign}{order.key}", f"{sign}id")


async def count_project_accounts(access: Access, project_id: int, query: AccountQuery | None = None) -> int:
    """How many of the project's accounts ``query`` matches: the count the database keeps when it narrows nothing
    (one indexed lookup, however many accounts), else a COUNT of the matches."""
    access.require(project_id)
    if query is None or not query.narrows:
        return await database_kept.account_count(project_id)
    return await filter_accounts(models.Account.filter(project_id=project_id), query).count()


def filter_accounts(queryset: QuerySet[models.Account], query: AccountQuery) -> QuerySet[models.Account]:
    """Apply an account query (every condition optional) to a queryset."""
    if query.statuses:
        queryset = queryset.filter(status__in=[AccountStatus(s) for s in query.statuses])
    if query.countries:
        queryset = queryset.filter(country__in=[c.upper() for c in query.countries])
    if query.industries:
        queryset = queryset.filter(industry__in=list(query.industries))
    if query.min_employees is not None:
        queryset = queryset.filter(employee_count__gte=query.min_employees)
    if query.max_employees is not None:
        queryset = queryset.filter(employee_count__lte=query.max_employees)
    if query.search:
        term = query.search.strip()
        queryset = queryset.filter(Q(name__icontains=term) | Q(domain__icontains=term) | Q(city__icontains=term))
    if query.domain:
        queryset = queryset.filter(domain=normalize.normalize_domain(query.domain))
    if query.created_after is not None:
        queryset = queryset.filter(created_at__gte=query.created_after)
    if query.created_before is not None:
        queryset = queryset.filter(created_at__lt=query.created_before)
    return queryset


def account_messages(account: models.Account) -> QuerySet[models.Message]:
    """Every message with ``account`` across its campaigns, newest first as they were said."""
    queryset: QuerySet[models.Message] = messages.in_thread_order(
        models.Message.filter(project_id=account.project_id, campaign_account__account_id=account.id),
        newest_first=True,
    )
    return queryset
