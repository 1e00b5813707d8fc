"""The rows of each export, read a batch at a time: keyset pagination by id (``id > last`` in id order), so
a file of any size costs a few statements per batch and never holds more than one batch in memory.

Columns are named as the API names the same values (``reviewStatus``, ``account.domain``, ``cf.<key>`` for
a custom field); values are left typed (enums, instants, decimals, global ids) for the CSV writer
(`outboundql.exports.cells`) to write as the API shows them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.connection import connections
from tortoise.expressions import Q

from outboundql import models
from outboundql.cadence.settings import Cadence
from outboundql.enums import SignalStatus
from outboundql.exports.cells import GlobalId
from outboundql.services import signals
from outboundql.services.api_usage import usage_by_account
from outboundql.services.campaign_account_queries import band_of
from outboundql.services.execution_queries import max_attempts, shown_status
from outboundql.services.expenses import UsageSummary
from outboundql.services.sql import is_postgres

BATCH = 500
"""Rows read per statement."""


@dataclass(frozen=True, slots=True)
class Table:
    """An export's column names and its rows, one list of values per row, in batches."""

    header: list[str]
    batches: AsyncIterator[list[list[Any]]]


# --- a campaign's accounts ------------------------------------------------------------------------

ACCOUNT_COLUMNS = (
    ("name", "name"), ("domain", "domain"), ("website", "website"), ("industry", "industry"),
    ("employeeCount", "employee_count"), ("country", "country"), ("city", "city"), ("language", "language"),
    ("timeZone", "time_zone"), ("phone", "phone"), ("email", "email"), ("status", "status"),
    ("source", "source"), ("externalId", "external_id"), ("tags", "tags"), ("contractEndDate", "contract_end_date"),
    ("description", "description"),
)
CONTACT_COLUMNS = ("id", "name", "title", "email", "phone")


async def campaign_account_table(campaign: models.Campaign, batch: int = BATCH) -> Table:
    """One row per account of ``campaign``: the account (with what its paid API usage cost, in USD), its contact
    (the row's chosen contact, else the account's first decision maker, else its first contact), scores, review,
    outreach, execution, goal outcome, tags, and one ``cf.<key>`` column per custom field any of its accounts has
    (keys sorted)."""
    keys = await custom_field_keys(campaign.id)
    header = [
        "id", "account.id", *(f"account.{name}" for name, _ in ACCOUNT_COLUMNS), "account.apiUsage.costUsd",
        *(f"contact.{name}" for name in CONTACT_COLUMNS),
        "effectiveScore", "band", "aiScore.score", "aiScore.stale", "aiScore.scorer", "overrideScore",
        "reviewStatus", "outreachStatus", "execution.status", "execution.attemptsMade", "execution.maxAttempts",
        "goalOutcome", "tags", "notes", *(f"cf.{key}" for key in keys), "createdAt", "updatedAt",
    ]
    return Table(header, _campaign_account_batches(campaign, keys, batch))


async def custom_field_keys(campaign_id: int) -> list[str]:
    """Every custom field key of the campaign's accounts, sorted: one statement."""
    conn = connections.get("default")
    if is_postgres(conn):
        sql = ("SELECT DISTINCT k.key FROM campaign_account ca JOIN account a ON a.id = ca.account_id "
               "CROSS JOIN LATERAL jsonb_object_keys(a.custom_fields::jsonb) AS k(key) "
               "WHERE ca.campaign_id = $1 ORDER BY 1")
    else:
        sql = ("SELECT DISTINCT j.key FROM campaign_account ca JOIN account a ON a.id = ca.account_id, "
               "json_each(a.custom_fields) j WHERE ca.campaign_id = ? ORDER BY 1")
    _, rows = await conn.execute_query(sql, [campaign_id])
    return [str(row[0]) for row in rows]


async def _campaign_account_batches(campaign: models.Campaign, keys: list[str], batch: int
                                    ) -> AsyncIterator[list[list[Any]]]:
    allowed = max_attempts(Cadence.from_stored(campaign.cadence))
    last = 0
    while True:
        rows = await (models.CampaignAccount.filter(campaign_id=campaign.id, id__gt=last).order_by("id")
                      .limit(batch).select_related("account"))
        if not rows:
            return
        last = rows[-1].id
        account_ids = list({row.account_id for row in rows})
        contacts = await _contacts(rows, account_ids)
        tags = await _tags([row.id for row in rows])
        scores = await _scores(campaign.product_id, account_ids)
        usage = await usage_by_account(account_ids)
        yield [_campaign_account_row(campaign, row, keys, allowed, contacts, tags, scores, usage) for row in rows]
        if len(rows) < batch:
            return


async def _contacts(rows: list[models.CampaignAccount], account_ids: list[int]) -> dict[str, Any]:
    chosen = [row.contact_id for row in rows if row.contact_id is not None]
    condition = Q(account_id__in=account_ids)
    if chosen:
        condition |= Q(id__in=chosen)
    by_id: dict[int, models.Contact] = {}
    by_account: dict[int, list[models.Contact]] = defaultdict(list)
    for contact in await models.Contact.filter(condition).order_by("id"):
        by_id[contact.id] = contact
        by_account[contact.account_id].append(contact)
    return {"by_id": by_id, "by_account": by_account}


async def _tags(campaign_account_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    rows = await (models.CampaignAccountTag.filter(campaign_account_id__in=campaign_account_ids).order_by("id")
                  .values_list("campaign_account_id", "tag"))
    for campaign_account_id, tag in rows:
        tags[campaign_account_id].append(tag)
    return tags


async def _scores(product_id: int, account_ids: list[int]) -> dict[int, list[models.FitScore]]:
    """Every fit score of the product for each account, newest first (as ``CampaignAccount.aiScore`` reads them)."""
    scores: dict[int, list[models.FitScore]] = defaultdict(list)
    for score in await models.FitScore.filter(product_id=product_id, account_id__in=account_ids
                                              ).order_by("-updated_at", "-id"):
        scores[score.account_id].append(score)
    return scores


def _contact_of(row: models.CampaignAccount, contacts: dict[str, Any]) -> models.Contact | None:
    if row.contact_id is not None and row.contact_id in contacts["by_id"]:
        return contacts["by_id"][row.contact_id]  # type: ignore[no-any-return]
    people: list[models.Contact] = contacts["by_account"].get(row.account_id, [])
    return next((c for c in people if c.is_decision_maker), people[0] if people else None)


def _campaign_account_row(campaign: models.Campaign, row: models.CampaignAccount, keys: list[str], allowed: int,
                          contacts: dict[str, Any], tags: dict[int, list[str]],
                          scores: dict[int, list[models.FitScore]], usage: dict[int, UsageSummary]) -> list[Any]:
    account = row.account
    contact = _contact_of(row, contacts)
    found = scores.get(row.account_id, [])
    current = next((s for s in found if s.goal_key == campaign.goal_key), None)
    ai = current or (found[0] if found else None)
    override = None if row.override_score is None else float(row.override_score)
    effective = override if override is not None else (float(current.score) if current else None)
    custom = account.custom_fields or {}
    return [
        GlobalId("CampaignAccount", row.id), GlobalId("Account", account.id),
        *(getattr(account, attribute) for _, attribute in ACCOUNT_COLUMNS),
        usage[account.id].cost_usd if account.id in usage else Decimal(0),
        *((GlobalId("Contact", contact.id), contact.name, contact.title, contact.email, contact.phone)
          if contact else (None,) * len(CONTACT_COLUMNS)),
        effective, band_of(effective), None if ai is None else float(ai.score),
        None if ai is None else ai is not current, None if ai is None else ai.scorer, override,
        row.review_status, row.outreach_status, shown_status(row, campaign), row.attempts_made, allowed,
        row.goal_outcome, tags.get(row.id, []), row.notes, *(custom.get(key) for key in keys),
        row.created_at, row.updated_at,
    ]


# --- messages -------------------------------------------------------------------------------------

MESSAGE_HEADER = [
    "id", "campaign.id", "campaign.name", "campaignAccount.id", "account.id", "account.name", "account.domain",
    "contact.id", "contact.name", "contact.email", "contact.phone", "direction", "channel", "status", "mode",
    "outcome", "subject", "originalText", "originalLanguage", "translatedText", "translatedLanguage", "signals",
    "sentAt", "createdAt",
]


def message_table(project_id: int, campaign_id: int | None, batch: int = BATCH) -> Table:
    """Every message and call of the project (or of one of its campaigns), in the order they were written."""
    return Table(list(MESSAGE_HEADER), _message_batches(project_id, campaign_id, batch))


async def _message_batches(project_id: int, campaign_id: int | None, batch: int) -> AsyncIterator[list[list[Any]]]:
    scope = models.Message.filter(project_id=project_id)
    if campaign_id is not None:
        scope = scope.filter(campaign_account__campaign_id=campaign_id)
    last = 0
    while True:
        rows = await (scope.filter(id__gt=last).order_by("id").limit(batch)
                      .select_related("campaign_account__campaign", "campaign_account__account", "contact"))
        if not rows:
            return
        last = rows[-1].id
        found = await signals.by_message([m.id for m in rows])
        yield [_message_row(m, [f"{x.kind}: {x.text}" for x in found.get(m.id, ())
                                if x.status is SignalStatus.CONFIRMED]) for m in rows]
        if len(rows) < batch:
            return


def _message_row(m: models.Message, confirmed: list[str]) -> list[Any]:
    thread = m.campaign_account
    contact = m.contact
    return [
        GlobalId("Message", m.id), GlobalId("Campaign", thread.campaign_id), thread.campaign.name,
        GlobalId("CampaignAccount", thread.id), GlobalId("Account", thread.account_id), thread.account.name,
        thread.account.domain,
        *((GlobalId("Contact", contact.id), contact.name, contact.email, contact.phone) if contact else (None,) * 4),
        m.direction, m.channel, m.status, m.mode, m.outcome, m.subject, m.original_text, m.original_language,
        m.translated_text, m.translated_language, confirmed, m.sent_at, m.created_at,
    ]


# --- expenses -------------------------------------------------------------------------------------

EXPENSE_HEADER = [
    "id", "campaign.id", "campaign.name", "kind", "amount", "currency", "incurredOn", "vendor", "description",
    "externalRef", "createdAt", "updatedAt",
]


def expense_table(project_id: int, campaign_id: int | None, batch: int = BATCH) -> Table:
    """Every expense of the project (or of one of its campaigns), in the order they were recorded."""
    return Table(list(EXPENSE_HEADER), _expense_batches(project_id, campaign_id, batch))


async def _expense_batches(project_id: int, campaign_id: int | None, batch: int) -> AsyncIterator[list[list[Any]]]:
    scope = models.Expense.filter(project_id=project_id)
    if campaign_id is not None:
        scope = scope.filter(campaign_id=campaign_id)
    last = 0
    while True:
        rows = await scope.filter(id__gt=last).order_by("id").limit(batch).select_related("campaign")
        if not rows:
            return
        last = rows[-1].id
        yield [[GlobalId("Expense", e.id), GlobalId("Campaign", e.campaign_id), e.campaign.name, e.kind, e.amount,
                e.currency, e.incurred_on, e.vendor, e.description, e.external_ref, e.created_at, e.updated_at]
               for e in rows]
        if len(rows) < batch:
            return
