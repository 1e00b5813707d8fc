"""Importing accounts from a file, as a background job.

`start_import` checks the request and the file's shape at once (a file that is not a table, is empty, has too many
rows or no column for the account name is refused whole, with nothing written), stores the job and its file, and
enqueues `run_import`. The job reads the file again and lands its rows in batches: each batch is deduplicated with
the accounts' own rules (`accounts.DedupeIndex`: domain, normalised name + city, E.164 phone; contacts by phone then
e-mail within their account) and written in one transaction that also moves the job's counters and ``done``, so a
job stopped by a crash goes on from its last batch when it runs again (`resume_stalled`). A bad row is reported
with its line and reason and never sinks the file; rows naming a suppressed e-mail, phone or domain are skipped.
A dry run does the same reading, cleaning and lookups, and only counts.

With a campaign, the accounts the file landed in are added to it at the end through the goal's guardrails; the
outcome (added, already there, blocked per guardrail group) is kept on the job (`campaign_outcome`). The file is
deleted once the job ends (completed or failed, a dry run too): only a running job reads it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import AccountStatus, ImportOrigin, ImportStatus, Role, RoleKind, StatusSource
from outboundql.errors import Collector, Issue, OutboundqlError
from outboundql.goals.guardrails import BlockedGroup
from outboundql.goals.registry import GoalRegistry
from outboundql.imports import mapping as columns
from outboundql.imports import reading
from outboundql.metrics import IMPORT_ROWS
from outboundql.services import (
    accounts,
    audiences,
    audit,
    campaign_accounts,
    contacts,
    events,
    external_scores,
    fields,
    runtime,
    sql,
    suppressions,
)
from outboundql.services.access import Access
from outboundql.services.accounts import DedupeIndex
from outboundql.services.locks import locked_project

log = logging.getLogger(__name__)

#: Rows written per transaction (and between two progress events).
BATCH_SIZE = 1000
#: Row errors kept on a job (the counters stay exact beyond it).
MAX_ROW_ERRORS = 1000
#: A running job whose heartbeat is older than this is taken as stopped (its worker died) and run again.
STALLED_AFTER = timedelta(minutes=2)

_FILENAME = fields.text(300, label="The file name")
_TRUE = {"1", "true", "yes", "y", "x", "oui", "si", "sí", "ja", "sim", "wahr", "vrai", "verdadero"}
_TAG_SPLIT = re.compile(r"[;,|]")


# --- commands and results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartImport:
    """Import a file's rows as accounts (and their contacts) of a project, optionally adding them to a campaign.
    ``mapping`` (column header → field key, see `outboundql.imports.mapping.FIELDS`) is guessed from the headers
    when absent."""

    project_id: int
    filename: str
    content: bytes
    mapping: dict[str, str] | None = None
    campaign_id: int | None = None
    dry_run: bool = False
    origin: ImportOrigin = ImportOrigin.UPLOAD
    sender: str | None = None


@dataclass(frozen=True, slots=True)
class ImportStarted:
    """The job queued (None when the request or the file was refused: ``errors`` say why, nothing was written)
    and the column mapping it runs with (the guess when none was given)."""

    job: models.ImportJob | None
    errors: list[Issue] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CampaignOutcome:
    """What adding a job's accounts to its campaign did (through the goal's guardrails)."""

    added: int = 0
    already_present: int = 0
    blocked: list[BlockedGroup] = field(default_factory=list)
    error: str | None = None
    scored: int = 0  # accounts whose external score (from the file's score columns) was attached


# --- starting a job ---------------------------------------------------------------------------------------


async def start_import(access: Access, goals: GoalRegistry, cmd: StartImport) -> ImportStarted:
    """Check the request and the file, then store the job and its file and enqueue it. Nothing is written
    when anything is refused (errors as data on the command's fields: ``file``, ``mapping[i]``,
    ``campaign_id``)."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    settings = runtime.settings()
    check = Collector()
    filename = _clean_filename(cmd.filename)
    campaign: models.Campaign | None = None
    if cmd.campaign_id is not None:
        campaign = await campaign_accounts.visible_campaign(access, cmd.campaign_id)
        if campaign is None or campaign.project_id != cmd.project_id:
            return ImportStarted(None, [Issue("NOT_FOUND", "Campaign not found.", "campaign_id")])
        if campaign.archived_at is not None:
            check.add("campaign_id", "This campaign is archived; unarchive it before importing into it.")
        elif goals.get(campaign.goal_key) is None:
            check.add("campaign_id", f"This campaign's goal {campaign.goal_key!r} is not installed; switch the goal "
                      "first.")
    for i, (column, key) in enumerate((cmd.mapping or {}).items()):
        for part, value, label in (("column", column, "A column's name"), ("field", key, "A field key")):
            try:
                fields.storable(value, label)
            except ValueError as exc:
                check.add(f"mapping[{i}].{part}", str(exc))
    if len(cmd.content) > settings.max_upload_bytes:
        check.add("file", f"The file is larger than {settings.max_upload_bytes:,} bytes; split it.")
    if check.items:
        return ImportStarted(None, check.items)
    try:
        table = await asyncio.to_thread(reading.read_table, cmd.content)
    except reading.Refused as exc:
        return ImportStarted(None, [Issue("INVALID", exc.message, "file")])
    mapping = dict(cmd.mapping) if cmd.mapping is not None else columns.guess(table.headers)
    problems = columns.check(mapping, table.headers)
    if problems:
        return ImportStarted(None, [_mapping_issue(mapping, table.headers, key, message, guessed=cmd.mapping is None)
                                    for key, message in problems], mapping)
    if cmd.campaign_id is None:
        scores = [i for i, key in enumerate(mapping.values()) if key == columns.SCORE
                  or key.startswith(columns.SCORE_PREFIX)]
        if scores and cmd.mapping is not None:
            return ImportStarted(None, [Issue("INVALID", "Scores are kept for a campaign's product and goal: give a "
                                              "campaign, or leave this column out.", f"mapping[{i}].field")
                                        for i in scores], mapping)
        for i, header in enumerate(list(mapping)):
            if i in scores:
                mapping[header] = ""  # a guess: the column is shown, left out
    total = len(table.rows)  # a row each, problems included
    async with in_transaction():
        job = await models.ImportJob.create(
            project_id=cmd.project_id, filename=filename, column_mapping=mapping, rows=total,
            campaign_id=campaign.id if campaign else None, dry_run=cmd.dry_run, origin=cmd.origin,
            sender=cmd.sender, created_by=access.user)
        await models.ImportFile.create(import_job_id=job.id, content=cmd.content)
        await models.AuditEvent.create(
            project_id=cmd.project_id, actor=access.user, action="import.start", object_type="ImportJob",
            object_id=job.id, after={"filename": filename, "rows": total, "dry_run": cmd.dry_run,
                                     "origin": cmd.origin.value, "campaign_id": job.campaign_id})
    await _enqueue(job.id)
    await _publish(job)
    return ImportStarted(job, [], mapping)


def _clean_filename(value: str) -> str:
    """The file's own name (no folders), as a client sent it; a name that cannot be stored reads as ``import.csv``."""
    try:
        name = _FILENAME(value.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    except ValueError:
        return "import.csv"
    return name or "import.csv"


def _mapping_issue(mapping: dict[str, str], present: list[str], key: str, message: str, *, guessed: bool) -> Issue:
    """An issue of `columns.check` on the input path it concerns: the mapping pair of a column (``mapping[i]``)
    or naming a field (``mapping[i].field``); a guessed mapping's problems are the file's."""
    if guessed:
        return Issue("INVALID", f"{message} Give a mapping for this file's columns.", "file")
    headers = list(mapping)
    if key in mapping:  # a column the file lacks, or the field it names
        part = "column" if key not in present else "field"
        return Issue("INVALID", message, f"mapping[{headers.index(key)}].{part}")
    for i, header in enumerate(headers):
        if mapping[header] == key:
            return Issue("INVALID", message, f"mapping[{i}].field")
    return Issue("INVALID", message, "mapping")


async def _enqueue(job_id: int) -> None:
    """Enqueue a committed job. The job is queued whatever happens here: one whose message did not reach the
    queue (Redis down) is enqueued again by `resume_stalled`, so a failure is logged, never answered."""
    try:
        await runtime.jobs().run_import(job_id)
    except Exception:
        log.warning("Import job %s is queued, but its message was not sent; it will be sent again.", job_id,
                    exc_info=True)


# --- running a job ----------------------------------------------------------------------------------------


class _Superseded(Exception):
    """Another run took the job over (this one was thought dead): this one stops without writing."""


async def run_import(job_id: int, *, max_batches: int | None = None) -> None:
    """Run a queued job, or go on with a stopped one from its last committed batch. A job running elsewhere
    (a fresh heartbeat) or finished is left alone, so a duplicate message is harmless. ``max_batches`` stops
    after that many batches, leaving the job running (a worker's time slice; tests stop it mid-way so)."""
    job = await _claim(job_id)
    if job is None:
        return
    try:
        await _run(job, max_batches)
    except _Superseded:
        log.info("Import job %s was taken over by another run; this one stops.", job_id)
    except Exception as exc:
        log.exception("Import job %s failed.", job_id)
        async with in_transaction():
            failed = await models.ImportJob.filter(id=job.id, runs=job.runs).update(
                status=ImportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=runtime.now())
            if failed:
                await models.ImportFile.filter(import_job_id=job.id).delete()
        await _publish(await models.ImportJob.get(id=job.id))


async def _claim(job_id: int) -> models.ImportJob | None:
    now = runtime.now()
    takeable = Q(status=ImportStatus.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - STALLED_AFTER), status=ImportStatus.RUNNING)
    claimed = await models.ImportJob.filter(takeable, id=job_id).update(
        status=ImportStatus.RUNNING, runs=F("runs") + 1, heartbeat_at=now)
    if not claimed:
        return None
    job = await models.ImportJob.get(id=job_id)
    reset: dict[str, Any] = {}
    if job.started_at is None:
        reset["started_at"] = now
    if job.dry_run and job.done:
        # A dry run keeps what it would create in memory only: a stopped one counts again from the start.
        reset.update(done=0, created=0, merged=0, skipped=0, failed=0, row_errors=[])
    if reset:
        await models.ImportJob.filter(id=job_id, runs=job.runs).update(**reset)
        for name, value in reset.items():
            setattr(job, name, value)
    return job


async def _run(job: models.ImportJob, max_batches: int | None) -> None:
    file = await models.ImportFile.get(import_job_id=job.id)
    table = await asyncio.to_thread(reading.read_table, bytes(file.content))
    rows = table.rows  # parsed and cleaned a batch at a time (see `_cleaning`)
    parse = columns.row_parser(table.headers, job.column_mapping)
    await _publish(job)
    carry = _Carry()  # a dry run's would-be accounts, seen by its later batches
    landed = _Landed()  # the accounts this run's batches landed in, for the campaign
    earlier = job.done  # rows landed by an earlier run of the job
    batches = 0
    cleaning = _cleaning(parse, job.column_mapping, rows[job.done:job.done + BATCH_SIZE])
    while job.done < len(rows):
        if max_batches is not None and batches >= max_batches:
            cleaning.cancel()
            return
        size = len(rows[job.done:job.done + BATCH_SIZE])
        cleaned = await cleaning
        # The next batch is cleaned (CPU) while this one is written (the database's time), on PostgreSQL.
        cleaning = _cleaning(parse, job.column_mapping, rows[job.done + size:job.done + size + BATCH_SIZE])
        plan = await _write(job, size, carry if job.dry_run else None, cleaned)
        landed.add(plan)
        batches += 1
        await _publish(job)
        if not job.dry_run:
            changed = plan.events
            for account, created in changed:
                await events.publish_account_change(job.project_id, account, "created" if created else "merged")
            await audiences.accounts_changed(job.project_id, [account for account, _ in changed])
    if job.campaign_id is not None and not job.dry_run and job.campaign_result is None:
        await _beat(job)  # the campaign step takes a while: a resume must not think this run dead meanwhile
        await _add_to_campaign(job, parse, rows[:earlier], landed)
    async with in_transaction():
        finished = await models.ImportJob.filter(id=job.id, runs=job.runs, status=ImportStatus.RUNNING).update(
            status=ImportStatus.COMPLETED, finished_at=runtime.now(), heartbeat_at=runtime.now())
        if not finished:
            raise _Superseded
        await models.ImportFile.filter(import_job_id=job.id).delete()  # its rows are in; the file is not kept
        await models.AuditEvent.create(
            project_id=job.project_id, actor_id=job.created_by_id, action="import.complete",
            object_type="ImportJob", object_id=job.id,
            after={"rows": job.rows, "created": job.created, "merged": job.merged, "skipped": job.skipped,
                   "failed": job.failed, "dry_run": job.dry_run})
    await _publish(await models.ImportJob.get(id=job.id))


# --- one batch: cleaning, suppression, dedupe (no writes) -------------------------------------------------


def _cleaning(parse: Callable[[reading.Row], columns.ParsedRow], mapping: dict[str, str],
              batch: Sequence[reading.Row]) -> asyncio.Future[_Cleaned]:
    """The batch cleaned: in a thread on PostgreSQL, while the batch before is written by the database's own
    process. On SQLite at once: its driver runs each statement in a thread of this process, which needs the GIL
    to answer, and a cleaning thread beside it slows both by more than the overlap gains."""
    if sql.is_postgres(connections.get("default")):
        return asyncio.ensure_future(asyncio.to_thread(_clean_batch, parse, mapping, batch))
    cleaned: asyncio.Future[_Cleaned] = asyncio.get_running_loop().create_future()
    try:
        cleaned.set_result(_clean_batch(parse, mapping, batch))
    except Exception as exc:
        cleaned.set_exception(exc)
    return cleaned


@dataclass(slots=True)
class _Row:
    line: int
    account: dict[str, Any]
    contact: dict[str, Any] | None
    score: external_scores.ExternalScore | None = None
    notes: tuple[str, ...] = ()  # what of the row was left out (it landed without it)


@dataclass(slots=True)
class _ContactIndex:
    """Accounts' contacts by (account, phone) and (account, e-mail), oldest first, for the contacts' dedupe. An
    account is its id, or the id() of its `_Pending` before it is written (one index for the batch, not one per
    account: thousands of small dicts cost more to build and to keep than the lookups)."""

    by_phone: dict[tuple[int, str], Any] = field(default_factory=dict)
    by_email: dict[tuple[int, str], Any] = field(default_factory=dict)

    def add(self, account: int, contact: Any) -> None:
        if contact.phone:
            self.by_phone.setdefault((account, contact.phone), contact)
        if contact.email:
            self.by_email.setdefault((account, contact.email), contact)

    def match(self, account: int, cleaned: dict[str, Any]) -> Any:
        phone, email = cleaned.get("phone"), cleaned.get("email")
        if phone and (account, phone) in self.by_phone:
            return self.by_phone[account, phone]
        if email and (account, email) in self.by_email:
            return self.by_email[account, email]
        return None


@dataclass(slots=True)
class _Carry:
    """What a dry run would have created in its earlier batches."""

    accounts: list[Any] = field(default_factory=list)  # `_Pending` accounts
    contacts: _ContactIndex = field(default_factory=_ContactIndex)  # the new accounts' contacts


class _Pending:
    """An account or contact a batch creates, before it is written: the attributes the dedupe, the merges and the
    INSERT read and write (a model instance costs several times as much to build, for thousands of rows). The
    columns' defaults are class attributes of its subclasses (`_PendingAccount`, `_PendingContact`), so a row
    holds only its own values; they are replaced, never changed in place (`accounts.fill_empty` makes new lists)."""

    id: int | None = None
    pk: int | None = None
    account: Any = None

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values  # a cleaned row's dict, taken over: nothing reads it after


class _Stored:
    """An account or contact the project holds, as a batch reads it: the columns its dedupe and merges use
    (`accounts.DEDUPE_COLUMNS`, `_CONTACT_READ`), not a model instance."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values
        self.pk = values["id"]


@dataclass(slots=True)
class _Plan:
    """What a batch does: new rows, rows filled in, counters, row errors, and each good row's account."""

    new_accounts: list[Any] = field(default_factory=list)  # `_Pending` accounts
    filled_accounts: dict[int, tuple[models.Account, set[str]]] = field(default_factory=dict)  # and what changed
    new_contacts: list[Any] = field(default_factory=list)  # `_Pending` contacts
    filled_contacts: dict[int, models.Contact] = field(default_factory=dict)
    created: int = 0
    merged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    landed: list[tuple[int, Any]] = field(default_factory=list)  # (line, account or `_Pending`) of each good row
    scores: list[tuple[int, Any, external_scores.ExternalScore]] = field(default_factory=list)

    @property
    def events(self) -> list[tuple[int, bool]]:
        """(account id, created) once per account the batch created or merged into, after it was written."""
        new = {id(a) for a in self.new_accounts}
        seen: dict[int, bool] = {}
        for _, account in self.landed:
            if account.pk is not None:
                seen.setdefault(account.pk, id(account) in new)
        return list(seen.items())


@dataclass(slots=True)
class _Cleaned:
    """A batch's rows cleaned (no database read yet): the good ones, and the row errors of the others."""

    rows: list[_Row] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def _clean_batch(parse: Callable[[reading.Row], columns.ParsedRow], mapping: dict[str, str],
                 batch: Sequence[reading.Row]) -> _Cleaned:
    """Parse and clean a batch's rows (pure, so it may run in a thread: see `_cleaning`)."""
    cleaned = _Cleaned()
    headers = {key: header for header, key in mapping.items()}
    for parsed in map(parse, batch):
        if parsed.problem:
            cleaned.errors.append({"line": parsed.line, "reason": parsed.problem[:1].upper() + parsed.problem[1:]})
            continue
        check = Collector()
        row = _clean(parsed, check, headers)
        if check.items:
            cleaned.errors.append({"line": parsed.line,
                                   "reason": "; ".join(_reason(issue, headers) for issue in check.items)})
            continue
        cleaned.rows.append(row)
    return cleaned


async def _plan(project_id: int, cleaned: _Cleaned, carry: _Carry | None) -> _Plan:
    """What a batch does: its rows (``cleaned``) checked against the suppression list, deduplicated against the
    project, the earlier rows of the batch (and a dry run's ``carry``)."""
    plan = _Plan()
    plan.errors.extend(cleaned.errors)
    plan.failed += len(cleaned.errors)
    rows = cleaned.rows
    parts = [part for row in rows for part in (row.account, row.contact or {})]
    found = await suppressions.suppressed(project_id, emails=[p.get("email") for p in parts],
                                          phones=[p.get("phone") for p in parts],
                                          domains=[row.account.get("domain") for row in rows])
    kept: list[_Row] = []
    for row in rows:
        banned = _banned(row, found) if found else None
        if banned is not None:
            _row_error(plan, row.line, f"Skipped: {banned} is on the project's suppression list.")
            plan.skipped += 1
        else:
            kept.append(row)
    index = await DedupeIndex.load(project_id, [row.account for row in kept], plain=_Stored)
    pending_contacts = carry.contacts if carry is not None else _ContactIndex()
    if carry is not None:
        for pending in carry.accounts:
            index.add(cast(models.Account, pending))
    for row in kept:
        hit = index.match(row.account)
        account: Any
        if hit is None:
            account = _PendingAccount(row.account)
            account.project_id = project_id
            index.add(cast(models.Account, account))
            plan.new_accounts.append(account)
            plan.created += 1
        else:
            account = hit[0]
            changed = accounts.fill_empty(account, row.account)
            if changed and account.pk is not None:
                plan.filled_accounts.setdefault(account.pk, (account, set()))[1].update(changed)
            plan.merged += 1
        plan.landed.append((row.line, account))
        if row.score is not None:
            plan.scores.append((row.line, account, row.score))
        if row.notes:
            _row_error(plan, row.line, "; ".join(row.notes))
    plan.errors.sort(key=lambda e: int(e["line"]))
    await _plan_contacts(plan, kept, pending_contacts)
    if carry is not None:
        carry.accounts.extend(plan.new_accounts)
    return plan


def _row_error(plan: _Plan, line: int, reason: str) -> None:
    plan.errors.append({"line": line, "reason": reason})


def _reason(issue: Issue, headers: dict[str, str]) -> str:
    """An issue of a row's cleaning, said with the column it came from."""
    key = issue.field or ""
    header = headers.get(key) or headers.get(key.replace("custom_fields", "custom", 1))
    return f"{header}: {issue.message}" if header else issue.message


_CLEANED_BY_THE_IMPORT = frozenset({"custom_fields", "employee_count", "tags", "contract_end_date"})


def _clean(parsed: columns.ParsedRow, check: Collector, headers: dict[str, str]) -> _Row:
    """A row's account and contact, cleaned by the rules of the accounts and contacts services (issues on
    ``name``, ``phone``… and ``contact.name``…)."""
    data: dict[str, Any] = {"name": None}
    custom: dict[str, Any] = {}
    for key, raw in parsed.account.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value in (None, "", {}):
            continue
        if key not in _CLEANED_BY_THE_IMPORT and not key.startswith("custom."):
            data[key] = value  # most cells: cleaned by `accounts.clean_account`
        elif key.startswith("custom."):
            custom[key.removeprefix("custom.")] = value
        elif key == "custom_fields" and isinstance(value, dict):
            custom.update(value)
        elif key == "employee_count":
            data[key] = _integer(value, "Employee count", key, check)
        elif key == "tags":
            data[key] = [t.strip() for t in _TAG_SPLIT.split(value)] if isinstance(value, str) else value
        elif key == "contract_end_date":
            data[key] = _date(value, key, check)
        else:
            data[key] = value
    if custom:
        data["custom_fields"] = custom
    cleaned = accounts.clean_account({k: v for k, v in data.items() if v is not None or k == "name"}, check)
    cleaned = {k: v for k, v in cleaned.items() if v is not None}
    contact = _clean_contact(parsed.contact, cleaned.get("country"), check)
    row = _Row(parsed.line, cleaned, contact)
    if parsed.scores:
        notes: list[str] = []
        row.score = _score(parsed.scores, headers, notes)
        row.notes = tuple(notes)
    return row


def _score(raw: dict[str, str], headers: dict[str, str], notes: list[str]) -> external_scores.ExternalScore | None:
    """A row's external score (``""``: the overall one, else components by name); a value that is no number is
    noted and left out."""
    overall: float | None = None
    components: dict[str, float] = {}
    for name, text in raw.items():
        key = f"{columns.SCORE_PREFIX}{name}" if name else columns.SCORE
        try:
            value = external_scores.parse_value(text)
        except ValueError as exc:
            notes.append(f"{headers.get(key, key)}: {exc} The score was not attached.")
            continue
        if name:
            components[name] = value
        else:
            overall = value
    if overall is None and not components:
        return None
    return external_scores.ExternalScore(overall, components)


_CONTACT_FIELDS = frozenset(contacts.NewContact.__dataclass_fields__)


def _clean_contact(raw: dict[str, Any] | None, country: str | None, check: Collector) -> dict[str, Any] | None:
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in (raw or {}).items()}
    data = {k.removeprefix("contact."): v for k, v in data.items() if v not in (None, "")}
    if not data:
        return None
    for flag in ("is_decision_maker", "do_not_contact"):
        if flag in data:
            data[flag] = str(data[flag]).casefold() in _TRUE
    if "role_kind" in data:
        try:
            data["role_kind"] = RoleKind(str(data["role_kind"]).casefold())
        except ValueError:
            check.add("contact.role_kind", f"Role kind must be one of {', '.join(k.value for k in RoleKind)}.")
            del data["role_kind"]
    if not data.get("name"):
        # A person known only by an address: named by it, so the row still lands.
        data["name"] = data.get("email") or data.get("phone")
        if not data["name"]:
            return None
    cleaned = contacts.clean_contact({k: v for k, v in data.items() if k in _CONTACT_FIELDS}, check, prefix="contact.",
                                     country=country)
    return {k: v for k, v in cleaned.items() if v is not None}


def _integer(value: Any, label: str, key: str, check: Collector) -> int | None:
    try:
        return int(str(value).replace(",", "").replace(" ", "").replace("\u00a0", "").split(".")[0])
    except ValueError:
        check.add(key, f"{label} must be a whole number (got {str(value)[:40]!r}).")
        return None


def _date(value: Any, key: str, check: Collector) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        check.add(key, f"Contract end date must be a date like 2027-03-31 (got {str(value)[:40]!r}).")
        return None


def _banned(row: _Row, found: suppressions.Suppressed) -> str | None:
    """The row's first suppressed address (an e-mail under a suppressed domain too), or None."""
    for part in (row.account, row.contact or {}):
        if found.email(part.get("email")):
            return str(part["email"])
        if found.phone(part.get("phone")):
            return str(part["phone"])
    domain = row.account.get("domain")
    return str(domain) if domain and domain in found.domains else None


async def _plan_contacts(plan: _Plan, rows: Sequence[_Row], pending: _ContactIndex) -> None:
    """Contacts of the batch: into their account's duplicate (same phone, then e-mail) or new. The contacts of
    the existing accounts concerned are read in one query."""
    wanted = {account.pk for (_, account), row in zip(plan.landed, rows, strict=True)
              if row.contact and account.pk is not None}
    existing = _ContactIndex()
    found = await sql.select_values(connections.get("default"), models.Contact, _CONTACT_READ, "account_id",
                                    sorted(wanted))
    for values in sorted(found, key=operator.itemgetter("id")):
        existing.add(values["account_id"], _Stored(values))
    for (_, account), row in zip(plan.landed, rows, strict=True):
        if not row.contact:
            continue
        index, key = (existing, account.pk) if account.pk is not None else (pending, id(account))
        duplicate: Any = index.match(key, row.contact)
        if duplicate is None:
            contact = _PendingContact(row.contact)
            contact.project_id = account.project_id
            contact.account = account  # its id is known once the account is written
            index.add(key, contact)
            plan.new_contacts.append(contact)
            continue
        changed = False
        for name in contacts._FILLABLE:
            if row.contact.get(name) not in (None, "") and getattr(duplicate, name) in (None, ""):
                setattr(duplicate, name, row.contact[name])
                changed = True
        if row.contact.get("do_not_contact") and not duplicate.do_not_contact:
            duplicate.do_not_contact = True  # a protection flag is never dropped by a merge
            changed = True
        if changed:
            index.add(key, duplicate)
            if duplicate.pk is not None:
                plan.filled_contacts[duplicate.pk] = duplicate


# --- one batch: writing -----------------------------------------------------------------------------------

_ACCOUNT_COLUMNS = ("project_id", "name", "name_key", "domain", "website", "industry", "employee_count", "country",
                    "city", "city_key", "language", "time_zone", "description", "phone", "email", "tags",
                    "custom_fields", "contract_end_date", "source", "status", "created_by_id", "created_at",
                    "updated_at")
_CONTACT_COLUMNS = ("project_id", "account_id", "name", "title", "email", "phone", "linkedin_url", "seniority",
                    "department", "is_decision_maker", "role_kind", "language", "time_zone", "do_not_contact",
                    "created_at", "updated_at")
_HISTORY_COLUMNS = ("account_id", "from_status", "to_status", "source", "changed_by_id", "note", "created_at")
_ROWS_PER_INSERT = 1000  # 23 columns: 23,000 parameters, under SQLite's and PostgreSQL's limits
_ACCOUNT_DEFAULTS: dict[str, Any] = {**dict.fromkeys(_ACCOUNT_COLUMNS), "name_key": "", "city_key": "",
                                     "description": "", "tags": [], "custom_fields": {}, "status": AccountStatus.NEW}
_CONTACT_DEFAULTS: dict[str, Any] = {**dict.fromkeys(_CONTACT_COLUMNS), "is_decision_maker": False,
                                     "role_kind": RoleKind.BUYER, "do_not_contact": False}
_PendingAccount = type("_PendingAccount", (_Pending,), _ACCOUNT_DEFAULTS)
_PendingContact = type("_PendingContact", (_Pending,), _CONTACT_DEFAULTS)
#: The columns of a stored contact its dedupe and merges read.
_CONTACT_READ = tuple(dict.fromkeys(("id", "account_id", "phone", "email", "do_not_contact", *contacts._FILLABLE)))


async def _write(job: models.ImportJob, size: int, carry: _Carry | None, cleaned: _Cleaned) -> _Plan:
    """Plan the batch and write its rows and the job's progress, in one transaction: a run that lost the job to
    another (it was thought dead) writes nothing. The project is locked first and the batch deduplicated inside
    the transaction, so two jobs of one project queue, and the second merges into the rows of the first."""
    now = runtime.now()
    async with in_transaction() as conn:
        if not job.dry_run:
            await locked_project(job.project_id)
        plan = await _plan(job.project_id, cleaned, carry)
        errors = (job.row_errors + plan.errors)[:MAX_ROW_ERRORS]
        progress = {"done": job.done + size, "created": job.created + plan.created,
                    "merged": job.merged + plan.merged, "skipped": job.skipped + plan.skipped,
                    "failed": job.failed + plan.failed}
        moved = await models.ImportJob.filter(
            id=job.id, runs=job.runs, done=job.done, status=ImportStatus.RUNNING,
        ).update(**progress, row_errors=errors, heartbeat_at=now)
        if not moved:
            raise _Superseded
        if not job.dry_run:
            await _write_rows(conn, job, plan, now)
    for name, value in progress.items():
        setattr(job, name, value)
    job.row_errors, job.heartbeat_at = errors, now
    IMPORT_ROWS.inc(size)
    log.info("import batch done", extra={"import_job_id": job.id, "rows": size, "done": job.done,  # `created` is
                                         "accounts_created": plan.created, "accounts_merged": plan.merged,  # taken
                                         "rows_failed": plan.failed})  # by logging.LogRecord
    return plan


async def _beat(job: models.ImportJob) -> None:
    """Move the job's heartbeat (a run that lost the job to another stops)."""
    now = runtime.now()
    if not await models.ImportJob.filter(id=job.id, runs=job.runs, status=ImportStatus.RUNNING).update(
            heartbeat_at=now):
        raise _Superseded
    job.heartbeat_at = now


async def _write_rows(conn: Any, job: models.ImportJob, plan: _Plan, now: datetime) -> None:
    for account in plan.new_accounts:
        account.created_by_id = job.created_by_id
        account.created_at = account.updated_at = now
    ids = await _insert(conn, models.Account, _ACCOUNT_COLUMNS, plan.new_accounts, returning_ids=True)
    for account, pk in zip(plan.new_accounts, ids, strict=True):
        account.id = account.pk = pk
    history = (None, AccountStatus.NEW, StatusSource.IMPORT, job.created_by_id, f"imported from {job.filename}"[:2000],
               now)
    await sql.insert_tuples(conn, models.AccountStatusChange, _HISTORY_COLUMNS, [(pk, *history) for pk in ids])
    await sql.update_by_id(conn, models.Account, {
        pk: {name: getattr(account, name) for name in changed | ({"city_key"} if "city" in changed else set())}
        for pk, (account, changed) in plan.filled_accounts.items()}, updated_at=now)
    for contact in plan.new_contacts:
        contact.account_id = contact.account.pk
        contact.created_at = contact.updated_at = now
    await _insert(conn, models.Contact, _CONTACT_COLUMNS, plan.new_contacts)
    await sql.update_by_id(conn, models.Contact, {
        pk: {name: getattr(contact, name) for name in (*contacts._FILLABLE, "do_not_contact")}
        for pk, contact in plan.filled_contacts.items()}, updated_at=now)
    created = [account.pk for account in plan.new_accounts]
    merged = sorted({account.pk for _, account in plan.landed} - set(created))
    if created or merged:
        await sql.insert_rows(conn, models.AuditEvent, [{
            "project_id": job.project_id, "actor_id": job.created_by_id, "action": "account.import",
            "object_type": "ImportJob", "object_id": job.id, "before": None,
            "after": {"created": created, "merged": merged, "lines": [plan.landed[0][0], plan.landed[-1][0]]},
            "created_at": now, **audit.origin_columns()}])


async def _insert(conn: Any, model: Any, columns: tuple[str, ...], pending: list[Any], *,
                  returning_ids: bool = False) -> list[int]:
    """INSERT the `_Pending` rows, leaving out the columns that are null in every one of them (stored as null all
    the same)."""
    if not pending:
        return []
    values = list(zip(*map(operator.attrgetter(*columns), pending), strict=True))  # column by column
    kept = [k for k, column in enumerate(values) if column.count(None) < len(column)]
    rows = list(zip(*(values[k] for k in kept), strict=True))
    return await sql.insert_tuples(conn, model, [columns[k] for k in kept], rows, per_statement=_ROWS_PER_INSERT,
                                   returning_ids=returning_ids)


# --- the campaign -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Landed:
    """The accounts a run's batches landed in (file order, once each) and the rows' scores by account."""

    ids: list[int] = field(default_factory=list)
    scored: dict[int, tuple[int, external_scores.ExternalScore]] = field(default_factory=dict)

    def add(self, plan: _Plan) -> None:
        self.ids.extend(account.pk for _, account in plan.landed if account.pk is not None)
        for line, account, score in plan.scores:
            if account.pk is not None:
                self.scored.setdefault(account.pk, (line, score))  # a duplicate row merges into the first


async def _add_to_campaign(job: models.ImportJob, parse: Callable[[reading.Row], columns.ParsedRow],
                           earlier: Sequence[reading.Row], landed: _Landed) -> None:
    """Add the accounts the file's good rows landed in to the job's campaign, through its goal's guardrails, and
    attach the rows' external scores for its product and goal; the outcome and the rows' notes are stored once,
    with ``campaign_result`` (a run that finds it stored skips the step). The accounts are those this run landed
    in; the ``earlier`` rows (landed by a run before a crash) are found again with the import's own lookups."""
    before = _Landed()
    for start in range(0, len(earlier), BATCH_SIZE):
        batch = earlier[start:start + BATCH_SIZE]
        before.add(await _plan(job.project_id, await _cleaning(parse, job.column_mapping, batch), None))
    ids = list(dict.fromkeys([*before.ids, *landed.ids]))
    scored = {**landed.scored, **before.scored}  # an earlier row's score first, as a duplicate row merges into it
    outcome = CampaignOutcome()
    notes: list[dict[str, Any]] = []
    user = await models.User.get_or_none(id=job.created_by_id) if job.created_by_id else None
    campaign = await models.Campaign.get_or_none(id=job.campaign_id) if job.campaign_id else None
    if campaign is None or user is None:
        outcome = CampaignOutcome(error="The campaign, or the person who started the import, is gone; the accounts "
                                  "were imported but not added.")
    else:
        try:
            added = await campaign_accounts.add_accounts(
                await Access.for_user(user), runtime.goals(),
                campaign_accounts.AddAccountsToCampaign(campaign_id=campaign.id, account_ids=ids))
            outcome = CampaignOutcome(added=added.added, already_present=added.already_present, blocked=added.blocked)
        except OutboundqlError as exc:
            outcome = CampaignOutcome(error=exc.message)
        attached, notes = await _attach_scores(campaign, scored)
        outcome = dataclasses.replace(outcome, scored=attached)
    new = [note for note in notes if note not in job.row_errors]
    row_errors = sorted(job.row_errors + new, key=lambda e: int(e["line"]))[:MAX_ROW_ERRORS]
    result = _outcome_json(outcome)
    if not await models.ImportJob.filter(id=job.id, runs=job.runs, campaign_result__isnull=True).update(
            row_errors=row_errors, campaign_result=result):
        raise _Superseded
    job.row_errors, job.campaign_result = row_errors, result


async def _attach_scores(campaign: models.Campaign, scored: dict[int, tuple[int, external_scores.ExternalScore]]
                         ) -> tuple[int, list[dict[str, Any]]]:
    """Attach the rows' scores (the scale inferred from the whole file); a score out of the scale is left out
    with a row error. How many were attached, and the row errors."""
    scores = {pk: score for pk, (_, score) in scored.items()}
    notes: list[dict[str, Any]] = []
    attached: external_scores.AttachedScores | None = None
    for _ in range(2):  # once more without the scores that were refused
        if not scores:
            break
        try:
            attached = await external_scores.attach(campaign, scores)
            break
        except external_scores.InvalidScores as exc:
            for pk, messages in exc.problems.items():
                notes.append({"line": scored[pk][0], "reason": "The score was not attached: " + " ".join(messages)})
                scores.pop(pk, None)
    if attached is None:
        return 0, notes
    await external_scores.publish(attached)
    return len(attached.scores), notes


def _outcome_json(outcome: CampaignOutcome) -> dict[str, Any]:
    return {"added": outcome.added, "already_present": outcome.already_present, "error": outcome.error,
            "scored": outcome.scored,
            "blocked": [{"reason": g.reason, "status": g.status, "account_ids": list(g.account_ids),
                         "message": g.message, "override_flag": g.override_flag} for g in outcome.blocked]}


def campaign_outcome(job: models.ImportJob) -> CampaignOutcome | None:
    """What adding the job's accounts to its campaign did; None before that step (or without a campaign)."""
    data = job.campaign_result
    if data is None:
        return None
    return CampaignOutcome(
        added=data["added"], already_present=data["already_present"], error=data.get("error"),
        scored=data.get("scored", 0),
        blocked=[BlockedGroup(reason=g["reason"], status=g["status"], account_ids=tuple(g["account_ids"]),
                              message=g["message"], override_flag=g["override_flag"])
                 for g in data["blocked"]])


def row_errors(job: models.ImportJob) -> list[tuple[int, str]]:
    """The job's row errors (line, reason), in the file's order (at most `MAX_ROW_ERRORS`)."""
    return [(int(e["line"]), str(e["reason"])) for e in job.row_errors if "line" in e]


# --- reading, progress, resuming --------------------------------------------------------------------------


def project_import_jobs(access: Access, project_id: int, campaign_id: int | None = None) -> Any:
    """A project's import jobs, newest first (of one campaign when given)."""
    access.require(project_id)
    query = models.ImportJob.filter(project_id=project_id)
    if campaign_id is not None:
        query = query.filter(campaign_id=campaign_id)
    return query.order_by("-created_at", "-id")


async def _publish(job: models.ImportJob) -> None:
    await events.publish_import_progress(job.id, job.status.value, job.done, job.rows)


async def resume_stalled(*, stalled_for: timedelta = STALLED_AFTER, now: datetime | None = None) -> list[int]:
    """Send again the jobs whose worker stopped: running ones with no heartbeat for ``stalled_for`` and queued
    ones waiting that long (their message was lost). Sending twice is harmless: a run claims the job first.
    Returns the ids sent."""
    now = now or runtime.now()
    limit = now - stalled_for
    quiet = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lte=limit)
    stalled = await models.ImportJob.filter(
        Q(quiet, status=ImportStatus.RUNNING) | Q(quiet, status=ImportStatus.QUEUED, created_at__lte=limit),
    ).order_by("id").values_list("id", "status")
    sent: list[int] = []
    for job_id, status in stalled:
        await runtime.jobs().run_import(int(job_id))  # JobsUnavailable: the next tick tries again
        if status == ImportStatus.QUEUED:  # a queued job's heartbeat: when it was last sent
            await models.ImportJob.filter(id=job_id, status=ImportStatus.QUEUED).update(heartbeat_at=now)
        sent.append(int(job_id))
    return sent
