"""Suppression: e-mail addresses, phone numbers and domains of a project that nobody is contacted at again.

Values are stored normalised as dedupe compares them (a lowercase e-mail address, an E.164 phone number, a bare
lowercase domain), so a lookup finds an address however it was written. Writing ignores entries already there
(unique per project, kind and value); reading answers, for a batch of addresses, the ones suppressed, in one
query — so planning, executing and imports check a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role, SuppressionKind, SuppressionSource
from outboundql.errors import InvalidInput, Issue
from outboundql.services import fields, normalize, runtime, sql
from outboundql.services.access import Access

#: Longest reason kept with an entry.
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    """One address to suppress; ``value`` as given (it is normalised when written)."""

    kind: SuppressionKind
    value: str
    reason: str = ""


def normalized(kind: SuppressionKind, value: str | None) -> str | None:
    """``value`` as stored for ``kind``; None when empty or not an address of that kind."""
    try:
        if kind is SuppressionKind.EMAIL:
            return normalize.normalize_email(value)
        if kind is SuppressionKind.PHONE:
            return normalize.normalize_phone(value)
        return normalize.normalize_domain(value)
    except ValueError:
        return None


def domain_of(email: str) -> str | None:
    """The domain of an e-mail address (lowercase), None without one."""
    _, at, domain = email.rpartition("@")
    return domain.lower() or None if at else None


def clean(kind: SuppressionKind, value: str | None) -> str:
    """``value`` as stored for ``kind``; ValueError with a sentence for people when it is empty or not an address of
    that kind (the same rules as a contact's e-mail and phone, and an account's domain)."""
    if value is None or not value.strip():
        raise ValueError(f"Give the {_NOUN[kind]} to suppress.")
    if kind is SuppressionKind.EMAIL:
        found = normalize.normalize_email(value)
    elif kind is SuppressionKind.PHONE:
        found = normalize.normalize_phone(value)
    else:
        found = normalize.normalize_domain(value)
    assert found is not None
    return found


_NOUN = {SuppressionKind.EMAIL: "e-mail address", SuppressionKind.PHONE: "phone number (E.164, like +34612345678)",
         SuppressionKind.DOMAIN: "domain (like example.com)"}


async def add(project_id: int, entries: Iterable[Entry], source: str, actor: models.User | None) -> int:
    """Suppress ``entries`` in the project (inside the caller's transaction when there is one): values are
    normalised, entries already suppressed (or repeated) are left as they are, and values that are not an address
    of their kind are skipped. How many entries were added."""
    wanted: dict[tuple[SuppressionKind, str], str] = {}
    for entry in entries:
        value = normalized(SuppressionKind(entry.kind), entry.value)
        if value is not None:
            wanted.setdefault((SuppressionKind(entry.kind), value), entry.reason)
    if not wanted:
        return 0
    have: set[tuple[SuppressionKind, str]] = set()
    for kind in {k for k, _ in wanted}:
        values = [v for k, v in wanted if k is kind]
        for part in sql.chunks(values):
            found = await sql.column(models.Suppression.filter(
                project_id=project_id, kind=kind, value__in=list(part)).values_list("value", flat=True))
            have.update((kind, v) for v in found)
    now = runtime.now()
    rows = [{"project_id": project_id, "kind": kind, "value": value, "reason": reason, "source": source,
             "created_by_id": actor.id if actor else None, "created_at": now, "updated_at": now}
            for (kind, value), reason in wanted.items() if (kind, value) not in have]
    if rows:
        await models.Suppression.bulk_create([models.Suppression(**row) for row in rows], ignore_conflicts=True)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Suppressed:
    """The suppressed values found among those asked (normalised), by kind."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def email(self, value: str | None) -> bool:
        """Whether e-mails to ``value`` are suppressed: the address itself or its domain."""
        if not value:
            return False
        address = value.strip().lower()
        return address in self.emails or (domain_of(address) or "") in self.domains

    def phone(self, value: str | None) -> bool:
        return bool(value) and (value or "").strip() in self.phones

    def address(self, value: str | None) -> bool:
        """Whether ``value`` (an e-mail address or a phone number, as an attempt stores it) is suppressed."""
        return self.email(value) if value and "@" in value else self.phone(value)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.domains)


async def suppressed(project_id: int, emails: Sequence[str | None] = (), phones: Sequence[str | None] = (),
                     domains: Sequence[str | None] = ()) -> Suppressed:
    """Which of these addresses the project suppresses (one query per 2,000 values, every kind at once, after a
    probe that the project suppresses anything at all). The domain of each e-mail address is looked up too, so an
    address under a suppressed domain answers suppressed."""
    conn = connections.get("default")  # the transaction's, inside one
    # Most projects suppress nobody: one indexed probe answers them, before the lists are even built.
    if not any(v and v.strip() for values in (emails, phones, domains) for v in values) or not (
            await conn.execute_query_dict(
                f"SELECT 1 FROM suppression WHERE project_id = {sql.placeholder(conn, 1)} LIMIT 1", [project_id])):
        return Suppressed()
    email_values = {v.strip().lower() for v in emails if v and v.strip()}
    phone_values = {v.strip() for v in phones if v and v.strip()}
    domain_values = {d.strip().lower() for d in domains if d and d.strip()}
    domain_values |= {d for e in email_values if (d := domain_of(e))}
    asked = {SuppressionKind.EMAIL: email_values, SuppressionKind.PHONE: phone_values,
             SuppressionKind.DOMAIN: domain_values}
    found: dict[SuppressionKind, set[str]] = {kind: set() for kind in SuppressionKind}
    kinds = ", ".join(f"'{kind.value}'" for kind in SuppressionKind)  # the enum's own constants
    for part in sql.chunks(sorted(email_values | phone_values | domain_values)):
        listed = ", ".join(sql.placeholder(conn, n) for n in range(2, len(part) + 2))
        for row in await conn.execute_query_dict(
                f"SELECT kind, value FROM suppression WHERE project_id = {sql.placeholder(conn, 1)} "
                f"AND kind IN ({kinds}) AND value IN ({listed})", [project_id, *part]):
            kind = SuppressionKind(row["kind"])
            if row["value"] in asked[kind]:
                found[kind].add(row["value"])
    return Suppressed(frozenset(found[SuppressionKind.EMAIL]), frozenset(found[SuppressionKind.PHONE]),
                      frozenset(found[SuppressionKind.DOMAIN]))


# --- the operators' list: add, remove, read ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddSuppressions:
    """Suppress addresses of a project: each entry an e-mail address, a phone number or a domain, with a reason."""

    project_id: int
    entries: Sequence[Entry]
    source: SuppressionSource = SuppressionSource.MANUAL


@dataclass(frozen=True, slots=True)
class SuppressionsAdded:
    """What `add_suppressions` did: entries written, entries already on the list (the rows as they were, the first
    reason and source kept), and the entries refused, each with why (field ``entries[i].value``…)."""

    added: list[models.Suppression] = field(default_factory=list)
    already_present: list[models.Suppression] = field(default_factory=list)
    failed: list[Issue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RemoveSuppressions:
    """Take entries off a project's list by id: nobody there is kept out any more."""

    project_id: int
    ids: Sequence[int | None]
    """None: an id that names no entry (answered NOT_FOUND on its position)."""


@dataclass(frozen=True, slots=True)
class SuppressionsRemoved:
    removed: list[models.Suppression] = field(default_factory=list)
    """The entries taken off, as they were."""
    not_found: list[Issue] = field(default_factory=list)
    """An id of no entry of the project (another project's reads the same), on ``ids[i]``."""


def _limit() -> int:
    return int(runtime.settings().max_bulk_items)


async def add_suppressions(access: Access, cmd: AddSuppressions) -> SuppressionsAdded:
    """Suppress ``cmd.entries`` (the member role): values are normalised as dedupe compares them, an entry whose
    value is not an address of its kind fails alone (the others land), one already on the list (or repeated in the
    request) is answered as already present, unchanged. One transaction; each entry written is audited
    (``suppression.add``). Nothing but the list changes: rows already planned are checked again when they are
    executed."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    if not cmd.entries:
        raise InvalidInput("Give at least one entry.", field="entries")
    if len(cmd.entries) > _limit():
        raise InvalidInput(f"At most {_limit()} entries per request; send the rest in further requests.",
                           field="entries")
    reason_of = fields.long_text(MAX_REASON, label="The reason")
    failed: list[Issue] = []
    wanted: dict[tuple[SuppressionKind, str], str] = {}
    order: list[tuple[SuppressionKind, str]] = []
    for i, entry in enumerate(cmd.entries):
        kind = SuppressionKind(entry.kind)
        value = reason = None
        try:
            value = clean(kind, entry.value)
        except ValueError as exc:
            failed.append(Issue("INVALID", str(exc), f"entries[{i}].value"))
        try:
            reason = reason_of(entry.reason)
        except ValueError as exc:
            failed.append(Issue("INVALID", str(exc), f"entries[{i}].reason"))
        if value is None or reason is None:
            continue
        if (kind, value) not in wanted:
            wanted[(kind, value)] = reason
            order.append((kind, value))
    result = SuppressionsAdded(failed=failed)
    if not wanted:
        return result
    now = runtime.now()
    async with in_transaction():
        before = await _rows(cmd.project_id, order)
        new = [models.Suppression(project_id=cmd.project_id, kind=kind, value=value, reason=wanted[(kind, value)],
                                  source=cmd.source.value, created_by_id=access.user.id, created_at=now,
                                  updated_at=now)
               for kind, value in order if (kind, value) not in before]
        if new:
            await models.Suppression.bulk_create(new, ignore_conflicts=True)  # one written meanwhile stays as it is
            after = await _rows(cmd.project_id, [(s.kind, s.value) for s in new])
            written = [row for key in order if (row := after.get(key)) is not None and key not in before
                       and row.created_by_id == access.user.id and row.source == cmd.source.value]
            await _audit(cmd.project_id, access.user, "suppression.add", written, before=False)
            before.update({key: row for key, row in after.items() if row not in written})
        else:
            written = []
    ids = {row.id for row in written}
    result.added.extend(row for row in written)
    seen: set[int] = set()
    for key in order:
        row = before.get(key)
        if row is not None and row.id not in ids and row.id not in seen:
            seen.add(row.id)
            result.already_present.append(row)
    return result


async def _rows(project_id: int, keys: Sequence[tuple[SuppressionKind, str]]
                ) -> dict[tuple[SuppressionKind, str], models.Suppression]:
    """The project's entries of these kinds and values (one query per kind, per 2,000 values)."""
    found: dict[tuple[SuppressionKind, str], models.Suppression] = {}
    for kind in sorted({k for k, _ in keys}):
        values = sorted({v for k, v in keys if k is kind})
        for part in sql.chunks(values):
            for row in await models.Suppression.filter(project_id=project_id, kind=kind, value__in=list(part)):
                found[(row.kind, row.value)] = row
    return found


async def _audit(project_id: int, actor: models.User | None, action: str, rows: Sequence[models.Suppression], *,
                 before: bool) -> None:
    """One audit event per entry (written in one statement per 500)."""
    events = []
    for row in rows:
        data = {"kind": row.kind.value, "value": row.value, "reason": row.reason, "source": row.source}
        events.append(models.AuditEvent(project_id=project_id, actor_id=actor.id if actor else None, action=action,
                                        object_type="Suppression", object_id=row.id,
                                        before=data if before else None, after=None if before else data))
    if events:
        await models.AuditEvent.bulk_create(events, batch_size=500)


async def remove_suppressions(access: Access, cmd: RemoveSuppressions) -> SuppressionsRemoved:
    """Take the entries ``cmd.ids`` off the project's list (the member role; at most the bulk limit per request).
    An id of no entry of the project fails alone (NOT_FOUND on ``ids[i]``); the others are deleted, each audited
    (``suppression.remove``, with what it was). Addresses taken off can be imported and contacted again."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    if not cmd.ids:
        raise InvalidInput("Give at least one id.", field="ids")
    if len(cmd.ids) > _limit():
        raise InvalidInput(f"At most {_limit()} ids per request.", field="ids")
    wanted = sorted({i for i in cmd.ids if i is not None})
    async with in_transaction():
        rows: dict[int, models.Suppression] = {}
        for part in sql.chunks(wanted):
            rows.update({row.id: row for row in await models.Suppression.filter(
                project_id=cmd.project_id, id__in=list(part)).select_for_update()})
        if rows:
            for part in sql.chunks(sorted(rows)):
                await models.Suppression.filter(id__in=list(part)).delete()
            await _audit(cmd.project_id, access.user, "suppression.remove", list(rows.values()), before=True)
    missing = [Issue("NOT_FOUND", "Suppression not found.", f"ids[{i}]")
               for i, pk in enumerate(cmd.ids) if pk is None or pk not in rows]
    removed: list[models.Suppression] = []
    for pk in cmd.ids:
        row = rows.pop(pk, None) if pk is not None else None
        if row is not None:
            removed.append(row)
    return SuppressionsRemoved(removed=removed, not_found=missing)


def project_suppressions(access: Access, project_id: int, kind: SuppressionKind | None = None,
                         search: str | None = None) -> Any:
    """The project's entries, newest first (a queryset to page); ``kind`` narrows to one kind, ``search`` to values
    containing it (case does not matter; a phone number's spaces, dashes and brackets are ignored)."""
    access.require(project_id)
    rows = models.Suppression.filter(project_id=project_id)
    if kind is not None:
        rows = rows.filter(kind=kind)
    needle = _needle(search)
    if needle:
        rows = rows.filter(value__contains=needle)
    return rows.order_by("-created_at", "-id")


def _needle(search: str | None) -> str:
    text = (search or "").strip().lower()
    if text and not any(c.isalpha() or c == "@" for c in text):  # a phone number as typed: "+34 612-345"
        text = "".join(c for c in text if c.isdigit() or c == "+")
    return text


# --- why an address is suppressed (for refusals) -----------------------------------------------------


async def first_entry(project_id: int, emails: Sequence[str | None] = (), phones: Sequence[str | None] = (),
                      domains: Sequence[str | None] = ()) -> models.Suppression | None:
    """The oldest entry of the project that suppresses any of these addresses (an e-mail address also by its
    domain); None when none does."""
    found = await suppressed(project_id, emails=emails, phones=phones, domains=domains)
    if not found:
        return None
    query = models.Suppression.filter(project_id=project_id)
    keys = ([(SuppressionKind.EMAIL, v) for v in found.emails] + [(SuppressionKind.PHONE, v) for v in found.phones]
            + [(SuppressionKind.DOMAIN, v) for v in found.domains])
    rows = [row for row in await query.filter(value__in=[v for _, v in keys]) if (row.kind, row.value) in keys]
    return min(rows, key=lambda r: (r.created_at, r.id), default=None)


def describe(entry: models.Suppression) -> str:
    """``"jane@acme.com is on the project's suppression list since 2026-03-01 (unsubscribe: Clicked the link.)"``."""
    what = {SuppressionKind.EMAIL: entry.value, SuppressionKind.PHONE: entry.value,
            SuppressionKind.DOMAIN: f"Every address at {entry.value}"}[SuppressionKind(entry.kind)]
    since: datetime = entry.created_at
    why = entry.source + (f": {entry.reason}" if entry.reason else "")
    return f"{what} is on the project's suppression list since {since.date().isoformat()} ({why})"
