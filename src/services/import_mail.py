"""Import by e-mail: a campaign's import address and its authorised sender, and mails to that address turned into
import jobs of the campaign.

A campaign's address is ``import+<token>@<mail_in_domain>``: the token is random (128 bits), unique, and changes
only when asked (or when the address is turned off and on again). A mail to it from the authorised sender (its
From address, compared without case) with a CSV attachment starts an import of that file into the campaign with
the campaign's saved column mapping (guessed per file when none is saved), as the member who set the address up.
The From header is taken as it comes: the receiver sits behind the organisation's mail server, which authenticates
it (SPF, DKIM, DMARC) before relaying the mail.
Anything else is refused, and the refusal is kept as a failed import job of the campaign (origin EMAIL, the
sender, the file name, why), so it shows in the campaign's import history. A mail to an address that belongs to
no campaign is refused without any record: the answer never tells which addresses exist.
"""

from __future__ import annotations

import enum
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import ImportOrigin, ImportStatus, Role
from outboundql.errors import Collector, OutboundqlError
from outboundql.goals.registry import GoalRegistry
from outboundql.imports import mapping as columns
from outboundql.imports import reading
from outboundql.services import audit, events, fields, imports, normalize, runtime
from outboundql.services.access import Access

log = logging.getLogger(__name__)

ADDRESS_PREFIX = "import+"
CONFIGURE_ACTION = "campaign.configure_import"
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"})
CSV_SUFFIXES = (".csv", ".txt")
_TOKEN_BYTES = 16
#: Refused mails recorded per campaign and hour (more are refused all the same, without a job).
MAX_REFUSALS_PER_HOUR = 100


# --- configuring a campaign's address ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigureCampaignImport:
    """Turn a campaign's import address on (with its authorised sender) or off. ``mapping`` (column header →
    field key) replaces the saved one when given (empty: guess from each file's headers); ``new_address``
    replaces the address by a new one (the old one stops working)."""

    campaign_id: int
    enabled: bool = True
    sender: str | None = None
    mapping: dict[str, str] | None = None
    new_address: bool = False


@dataclass(frozen=True, slots=True)
class CampaignImportConfigured:
    campaign: models.Campaign


def import_address(campaign: models.Campaign) -> str | None:
    """The campaign's import address, None while importing by e-mail is off."""
    if not campaign.import_token:
        return None
    return f"{ADDRESS_PREFIX}{campaign.import_token}@{runtime.settings().mail_in_domain}"


async def configure_campaign_import(access: Access, cmd: ConfigureCampaignImport) -> CampaignImportConfigured:
    """Set (or turn off) the campaign's import address, sender and saved mapping. Turning it off forgets the
    address (a later one is new); the sender and mapping are kept for next time."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    check = Collector()
    sender = campaign.import_sender
    if cmd.sender is not None or cmd.enabled:
        try:
            sender = normalize.normalize_email(cmd.sender)
        except ValueError as exc:
            check.add("sender", str(exc))
        else:
            if sender is None and cmd.enabled:
                check.add("sender", "Give the one address whose mails are imported.")
    if cmd.mapping is not None:
        _check_mapping(cmd.mapping, check)
    if cmd.enabled and campaign.archived_at is not None:
        check.add("campaign_id", "This campaign is archived; unarchive it before importing into it.")
    check.raise_if_any()
    async with in_transaction():
        campaign = await models.Campaign.filter(id=campaign.id).select_for_update().get()
        saved = ["import_sender", "import_mapping"]
        before = {**audit.snapshot(campaign, saved), "enabled": campaign.import_token is not None}
        if not cmd.enabled:
            campaign.import_token = None
        elif campaign.import_token is None or cmd.new_address:
            campaign.import_token = await _new_token()
        campaign.import_sender = sender
        if cmd.mapping is not None:
            campaign.import_mapping = dict(cmd.mapping)
        await campaign.save(update_fields=["import_token", *saved, "updated_at"])
        after = {**audit.snapshot(campaign, saved), "enabled": campaign.import_token is not None}
        old, new = audit.changed(before, after)
        if new or cmd.new_address:
            await audit.record(project_id=campaign.project_id, actor=access.user, action=CONFIGURE_ACTION,
                               row=campaign, before=old, after={**new, "new_address": cmd.new_address})
    await events.publish_campaign_event(campaign.id, "campaign_updated")
    return CampaignImportConfigured(campaign)


def _check_mapping(mapping: dict[str, str], check: Collector) -> None:
    headers = list(mapping)
    for position, (header, field) in enumerate(mapping.items()):
        for part, value in (("column", header), ("field", field)):
            try:
                fields.storable(value, label=f"The {part}")
            except ValueError as exc:
                check.add(f"mapping[{position}].{part}", str(exc))
        if not header.strip() or len(header) > reading.MAX_HEADER_CHARS:
            check.add(f"mapping[{position}].column",
                      f"A column is named by 1 to {reading.MAX_HEADER_CHARS} characters.")
    if check.items:
        return
    for header, message in columns.check(mapping, headers):
        if header in mapping:
            check.add(f"mapping[{headers.index(header)}].field", message)
        elif mapping:  # no column feeds the name ("" or {} means: guess from each file)
            check.add("mapping", message)


async def _new_token() -> str:
    while True:
        token = secrets.token_hex(_TOKEN_BYTES)  # lowercase: mail systems may lowercase an address
        if not await models.Campaign.filter(import_token=token).exists():
            return token


# --- receiving mail ---------------------------------------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why a mail to an import address was not imported."""

    SENDER = "sender"  # not from the campaign's authorised sender
    NO_FILE = "no_file"  # no CSV attachment
    TOO_LARGE = "too_large"  # the CSV attachment is over the upload limit
    FILE = "file"  # the file or the import was refused (not CSV, empty, too many rows, no name column…)
    NOT_ALLOWED = "not_allowed"  # the member who set the address up can no longer import into the project
    UNKNOWN_ADDRESS = "unknown_address"  # the address belongs to no campaign (nothing is recorded)


@dataclass(frozen=True, slots=True)
class MailReceived:
    """A mail for ``recipient`` (one of its envelope recipients), as received (``content``: the whole message)."""

    recipient: str
    content: bytes
    envelope_sender: str | None = None


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """The job the mail made (queued, or FAILED with its ``error`` when refused); ``refusal`` says why it was
    refused, None when the import started. ``job`` is None when the address belongs to no campaign, or when the
    campaign had too many refusals in the last hour to record one more."""

    job: models.ImportJob | None
    refusal: Refusal | None = None
    message: str = ""


async def campaign_for_address(address: str) -> models.Campaign | None:
    """The campaign whose import address ``address`` is (case ignored), None for any other address."""
    token = _token_of(address)
    if token is None:
        return None
    return await models.Campaign.filter(import_token=token).first()


def _token_of(address: str) -> str | None:
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.casefold() != runtime.settings().mail_in_domain.casefold():
        return None
    local = local.casefold()
    if not local.startswith(ADDRESS_PREFIX):
        return None
    token = local.removeprefix(ADDRESS_PREFIX)
    return token if len(token) == 2 * _TOKEN_BYTES and all(c in "0123456789abcdef" for c in token) else None


async def receive_mail(goals: GoalRegistry, mail: MailReceived) -> MailOutcome:
    """Import the CSV attachment of ``mail`` into the campaign of its recipient address, or refuse it (kept as a
    failed job of the campaign)."""
    campaign = await campaign_for_address(mail.recipient)
    if campaign is None:
        return MailOutcome(None, Refusal.UNKNOWN_ADDRESS, "No such address.")
    message = BytesParser(policy=policy.default).parsebytes(mail.content)
    sender = plain(from_address(message) or mail.envelope_sender or "")[:254]
    actor = await _actor(campaign)
    refused = _refusal_of_sender(campaign, sender)
    if refused is not None:
        return await _refuse(campaign, actor, sender, "", *refused)
    file = _csv_attachment(message)
    if isinstance(file, tuple):
        return await _refuse(campaign, actor, sender, *file)
    filename, content = file.filename, file.content
    access = await Access.for_user(actor) if actor is not None else None
    if access is None or access.roles.get(campaign.project_id) not in (Role.MEMBER, Role.ADMIN, Role.OWNER):
        return await _refuse(campaign, actor, sender, filename, Refusal.NOT_ALLOWED,
                             "The member who set up this import address can no longer import into the project; "
                             "set the address up again.")
    try:
        started = await imports.start_import(access, goals, imports.StartImport(
            project_id=campaign.project_id, filename=filename, content=content,
            mapping=dict(campaign.import_mapping) or None, campaign_id=campaign.id,
            origin=ImportOrigin.EMAIL, sender=sender))
    except OutboundqlError as exc:
        return await _refuse(campaign, actor, sender, filename, Refusal.FILE, str(exc))
    if started.job is None:
        reason = " ".join(issue.message for issue in started.errors) or "The file was refused."
        return await _refuse(campaign, actor, sender, filename, Refusal.FILE, reason)
    log.info("Import job %s started from a mail by %s to campaign %s.", started.job.id, sender, campaign.id)
    return MailOutcome(started.job)


def from_address(message: EmailMessage) -> str | None:
    try:
        header = message["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses and isinstance(addresses[0], Address) and addresses[0].addr_spec:
            return str(addresses[0].addr_spec)
    except (TypeError, ValueError, IndexError):  # a malformed header: read it the lenient way
        pass
    parsed = [addr for _, addr in getaddresses([str(message.get("From", ""))]) if addr]
    return parsed[0] if parsed else None


def _refusal_of_sender(campaign: models.Campaign, sender: str) -> tuple[Refusal, str] | None:
    if campaign.import_sender and sender.casefold() == campaign.import_sender.casefold():
        return None
    shown = sender or "an unknown sender"
    return Refusal.SENDER, f"The mail came from {shown}, not from the address allowed to import into this campaign."


def plain(text: str) -> str:
    """``text`` from a mail's headers without control characters and lone surrogates (which no database
    stores), on one line."""
    return "".join(char for char in " ".join(text.split()) if char.isprintable())


@dataclass(frozen=True, slots=True)
class _File:
    filename: str
    content: bytes


def _csv_attachment(message: EmailMessage) -> _File | tuple[str, Refusal, str]:
    """The largest CSV attachment within the upload limit, or (file name, refusal, why)."""
    limit = runtime.settings().max_upload_bytes
    found: list[_File] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        if part.get_content_type() not in CSV_TYPES and not filename.casefold().endswith(CSV_SUFFIXES):
            continue
        if not filename and part.get_content_disposition() != "attachment":
            continue  # a body, not an attached file
        payload = part.get_payload(decode=True)
        found.append(_File(plain(filename)[:300] or "attachment.csv", payload if isinstance(payload, bytes) else b""))
    if not found:
        return "", Refusal.NO_FILE, "The mail has no CSV attachment (a .csv or .txt file, or one of type text/csv)."
    fitting = [file for file in found if len(file.content) <= limit]
    if not fitting:
        largest = max(found, key=lambda file: len(file.content))
        return largest.filename, Refusal.TOO_LARGE, f"The attachment is larger than {limit:,} bytes; split it."
    return max(fitting, key=lambda file: len(file.content))


async def _actor(campaign: models.Campaign) -> models.User | None:
    """The member who last set the address up (from the audit trail), else the campaign's creator."""
    event = await models.AuditEvent.filter(
        project_id=campaign.project_id, object_type="Campaign", object_id=campaign.id, action=CONFIGURE_ACTION,
        actor_id__isnull=False,
    ).order_by("-id").first()
    user_id = event.actor_id if event is not None else campaign.created_by_id
    return await models.User.get_or_none(id=user_id) if user_id is not None else None


async def _refuse(campaign: models.Campaign, actor: models.User | None, sender: str, filename: str,
                  refusal: Refusal, reason: str) -> MailOutcome:
    """Keep the refusal as a failed import job of the campaign (at most `MAX_REFUSALS_PER_HOUR` a campaign: past
    that, a flood of refused mails is refused without a trace, so it cannot bury the campaign's import history)."""
    now = runtime.now()
    recent = await models.ImportJob.filter(
        campaign_id=campaign.id, origin=ImportOrigin.EMAIL, status=ImportStatus.FAILED,
        created_at__gte=now - timedelta(hours=1),
    ).count()
    if recent >= MAX_REFUSALS_PER_HOUR:
        log.warning("Mail by %s to campaign %s refused (%s) and not recorded: %s refusals in the last hour.",
                    sender, campaign.id, refusal.value, recent)
        return MailOutcome(None, refusal, reason)
    job = await models.ImportJob.create(
        project_id=campaign.project_id, campaign_id=campaign.id, filename=filename, status=ImportStatus.FAILED,
        origin=ImportOrigin.EMAIL, sender=sender or None, error=reason, created_by=actor,
        column_mapping=dict(campaign.import_mapping), started_at=now, finished_at=now,
    )
    log.info("Mail by %s to campaign %s refused (%s): %s", sender, campaign.id, refusal.value, reason)
    return MailOutcome(job, refusal, reason)
