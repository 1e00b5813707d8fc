"""Suppression: e-mail addresses, phone numbers and domains of a project that nobody is contacted at again.

Values are stored normalised as dedupe compares them (a lowercase e-mail address, an E.164 phone number, a bare
lowercase domain), so a lookup finds an address however it was written. Writing ignores entries already there
(unique per project, kind and value); reading answers, for a batch of addresses, the ones suppressed, in one
query — so planning, executing and imports check a whole batch at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from outboundql import models
from outboundql.enums import SuppressionKind
from outboundql.services import normalize, runtime, sql


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
    """Which of these addresses the project suppresses (one query per kind asked, per 2,000 values). The domain of
    each e-mail address is looked up too, so an address under a suppressed domain answers suppressed."""
    email_values = {v.strip().lower() for v in emails if v and v.strip()}
    phone_values = {v.strip() for v in phones if v and v.strip()}
    domain_values = {d.strip().lower() for d in domains if d and d.strip()}
    domain_values |= {d for e in email_values if (d := domain_of(e))}
    found: dict[SuppressionKind, set[str]] = {kind: set() for kind in SuppressionKind}
    for kind, values in ((SuppressionKind.EMAIL, email_values), (SuppressionKind.PHONE, phone_values),
                         (SuppressionKind.DOMAIN, domain_values)):
        for part in sql.chunks(sorted(values)):
            found[kind].update(await sql.column(models.Suppression.filter(
                project_id=project_id, kind=kind, value__in=list(part)).values_list("value", flat=True)))
    return Suppressed(frozenset(found[SuppressionKind.EMAIL]), frozenset(found[SuppressionKind.PHONE]),
                      frozenset(found[SuppressionKind.DOMAIN]))
