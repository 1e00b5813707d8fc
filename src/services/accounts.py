"""Accounts: create (deduplicated), bulk create, update, merge, status history.

Dedupe, on every path, first match wins: same domain; same normalised name + city; same
E.164 phone. A match merges the new non-empty fields into the existing row where it has
none (nothing is overwritten or deleted) and the merge is audited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import AccountStatus, Role, StatusSource
from outboundql.errors import Collector, Conflict, InvalidInput, Issue
from outboundql.services import audit, contacts, fields, normalize
from outboundql.services.access import Access

MAX_CONTACTS_PER_ACCOUNT_INPUT = 50

_CLEANERS = {
    "name": fields.text(300, required=True, label="Name"),
    "domain": normalize.normalize_domain,
    "website": normalize.normalize_url,
    "industry": fields.text(200, label="Industry"),
    "employee_count": fields.int_range(0, 10_000_000, label="Employee count"),
    "country": normalize.normalize_country,
    "city": fields.text(200, label="City"),
    "language": normalize.normalize_language,
    "description": fields.long_text(label="Description"),
    "email": normalize.normalize_email,
    "tags": fields.string_list(max_items=50, max_length=100, label="Tags"),
    "source": fields.text(100, label="Source"),
}

# Fields a dedupe match fills in when the existing row has no value.
_FILLABLE = (
    "domain", "website", "industry", "employee_count", "country", "city", "language", "description",
    "phone", "email", "contract_end_date", "source",
)


def clean_account(data: dict[str, Any], check: Collector, *, prefix: str = "input.") -> dict[str, Any]:
    """Validate and normalise the account's own fields; derive the dedupe keys.

    Only row fields come back: ``status`` (recorded in the history), ``contacts`` and the
    ``_existing_country`` hint (for parsing a national phone number on update) are left out.
    """
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check, prefix=prefix)
    if "phone" in data:
        country = cleaned.get("country") if "country" in data else data.get("_existing_country")
        try:
            cleaned["phone"] = normalize.normalize_phone(data["phone"], country)
        except ValueError as exc:
            check.add(prefix + "phone", str(exc))
    if "custom_fields" in data:
        value = data["custom_fields"]
        if value is None:
            cleaned["custom_fields"] = {}
        elif not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
            check.add(prefix + "customFields", "Custom fields must be a JSON object with non-empty string keys.")
        else:
            cleaned["custom_fields"] = value
    if "contract_end_date" in data:
        value = data["contract_end_date"]
        if value is not None and not date(2000, 1, 1) <= value <= date(2100, 12, 31):
            check.add(prefix + "contractEndDate", "Contract end date must be between 2000 and 2100.")
    if cleaned.get("website") and not cleaned.get("domain") and not data.get("domain"):
        # GraphQL create inputs carry ``domain: None`` when it was not given, so test the value.
        with contextlib.suppress(ValueError):
            cleaned["domain"] = normalize.normalize_domain(cleaned["website"])
    if cleaned.get("name"):
        cleaned["name_key"] = normalize.name_key(cleaned["name"])
    if "city" in cleaned:
        cleaned["city_key"] = normalize.city_key(cleaned["city"])
    return cleaned


@dataclass(slots=True)
class Upserted:
    """The outcome of one create: the row, whether it is new, and how a duplicate was found."""

    account: models.Account
    created: bool
    matched_on: str | None = None  # "domain" | "name_city" | "phone"
    merged_fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DedupeIndex:
    """Existing accounts of one project keyed by every dedupe key, oldest row first."""

    by_domain: dict[str, models.Account] = field(default_factory=dict)
    by_name_city: dict[tuple[str, str], models.Account] = field(default_factory=dict)
    by_phone: dict[str, models.Account] = field(default_factory=dict)

    @classmethod
    async def load(cls, project_id: int, candidates: Sequence[dict[str, Any]]) -> DedupeIndex:
        index = cls()
        domains = {c["domain"] for c in candidates if c.get("domain")}
        names = {c["name_key"] for c in candidates if c.get("name_key")}
        phones = {c["phone"] for c in candidates if c.get("phone")}
        query = Q()
        for key, values in (("domain__in", domains), ("name_key__in", names), ("phone__in", phones)):
            if values:
                query |= Q(**{key: list(values)})
        if domains or names or phones:
            for row in await models.Account.filter(query, project_id=project_id).order_by("id"):
                index.add(row)
        return index

    def add(self, row: models.Account) -> None:
        if row.domain:
            self.by_domain.setdefault(row.domain, row)
        if row.name_key:
            self.by_name_city.setdefault((row.name_key, row.city_key), row)
        if row.phone:
            self.by_phone.setdefault(row.phone, row)

    def match(self, candidate: dict[str, Any]) -> tuple[models.Account, str] | None:
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
    access: Access, project_id: int, cleaned: dict[str, Any], contact_inputs: list[dict[str, Any]],
    index: DedupeIndex, source: StatusSource,
) -> Upserted:
    status = cleaned.pop("status", None) or AccountStatus.NEW
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
        result = Upserted(row, created=False, matched_on=matched_on, merged_fields=merged)
    index.add(row)
    for contact_input in contact_inputs:
        await contacts.upsert_contact(access, row, contact_input)
    return result


def _clean_contacts(data: dict[str, Any], check: Collector, prefix: str) -> list[dict[str, Any]]:
    items = data.get("contacts") or []
    if len(items) > MAX_CONTACTS_PER_ACCOUNT_INPUT:
        check.add(prefix + "contacts", f"At most {MAX_CONTACTS_PER_ACCOUNT_INPUT} contacts per account.")
        return []
    country = data.get("country")
    return [
        contacts.clean_contact({**item, "_country": country}, check, prefix=f"{prefix}contacts[{i}].")
        for i, item in enumerate(items)
    ]


def _status_of(data: dict[str, Any]) -> AccountStatus | None:
    return AccountStatus(data["status"]) if data.get("status") else None


async def create_account(
    access: Access, project_id: int, data: dict[str, Any], source: StatusSource = StatusSource.API
) -> Upserted:
    """Create one account, or merge into the existing duplicate."""
    access.require(project_id, Role.MEMBER, field="input.projectId")
    check = Collector()
    cleaned = clean_account(data, check)
    contact_inputs = _clean_contacts(data, check, "input.")
    check.raise_if_any()
    cleaned["status"] = _status_of(data)
    async with in_transaction():
        index = await DedupeIndex.load(project_id, [cleaned])
        return await _upsert_one(access, project_id, cleaned, contact_inputs, index, source)


@dataclass(slots=True)
class BulkResult:
    """Per-item outcome of a bulk create, aligned with the input list."""

    index: int
    upserted: Upserted | None = None
    issues: list[Issue] = field(default_factory=list)


async def bulk_create_accounts(
    access: Access, project_id: int, items: Sequence[dict[str, Any]], *, max_items: int,
    source: StatusSource = StatusSource.API,
) -> list[BulkResult]:
    """Create many accounts in one transaction. A bad item is reported and skipped; good items land.

    Items are deduplicated against the project and against earlier items of the same call.
    """
    access.require(project_id, Role.MEMBER, field="input.projectId")
    if not items:
        raise InvalidInput("Give at least one account.", field="input.accounts")
    if len(items) > max_items:
        raise InvalidInput(f"At most {max_items} accounts per call (got {len(items)}); split the list.",
                           field="input.accounts")
    results: list[BulkResult] = []
    prepared: list[tuple[BulkResult, dict[str, Any], list[dict[str, Any]]]] = []
    for i, item in enumerate(items):
        check = Collector()
        prefix = f"input.accounts[{i}]."
        cleaned = clean_account(item, check, prefix=prefix)
        contact_inputs = _clean_contacts(item, check, prefix)
        result = BulkResult(index=i, issues=check.items)
        results.append(result)
        if not check.items:
            cleaned["status"] = _status_of(item)
            prepared.append((result, cleaned, contact_inputs))
    if prepared:
        async with in_transaction():
            index = await DedupeIndex.load(project_id, [c for _, c, _ in prepared])
            for result, cleaned, contact_inputs in prepared:
                result.upserted = await _upsert_one(access, project_id, cleaned, contact_inputs, index, source)
    return results


async def update_account(access: Access, account_id: Any, data: dict[str, Any]) -> models.Account:
    """Change fields of an account. A status change is recorded in its history (source: manual)."""
    row = await access.get(models.Account, account_id, Role.MEMBER, field="input.id")
    check = Collector()
    if "name" in data and data["name"] is None:
        check.add("input.name", "Name cannot be removed.")
    cleaned = clean_account({**data, "_existing_country": row.country}, check)
    check.raise_if_any()
    if "domain" not in data and row.domain:
        cleaned.pop("domain", None)  # a new website never replaces a domain the row already has
    status = _status_of(data)
    if cleaned.get("domain") and cleaned["domain"] != row.domain:
        other = await models.Account.filter(project_id=row.project_id, domain=cleaned["domain"]).exclude(
            id=row.id).first()
        if other is not None:
            raise Conflict(
                f"Account {other.name!r} already has the domain {cleaned['domain']}; "
                "merge the two with mergeAccounts instead.",
                field="input.domain",
            )
    async with in_transaction(), audit.tracked(row, project_id=row.project_id, actor=access.user,
                                               action="account.update"):
        for key, value in cleaned.items():
            setattr(row, key, value)
        await row.save()
        if status is not None:
            await _set_status(row, status, StatusSource.MANUAL, access.user, note=data.get("status_note") or "")
    return row


def filter_accounts(queryset: Any, flt: dict[str, Any]) -> Any:
    """Apply an account filter (all keys optional) to a queryset."""
    if flt.get("statuses"):
        queryset = queryset.filter(status__in=[AccountStatus(s) for s in flt["statuses"]])
    if flt.get("countries"):
        queryset = queryset.filter(country__in=[c.upper() for c in flt["countries"]])
    if flt.get("industries"):
        queryset = queryset.filter(industry__in=flt["industries"])
    if flt.get("min_employees") is not None:
        queryset = queryset.filter(employee_count__gte=flt["min_employees"])
    if flt.get("max_employees") is not None:
        queryset = queryset.filter(employee_count__lte=flt["max_employees"])
    if flt.get("search"):
        term = flt["search"].strip()
        queryset = queryset.filter(Q(name__icontains=term) | Q(domain__icontains=term) | Q(city__icontains=term))
    if flt.get("domain"):
        queryset = queryset.filter(domain=normalize.normalize_domain(flt["domain"]))
    if flt.get("created_after") is not None:
        queryset = queryset.filter(created_at__gte=flt["created_after"])
    if flt.get("created_before") is not None:
        queryset = queryset.filter(created_at__lt=flt["created_before"])
    return queryset


MAX_STATUS_UPDATES = 1000


@dataclass(slots=True)
class StatusResult:
    """Outcome for one id of a bulk status update: ``changed``, ``unchanged`` or ``failed`` (with ``issue``)."""

    index: int
    account_id: int | None
    outcome: str = "failed"
    account: models.Account | None = None
    previous_status: AccountStatus | None = None
    issue: Issue | None = None


async def update_statuses(
    access: Access, account_ids: Sequence[int | None], status: AccountStatus, note: str | None = None
) -> list[StatusResult]:
    """Set the status of many accounts (at most 1000), a result per id in input order (a repeated id is
    answered once, at its first position). Ids that are missing or of another project fail with
    NOT_FOUND; the others change in one transaction, each move kept in the status history (source
    manual) and audited. A role below member refuses the whole request."""
    if not account_ids:
        raise InvalidInput("Give at least one account id.", field="input.accountIds")
    if len(account_ids) > MAX_STATUS_UPDATES:
        raise InvalidInput(f"At most {MAX_STATUS_UPDATES} accounts per call (got {len(account_ids)}); split the "
                           "list.", field="input.accountIds")
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput("The note must be at most 2000 characters.", field="input.note")
    status = AccountStatus(status)
    first_index: dict[int, int] = {}
    results: list[StatusResult] = []
    for i, pk in enumerate(account_ids):
        if pk is not None and pk in first_index:
            continue
        if pk is not None:
            first_index[pk] = i
        results.append(StatusResult(index=i, account_id=pk))
    wanted = [pk for pk in first_index]
    async with in_transaction():
        rows = {row.id: row for row in await access.scope(models.Account.filter(id__in=wanted)).select_for_update()}
        for row in rows.values():
            access.require(row.project_id, Role.MEMBER)
        changes: list[models.Account] = []
        for result in results:
            row = rows.get(result.account_id) if result.account_id is not None else None
            if row is None:
                result.issue = Issue("NOT_FOUND", "Account not found.", f"input.accountIds[{result.index}]")
                continue
            result.account = row
            result.previous_status = row.status
            if row.status is status:
                result.outcome = "unchanged"
            else:
                result.outcome = "changed"
                changes.append(row)
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
    return results
