"""Exports: a campaign's accounts, messages and expenses as CSV files, fetched through a short-lived link.

Asking for an export (`export_campaign_accounts`, `export_messages`, `export_expenses`) checks that the viewer
may read what is asked (viewers may: reading is all an export does), records it in the audit trail and answers
a signed token (`outboundql.exports.links`) that expires after ``OUTBOUNDQL_EXPORT_LINK_SECONDS``. Fetching it
(`open_download`) checks the signature, the expiry and, again, the access of the user who asked: a member
removed since, a deleted campaign and a token that was changed all read as a link that does not exist. A
valid link may be fetched again until it expires; each fetch is audited too. The file is streamed a batch
of rows at a time (`export_rows`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import NotFound
from outboundql.exports import links
from outboundql.services import audit, runtime
from outboundql.services.access import Access
from outboundql.services.export_rows import campaign_account_table, expense_table, message_table
from outboundql.services.signing_key import signing_key


class ExportKind(enum.StrEnum):
    CAMPAIGN_ACCOUNTS = "campaign_accounts"
    MESSAGES = "messages"
    EXPENSES = "expenses"


FILE_WORDS = {ExportKind.CAMPAIGN_ACCOUNTS: "accounts", ExportKind.MESSAGES: "messages",
              ExportKind.EXPENSES: "expenses"}


@dataclass(frozen=True, slots=True)
class ExportCampaignAccounts:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class ExportMessages:
    """The project's messages, or only those of ``campaign_id`` (a campaign of that project)."""

    project_id: int
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExportExpenses:
    """The project's expenses, or only those of ``campaign_id`` (a campaign of that project)."""

    project_id: int
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExportLink:
    """The token of a download link (the path ``/exports/<token>``) and when it stops working."""

    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Download:
    """An export being fetched: its file name, column names and rows (in batches, read as they are sent)."""

    filename: str
    header: list[str]
    batches: AsyncIterator[list[list[Any]]]


class LinkRefused(Exception):
    """The link cannot be fetched; ``status`` is the HTTP status to answer (404: not valid, 410: expired)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


NOT_VALID = LinkRefused(404, "This export link is not valid. Ask for a new export.")


async def export_campaign_accounts(access: Access, cmd: ExportCampaignAccounts) -> ExportLink:
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.VIEWER, field="campaign_id")
    return await _link(access, ExportKind.CAMPAIGN_ACCOUNTS, campaign.project_id, campaign)


async def export_messages(access: Access, cmd: ExportMessages) -> ExportLink:
    project, campaign = await _scope(access, cmd.project_id, cmd.campaign_id)
    return await _link(access, ExportKind.MESSAGES, project.id, campaign or project)


async def export_expenses(access: Access, cmd: ExportExpenses) -> ExportLink:
    project, campaign = await _scope(access, cmd.project_id, cmd.campaign_id)
    return await _link(access, ExportKind.EXPENSES, project.id, campaign or project)


async def _scope(access: Access, project_id: int, campaign_id: int | None
                 ) -> tuple[models.Project, models.Campaign | None]:
    project = await access.get(models.Project, project_id, Role.VIEWER, field="project_id", project_field="id")
    if campaign_id is None:
        return project, None
    campaign = await access.get(models.Campaign, campaign_id, Role.VIEWER, field="campaign_id")
    if campaign.project_id != project.id:
        raise NotFound("Campaign", field="campaign_id")  # another project's campaign reads as a missing one
    return project, campaign


async def _link(access: Access, kind: ExportKind, project_id: int, subject: models.Campaign | models.Project
                ) -> ExportLink:
    """A signed link to the export of ``kind`` of ``subject`` (a campaign, or the whole project), audited."""
    campaign_id = subject.id if isinstance(subject, models.Campaign) else None
    expires_at = runtime.now().replace(microsecond=0) + timedelta(seconds=runtime.settings().export_link_seconds)
    claims = links.LinkClaims(kind=kind.value, project_id=project_id, campaign_id=campaign_id,
                              user_id=access.user.id, expires_at=expires_at)
    await _audit(access.user, "export.link", claims, subject)
    return ExportLink(token=links.sign(claims, signing_key()), expires_at=expires_at)


async def _audit(user: models.User, action: str, claims: links.LinkClaims,
                 row: models.Campaign | models.Project) -> None:
    """Who exported what: the campaign's (or project's) audit trail records the kind of export and the link's
    expiry."""
    await audit.record(project_id=claims.project_id, actor=user, action=action, row=row, after={
        "kind": claims.kind, "campaign_id": claims.campaign_id, "expires_at": claims.expires_at.isoformat()})


@dataclass(frozen=True, slots=True)
class _Granted:
    claims: links.LinkClaims
    kind: ExportKind
    user: models.User
    project: models.Project
    campaign: models.Campaign | None

    @property
    def filename(self) -> str:
        return filename(self.campaign.slug if self.campaign else self.project.slug, self.kind, runtime.now())


async def _granted(token: str) -> _Granted:
    """What a link grants, when it is good now: signed by this server, not expired, its user still able to read
    its project (and campaign). `LinkRefused` otherwise, the same 404 for every way of not being valid."""
    claims = links.verify(token, signing_key())
    if claims is None:
        raise NOT_VALID
    if runtime.now() >= claims.expires_at:
        raise LinkRefused(410, f"This export link expired at {claims.expires_at.isoformat()}. Ask for a new export.")
    try:
        kind = ExportKind(claims.kind)
    except ValueError:
        raise NOT_VALID from None
    user = await models.User.get_or_none(id=claims.user_id)
    if user is None:
        raise NOT_VALID
    access = await Access.for_user(user)
    try:
        project = await access.get(models.Project, claims.project_id, Role.VIEWER, project_field="id")
        campaign = None
        if claims.campaign_id is not None:
            campaign = await access.get(models.Campaign, claims.campaign_id, Role.VIEWER)
    except NotFound:
        raise NOT_VALID from None
    if (campaign is not None and campaign.project_id != project.id) or (
            kind is ExportKind.CAMPAIGN_ACCOUNTS and campaign is None):
        raise NOT_VALID
    return _Granted(claims, kind, user, project, campaign)


async def check_link(token: str) -> str:
    """The file name of the export a link names when it is good now (`LinkRefused` otherwise); nothing is read
    or recorded (an HTTP HEAD)."""
    return (await _granted(token)).filename


async def open_download(token: str) -> Download:
    """The export a link names, ready to stream, the download audited; `LinkRefused` when the link is not (or no
    longer) good."""
    granted = await _granted(token)
    project, campaign = granted.project, granted.campaign
    if campaign is not None and granted.kind is ExportKind.CAMPAIGN_ACCOUNTS:
        table = await campaign_account_table(campaign)
    elif granted.kind is ExportKind.MESSAGES:
        table = message_table(project.id, granted.claims.campaign_id)
    else:
        table = expense_table(project.id, granted.claims.campaign_id)
    await _audit(granted.user, "export.download", granted.claims, campaign or project)
    return Download(filename=granted.filename, header=table.header, batches=table.batches)


def filename(slug: str, kind: ExportKind, at: datetime) -> str:
    """``<slug>-<what>-<YYYY-MM-DD>.csv``, made of safe characters only."""
    safe = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-") or "export"
    return f"{safe}-{FILE_WORDS[kind]}-{at.date().isoformat()}.csv"
