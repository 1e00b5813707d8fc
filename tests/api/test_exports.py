"""Exports: exportCampaignAccounts, exportMessages and exportExpenses answer a short-lived signed link; GET on it
streams the CSV (columns named as the API names them, values as it shows them, formula-looking text
neutralised), checking the signature, the expiry and the asker's access again at download time."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    Band,
    Channel,
    Direction,
    ExpenseKind,
    GoalOutcome,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    ReviewStatus,
    Role,
    SignalStatus,
)
from outboundql.exports import links
from outboundql.services import campaign_stats, export_rows, exports
from outboundql.services.clock import FakeClock
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id

SECRET = "a-fixed-secret-for-the-export-tests-0123456789"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

EXPORT_ACCOUNTS = """
mutation($input: ExportCampaignAccountsInput!) {
  exportCampaignAccounts(input: $input) { url expiresAt errors { code field message } }
}
"""

EXPORT_MESSAGES = """
mutation($input: ExportMessagesInput!) {
  exportMessages(input: $input) { url expiresAt errors { code field message } }
}
"""

EXPORT_EXPENSES = """
mutation($input: ExportExpensesInput!) {
  exportExpenses(input: $input) { url expiresAt errors { code field message } }
}
"""

CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id name } errors { code field message } }
}
"""


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, secret_key=SECRET)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    """The CSV body as dicts, read back by Python's csv reader (the BOM is checked and skipped)."""
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def header_of(response: httpx.Response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def link(gql: Any, query: str, as_: Person, **input: Any) -> dict[str, Any]:
    return next(iter(data_of(await gql(query, {"input": input}, as_=as_)).values()))  # type: ignore[no-any-return]


async def fetch(client: httpx.AsyncClient, url: str) -> httpx.Response:
    return await client.get(url)  # no Authorization: the link is the credential


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# --- a campaign's accounts ------------------------------------------------------------------------


@pytest.fixture
async def world(gql: Any, owner: Person, project: models.Project, campaign: models.Campaign) -> dict[str, Any]:
    """Three accounts in the campaign: one created through the API with formula-looking text and custom fields,
    scored under the campaign's goal; one with an override, a chosen contact and tags, scored only under another
    goal; one bare (no contact, no score)."""
    created = data_of(await gql(CREATE_ACCOUNT, {"input": {
        "projectId": global_id("Project", project.id), "name": "=HYPERLINK(\"http://evil\")", "domain": "acme.test",
        "country": "ES", "city": "Madrid", "phone": "+34 600 123 456", "employeeCount": 120,
        "customFields": {"fleet_size": 40, "note": "@admin", "debt": -5, "regions": {"eu": True}},
        "contacts": [{"name": "Ana Plain", "email": "ana@acme.example"},
                     {"name": "Dora Decider", "email": "dora@acme.example", "phone": "+34 600 999 888",
                      "title": "CEO", "isDecisionMaker": True}],
    }}, as_=owner))["createAccount"]
    assert created["errors"] == []
    acme = await models.Account.get(name="=HYPERLINK(\"http://evil\")")
    assert acme.name.startswith("=")  # stored as text, as given: neutralised only in the file
    acme.source, acme.external_id, acme.tags = "hubspot", "hs-77", ["vip", "-risky"]
    await acme.save()
    beta = await models.Account.create(project=project, name="Beta, \"the\" Co", domain="beta.test",
                                       custom_fields={"fleet_size": 3})
    beta_contact = await models.Contact.create(project=project, account=beta, name="Bo Chosen", email="bo@beta.test")
    await models.Contact.create(project=project, account=beta, name="Ben Boss", is_decision_maker=True)
    bare = await models.Account.create(project=project, name="Bare", status=AccountStatus.ENGAGED)
    rows = {
        "acme": await models.CampaignAccount.create(campaign=campaign, account=acme,
                                                    review_status=ReviewStatus.APPROVED,
                                                    outreach_status=OutreachStatus.SENT, attempts_made=2,
                                                    goal_outcome=GoalOutcome.ACHIEVED),
        "beta": await models.CampaignAccount.create(campaign=campaign, account=beta, override_score=9.0,
                                                    contact=beta_contact, notes="Line one\nsaid \"yes\", then no"),
        "bare": await models.CampaignAccount.create(campaign=campaign, account=bare),
    }
    await models.CampaignAccountTag.create(campaign_account=rows["beta"], campaign_id=campaign.id, tag="hot")
    await models.CampaignAccountTag.create(campaign_account=rows["beta"], campaign_id=campaign.id, tag="=cmd")
    await models.FitScore.create(project=project, product_id=campaign.product_id, account=acme, goal_key="sales",
                                 score=7.5, band=Band.MODERATE, scorer="rubric")
    await models.FitScore.create(project=project, product_id=campaign.product_id, account=beta, goal_key="press",
                                 score=3.0, band=Band.MISMATCH, scorer="external")
    await campaign_stats.recount([campaign.id])  # rows and scores made by hand: the rows' kept scores follow
    return {"acme": acme, "beta": beta, "bare": bare, "rows": rows, "beta_contact": beta_contact}


async def test_campaign_accounts_export_columns_values_and_headers(
    gql: Any, client: httpx.AsyncClient, owner: Person, campaign: models.Campaign, world: dict[str, Any]
) -> None:
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    assert answer["errors"] == []
    assert answer["url"].startswith("http://test/exports/")
    assert answer["expiresAt"] == "2026-12-01T09:45:00+00:00"  # 15 minutes by default

    response = await fetch(client, answer["url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="camp-accounts-2026-12-01.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert header_of(response) == [
        "id", "account.id", "account.name", "account.domain", "account.website", "account.industry",
        "account.employeeCount", "account.country", "account.city", "account.language", "account.timeZone",
        "account.phone", "account.email", "account.status", "account.source", "account.externalId", "account.tags",
        "account.contractEndDate", "account.description", "account.apiUsage.costUsd", "contact.id", "contact.name",
        "contact.title", "contact.email", "contact.phone", "effectiveScore", "band", "aiScore.score", "aiScore.stale",
        "aiScore.scorer", "overrideScore", "reviewStatus", "outreachStatus", "execution.status",
        "execution.attemptsMade", "execution.maxAttempts", "goalOutcome", "tags", "notes", "cf.debt",
        "cf.fleet_size", "cf.note", "cf.regions", "createdAt", "updatedAt",
    ]
    rows = rows_of(response)
    assert [r["id"] for r in rows] == [global_id("CampaignAccount", world["rows"][k].id)
                                      for k in ("acme", "beta", "bare")]  # in the order they were added
    acme, beta, bare = rows
    dora = await models.Contact.get(name="Dora Decider")
    assert acme | {"createdAt": "", "updatedAt": ""} == acme | {
        "account.id": global_id("Account", world["acme"].id),
        "account.name": "'=HYPERLINK(\"http://evil\")",  # neutralised in the file
        "account.domain": "acme.test", "account.website": "", "account.employeeCount": "120",
        "account.country": "ES", "account.city": "Madrid", "account.phone": "'+34600123456",
        "account.status": "NEW", "account.source": "hubspot", "account.externalId": "hs-77",
        "account.tags": "vip; -risky", "account.apiUsage.costUsd": "0",
        "contact.id": global_id("Contact", dora.id), "contact.name": "Dora Decider",  # the decision maker
        "contact.title": "CEO", "contact.email": "dora@acme.example", "contact.phone": "'+34600999888",
        "effectiveScore": "7.5", "band": "MODERATE", "aiScore.score": "7.5", "aiScore.stale": "false",
        "aiScore.scorer": "rubric", "overrideScore": "", "reviewStatus": "APPROVED", "outreachStatus": "SENT",
        "execution.status": "NOT_PLANNED", "execution.attemptsMade": "2", "execution.maxAttempts": "3",
        "goalOutcome": "ACHIEVED", "tags": "", "notes": "",
        "cf.debt": "-5",  # a number stays a number, negative or not
        "cf.fleet_size": "40", "cf.note": "'@admin", "cf.regions": '{"eu":true}',
        "createdAt": "", "updatedAt": "",
    }
    created = world["rows"]["acme"].created_at.astimezone(UTC).isoformat()
    assert (await models.CampaignAccount.get(id=world["rows"]["acme"].id)).created_at.astimezone(UTC).isoformat() \
        == created
    assert acme["createdAt"] == created and acme["createdAt"].endswith("+00:00")
    assert beta["account.name"] == "Beta, \"the\" Co"  # commas and quotes survive the round trip
    assert beta["notes"] == "Line one\nsaid \"yes\", then no"  # and newlines
    assert beta["contact.name"] == "Bo Chosen"  # the row's chosen contact wins over the decision maker
    assert (beta["overrideScore"], beta["effectiveScore"], beta["band"]) == ("9.0", "9.0", "EXCELLENT")
    assert (beta["aiScore.score"], beta["aiScore.stale"], beta["aiScore.scorer"]) == ("3.0", "true", "external")
    assert beta["tags"] == "hot; =cmd"
    assert beta["cf.fleet_size"] == "3" and beta["cf.note"] == "" and beta["cf.regions"] == ""
    assert bare["contact.id"] == "" and bare["effectiveScore"] == "" and bare["band"] == ""
    assert bare["aiScore.score"] == "" and bare["aiScore.stale"] == "" and bare["account.status"] == "ENGAGED"


async def test_a_tag_list_starting_like_a_formula_is_neutralised(
    gql: Any, client: httpx.AsyncClient, owner: Person, campaign: models.Campaign, world: dict[str, Any]
) -> None:
    await models.CampaignAccountTag.create(campaign_account=world["rows"]["bare"], campaign_id=campaign.id, tag="+1")
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    rows = rows_of(await fetch(client, answer["url"]))
    assert rows[1]["tags"] == "hot; =cmd"  # only a cell's start counts
    assert rows[2]["tags"] == "'+1"


async def test_the_api_shows_the_same_values(
    gql: Any, client: httpx.AsyncClient, owner: Person, project: models.Project, campaign: models.Campaign,
    world: dict[str, Any]
) -> None:
    query = """query($slug: String!) { project(slug: $slug) { campaign(slug: "camp") {
      accounts(orderBy: {field: ADDED_AT, direction: ASC}) { edges { node {
              id reviewStatus outreachStatus overrideScore effectiveScore band goalOutcome tags
              aiScore { score stale scorer } execution { status attemptsMade maxAttempts } createdAt
              account { id name domain status customFields } } } } } } }"""
    edges = data_of(await gql(query, {"slug": project.slug}, as_=owner))["project"]["campaign"]["accounts"]["edges"]
    nodes = [edge["node"] for edge in edges]
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    rows = rows_of(await fetch(client, answer["url"]))
    for node, row in zip(nodes, rows, strict=True):
        assert row["id"] == node["id"] and row["account.id"] == node["account"]["id"]
        assert row["reviewStatus"] == node["reviewStatus"] and row["outreachStatus"] == node["outreachStatus"]
        assert row["goalOutcome"] == node["goalOutcome"] and row["band"] == (node["band"] or "")
        assert row["effectiveScore"] == ("" if node["effectiveScore"] is None else str(node["effectiveScore"]))
        assert row["execution.status"] == node["execution"]["status"]
        assert row["execution.maxAttempts"] == str(node["execution"]["maxAttempts"])
        assert row["createdAt"] == node["createdAt"]
        assert row["aiScore.stale"] == ("" if node["aiScore"] is None else str(node["aiScore"]["stale"]).lower())


# --- messages and expenses ------------------------------------------------------------------------


@pytest.fixture
async def conversations(owner: Person, project: models.Project, campaign: models.Campaign,
                        world: dict[str, Any]) -> dict[str, Any]:
    other = await models.Campaign.create(project=project, product_id=campaign.product_id, name="Other",
                                         slug="other", goal_key="sales")
    elsewhere = await models.CampaignAccount.create(campaign=other, account=world["bare"])
    sent = await models.Message.create(
        project=project, campaign_account=world["rows"]["beta"], contact=world["beta_contact"],
        direction=Direction.OUTBOUND, channel=Channel.EMAIL, status=MessageStatus.SENT, mode=MessageMode.LOG_SENT,
        subject="-1 for you?", original_text="Hi Bo,\n\"quoted\", and more", original_language="en",
        sent_at=NOW - timedelta(days=1), created_by=owner.user)
    for kind, text, status in (("competitor", "Uses SAP", SignalStatus.CONFIRMED),
                               ("budget", "Proposed only", SignalStatus.PROPOSED),
                               ("timing", "Dismissed", SignalStatus.DISMISSED),
                               ("timing", "Q3", SignalStatus.CONFIRMED)):
        await models.Signal.create(project=project, message=sent, campaign_account_id=sent.campaign_account_id,
                                   campaign_id=campaign.id, kind=kind, text=text, status=status)
    call = await models.Message.create(
        project=project, campaign_account=elsewhere, direction=Direction.INBOUND, channel=Channel.PHONE_CALL,
        status=MessageStatus.SENT, mode=MessageMode.PASTE_INBOUND, original_text="=1+1", sent_at=NOW)
    return {"other": other, "sent": sent, "call": call}


async def test_messages_of_a_project_and_of_a_campaign(
    gql: Any, client: httpx.AsyncClient, owner: Person, project: models.Project, campaign: models.Campaign,
    world: dict[str, Any], conversations: dict[str, Any]
) -> None:
    answer = await link(gql, EXPORT_MESSAGES, owner, projectId=global_id("Project", project.id))
    response = await fetch(client, answer["url"])
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{project.slug}-messages-2026-12-01.csv"')
    assert header_of(response) == export_rows.MESSAGE_HEADER
    sent, call = rows_of(response)
    assert sent == sent | {
        "id": global_id("Message", conversations["sent"].id), "campaign.id": global_id("Campaign", campaign.id),
        "campaign.name": "Camp", "campaignAccount.id": global_id("CampaignAccount", world["rows"]["beta"].id),
        "account.id": global_id("Account", world["beta"].id), "account.name": "Beta, \"the\" Co",
        "contact.id": global_id("Contact", world["beta_contact"].id), "contact.name": "Bo Chosen",
        "contact.email": "bo@beta.test", "direction": "OUTBOUND", "channel": "EMAIL", "status": "SENT",
        "mode": "LOG_SENT", "outcome": "", "subject": "'-1 for you?", "originalText": "Hi Bo,\n\"quoted\", and more",
        "originalLanguage": "en", "signals": "competitor: Uses SAP; timing: Q3", "sentAt": "2026-11-30T09:30:00+00:00",
    }
    assert call["campaign.name"] == "Other" and call["channel"] == "PHONE_CALL" and call["originalText"] == "'=1+1"
    assert call["contact.id"] == "" and call["direction"] == "INBOUND"

    answer = await link(gql, EXPORT_MESSAGES, owner, projectId=global_id("Project", project.id),
                        campaignId=global_id("Campaign", conversations["other"].id))
    response = await fetch(client, answer["url"])
    assert [r["id"] for r in rows_of(response)] == [global_id("Message", conversations["call"].id)]
    assert response.headers["content-disposition"] == 'attachment; filename="other-messages-2026-12-01.csv"'


async def test_expenses_keep_exact_amounts_and_neutralise_text(
    gql: Any, client: httpx.AsyncClient, owner: Person, project: models.Project, campaign: models.Campaign
) -> None:
    other = await models.Campaign.create(project=project, product_id=campaign.product_id, name="Other",
                                         slug="other", goal_key="sales")
    first = await models.Expense.create(project=project, campaign=campaign, kind=ExpenseKind.GOOGLE_ADS,
                                        amount=Decimal("1250.50"), currency="EUR", incurred_on=date(2026, 11, 2),
                                        vendor="Google", description="=IMPORTXML(\"x\")", external_ref="INV-9")
    second = await models.Expense.create(project=project, campaign=other, kind=ExpenseKind.LABOR,
                                         amount=Decimal("80.00"), currency="USD", incurred_on=date(2026, 11, 3))
    answer = await link(gql, EXPORT_EXPENSES, owner, projectId=global_id("Project", project.id))
    response = await fetch(client, answer["url"])
    assert header_of(response) == export_rows.EXPENSE_HEADER
    one, two = rows_of(response)
    api = data_of(await gql("query($id: ID!) { node(id: $id) { ... on Expense { amount createdAt } } }",
                            {"id": global_id("Expense", first.id)}, as_=owner))["node"]
    assert one == one | {
        "id": global_id("Expense", first.id), "campaign.id": global_id("Campaign", campaign.id),
        "campaign.name": "Camp", "kind": "GOOGLE_ADS", "amount": api["amount"], "currency": "EUR",
        "incurredOn": "2026-11-02", "vendor": "Google", "description": "'=IMPORTXML(\"x\")", "externalRef": "INV-9",
        "createdAt": api["createdAt"],
    }
    assert one["amount"] == "1250.50" and two["amount"] == "80.00" and two["kind"] == "LABOR"

    answer = await link(gql, EXPORT_EXPENSES, owner, projectId=global_id("Project", project.id),
                        campaignId=global_id("Campaign", other.id))
    assert [r["id"] for r in rows_of(await fetch(client, answer["url"]))] == [global_id("Expense", second.id)]


# --- the link: expiry, signature, access ----------------------------------------------------------


async def test_a_link_expires(gql: Any, client: httpx.AsyncClient, owner: Person, campaign: models.Campaign,
                              clock: FakeClock) -> None:
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    clock.advance(minutes=14, seconds=59)
    assert (await fetch(client, answer["url"])).status_code == 200  # fetched again as often as needed
    assert (await fetch(client, answer["url"])).status_code == 200
    clock.advance(seconds=1)
    expired = await fetch(client, answer["url"])
    assert expired.status_code == 410 and "expired" in expired.text
    assert expired.headers["cache-control"] == "no-store"


async def test_head_checks_the_link_without_reading_or_auditing_rows(
    gql: Any, client: httpx.AsyncClient, owner: Person, campaign: models.Campaign, clock: FakeClock,
    count_queries: Any
) -> None:
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    with count_queries() as counted:
        head = await client.head(answer["url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-disposition"] == 'attachment; filename="camp-accounts-2026-12-01.csv"'
    assert not [s for s in counted.statements if "campaign_account" in s or "INSERT" in s.upper()]
    assert await models.AuditEvent.filter(action="export.download").count() == 0
    clock.advance(hours=1)
    assert (await client.head(answer["url"])).status_code == 410
    assert (await client.head("/exports/x.y")).status_code == 404


@pytest.mark.parametrize("spoil", ["flip_claims", "flip_signature", "other_key", "garbage", "no_signature"])
async def test_a_changed_token_is_not_valid(gql: Any, client: httpx.AsyncClient, owner: Person,
                                            campaign: models.Campaign, spoil: str) -> None:
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    token = token_of(answer["url"])
    claims = links.verify(token, SECRET.encode())
    assert claims is not None and claims.campaign_id == campaign.id and claims.user_id == owner.user.id
    body, signature = token.split(".")
    bad = {
        "flip_claims": links.sign(links.LinkClaims("campaign_accounts", claims.project_id, campaign.id + 1,
                                                   owner.user.id, claims.expires_at), b"x").split(".")[0]
        + "." + signature,
        "flip_signature": body + "." + ("A" if signature[0] != "A" else "B") + signature[1:],
        "other_key": links.sign(claims, b"another key"),
        "garbage": "not-a-token",
        "no_signature": body,
    }[spoil]
    response = await client.get(f"/exports/{bad}")
    assert (response.status_code, response.text) == (404, exports.NOT_VALID.message)


async def test_a_token_for_a_project_its_user_is_not_in_reads_as_not_valid(
    client: httpx.AsyncClient, make_user: Any, owner: Person, project: models.Project, campaign: models.Campaign
) -> None:
    stranger = await make_user("stranger@example.com")
    forged = links.sign(links.LinkClaims("campaign_accounts", project.id, campaign.id, stranger.user.id,
                                         NOW + timedelta(minutes=5)), SECRET.encode())
    response = await client.get(f"/exports/{forged}")
    assert (response.status_code, response.text) == (404, exports.NOT_VALID.message)
    # A campaign of another project named beside a project the user is in: the same answer.
    mixed = links.sign(links.LinkClaims("messages", project.id + 1000, campaign.id, owner.user.id,
                                        NOW + timedelta(minutes=5)), SECRET.encode())
    assert (await client.get(f"/exports/{mixed}")).status_code == 404


async def test_a_member_removed_after_the_link_was_made_cannot_fetch_it(
    gql: Any, client: httpx.AsyncClient, make_user: Any, add_member: Any, project: models.Project,
    campaign: models.Campaign
) -> None:
    member = await make_user("member@example.com")
    await add_member(member, project, Role.MEMBER)
    answer = await link(gql, EXPORT_ACCOUNTS, member, campaignId=global_id("Campaign", campaign.id))
    assert (await fetch(client, answer["url"])).status_code == 200
    await models.Membership.filter(user_id=member.user.id, project_id=project.id).delete()
    response = await fetch(client, answer["url"])
    assert (response.status_code, response.text) == (404, exports.NOT_VALID.message)


async def test_a_deleted_campaign_makes_its_link_not_valid(gql: Any, client: httpx.AsyncClient, owner: Person,
                                                           campaign: models.Campaign) -> None:
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    await campaign.delete()
    assert (await fetch(client, answer["url"])).status_code == 404


async def test_viewers_may_export_and_every_export_is_audited(
    gql: Any, client: httpx.AsyncClient, make_user: Any, add_member: Any, project: models.Project,
    campaign: models.Campaign
) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    answers = [
        await link(gql, EXPORT_ACCOUNTS, viewer, campaignId=global_id("Campaign", campaign.id)),
        await link(gql, EXPORT_MESSAGES, viewer, projectId=global_id("Project", project.id)),
        await link(gql, EXPORT_EXPENSES, viewer, projectId=global_id("Project", project.id),
                   campaignId=global_id("Campaign", campaign.id)),
    ]
    for answer in answers:
        assert answer["errors"] == [] and (await fetch(client, answer["url"])).status_code == 200
    events = await models.AuditEvent.filter(action__startswith="export.").order_by("id")
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.after["kind"]) for e in events] == [
        ("export.link", viewer.user.id, "Campaign", campaign.id, "campaign_accounts"),
        ("export.link", viewer.user.id, "Project", project.id, "messages"),
        ("export.link", viewer.user.id, "Campaign", campaign.id, "expenses"),
        ("export.download", viewer.user.id, "Campaign", campaign.id, "campaign_accounts"),
        ("export.download", viewer.user.id, "Project", project.id, "messages"),
        ("export.download", viewer.user.id, "Campaign", campaign.id, "expenses"),
    ]
    assert {e.actor_id for e in events} == {viewer.user.id} and {e.project_id for e in events} == {project.id}


async def test_another_projects_ids_answer_like_missing_ones(
    gql: Any, make_user: Any, make_project: Any, project: models.Project, campaign: models.Campaign
) -> None:
    stranger = await make_user("stranger@example.com")
    own = await make_project(stranger, "Stranger's")
    missing = global_id("Campaign", campaign.id + 1000)
    theirs = await link(gql, EXPORT_ACCOUNTS, stranger, campaignId=global_id("Campaign", campaign.id))
    absent = await link(gql, EXPORT_ACCOUNTS, stranger, campaignId=missing)
    assert theirs == absent == {"url": None, "expiresAt": None, "errors": [
        {"code": "NOT_FOUND", "field": "input.campaignId", "message": "Campaign not found."}]}
    for query in (EXPORT_MESSAGES, EXPORT_EXPENSES):
        mixed = await link(gql, query, stranger, projectId=global_id("Project", own.id),
                           campaignId=global_id("Campaign", campaign.id))
        assert mixed == await link(gql, query, stranger, projectId=global_id("Project", own.id), campaignId=missing)
        assert mixed["errors"][0]["field"] == "input.campaignId"
        other = await link(gql, query, stranger, projectId=global_id("Project", project.id))
        assert other["errors"] == [{"code": "NOT_FOUND", "field": "input.projectId", "message": "Project not found."}]
    assert not await models.AuditEvent.filter(action__startswith="export.")


# --- a large file ---------------------------------------------------------------------------------


async def test_a_large_export_streams_in_batches_with_bounded_statements(
    gql: Any, client: httpx.AsyncClient, owner: Person, project: models.Project, campaign: models.Campaign,
    count_queries: Any
) -> None:
    total = 5_000
    await models.Account.bulk_create([
        models.Account(project=project, name=f"Account {i}", custom_fields={"n": i}) for i in range(total)],
        batch_size=1000)
    accounts = await models.Account.filter(project_id=project.id).order_by("id").values_list("id", flat=True)
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=campaign, account_id=a)
                                              for a in accounts], batch_size=1000)
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    with count_queries() as counted:
        response = await fetch(client, answer["url"])
    rows = rows_of(response)
    assert len(rows) == total and rows[-1]["account.name"] == f"Account {total - 1}" and rows[-1]["cf.n"] == "4999"
    batches = -(-total // export_rows.BATCH)
    per_batch = 5  # rows with their accounts, contacts, tags, fit scores, API usage
    # The link's checks and the audit row, the custom field keys: a few; then a bounded number per batch.
    assert batches * per_batch <= len(counted) <= batches * per_batch + 12, counted.statements

    # The rows are read as they are sent: the first batch comes before the next is read.
    found = await exports.open_download(token_of(answer["url"]))
    with count_queries() as counted:
        first = await anext(found.batches)
        assert len(first) == export_rows.BATCH and len(counted) == per_batch
        second = await anext(found.batches)
        assert len(second) == export_rows.BATCH and len(counted) == 2 * per_batch
    await found.batches.aclose()  # type: ignore[attr-defined]


async def test_campaign_accounts_export_has_each_accounts_api_cost(
    gql: Any, client: httpx.AsyncClient, owner: Person, project: models.Project, campaign: models.Campaign,
    world: dict[str, Any]
) -> None:
    from outboundql.enums import UsageOperation
    from outboundql.services import api_usage

    acme, beta = world["acme"], world["beta"]
    await api_usage.record(project.id, campaign.id, [
        api_usage.PaidCall("openai", "gpt-4o-mini", UsageOperation.SCORE, 1000, 200, Decimal("0.000271"),
                           account_ids=[acme.id, beta.id]),
        api_usage.PaidCall("openai", "gpt-4o", UsageOperation.DRAFT, 10, 20, Decimal("0.01"), account_ids=[beta.id])])
    answer = await link(gql, EXPORT_ACCOUNTS, owner, campaignId=global_id("Campaign", campaign.id))
    rows = rows_of(await fetch(client, answer["url"]))
    assert [r["account.apiUsage.costUsd"] for r in rows] == ["0.000136", "0.010135", "0"]  # as Account.apiUsage
