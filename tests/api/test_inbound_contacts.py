"""Inbound contacts: a provider reports a call or message to a campaign's inbound endpoint
(``POST /channels/inbound/<token>``, Campaign.inboundUrl), signed with the project's channel secret (the Standard
Webhooks reference implementation signs here). A known contact's inbound is logged on their thread; a new person is
added (account and contact deduplicated, through the goal's guardrails) only while Campaign.addInboundContacts is on
(updateCampaign); then each refusal (401, 400, 404, 409) and what a viewer sees."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from outboundql import models
from outboundql.channels import links
from outboundql.enums import AccountStatus, Direction, Role, SuppressionKind, SuppressionSource
from outboundql.services import suppressions
from outboundql.services.clock import FakeClock
from outboundql.webhooks import signing
from tests.helpers import Person, data_of, global_id

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SECRET = signing.new_secret()
CONFIGURE = """
mutation($input: ConfigureChannelInput!) {
  configureChannel(input: $input) { channel { kind secretsSet } errors { code field message } }
}
"""
UPDATE = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) { campaign { addInboundContacts } errors { code field message } }
}
"""
CAMPAIGN = """
query($id: ID!) {
  node(id: $id) { ... on Campaign { addInboundContacts inboundUrl
    accounts(first: 10) { totalCount edges { node { id account { id name domain source }
      messages { id direction channel originalText sentAt contact { name phone email } classification { label } }
    } } } } }
}
"""
ACCOUNTS = "query($id: ID!) { node(id: $id) { ... on Project { accounts(first: 20) { totalCount edges { node { " \
    "name domain contacts { name phone email } } } } } } }"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def _ok(gql: Any, document: str, input: dict[str, Any], as_: Person) -> dict[str, Any]:
    payload = next(iter(data_of(await gql(document, {"input": input}, as_=as_)).values()))
    assert payload["errors"] == [], payload["errors"]
    return dict(payload)


async def _configure(gql: Any, owner: Person, project: models.Project, secret: str = SECRET,
                     kind: str = "PHONE_CALL") -> None:
    await _ok(gql, CONFIGURE, {"projectId": global_id("Project", project.id), "key": "webhook", "kind": kind,
                               "settings": {"url": "https://calls.example.com/hook"},
                               "secrets": {"signingSecret": secret}}, owner)


async def _toggle(gql: Any, owner: Person, campaign: models.Campaign, on: bool) -> None:
    payload = await _ok(gql, UPDATE, {"id": global_id("Campaign", campaign.id), "addInboundContacts": on}, owner)
    assert payload["campaign"] == {"addInboundContacts": on}


async def _view(gql: Any, campaign: models.Campaign, as_: Person) -> dict[str, Any]:
    return dict(data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id)}, as_=as_))["node"])


def _signed(body: bytes, *, secret: str = SECRET, msg_id: str = "msg_1", at: datetime = NOW) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()), "content-type": "application/json"}


async def _post(client: httpx.AsyncClient, campaign: models.Campaign, report: dict[str, Any], *,
                raw: bytes | None = None, **signing_: Any) -> httpx.Response:
    body = raw if raw is not None else json.dumps(report).encode()
    path = urlsplit(links.url(links.INBOUND, campaign.id)).path
    return await client.post(path, content=body, headers=_signed(body, **signing_))


def _call(**sender: Any) -> dict[str, Any]:
    return {"channel": "PHONE_CALL", "from": sender, "text": "Hi, I saw your ad; can you call me back about pricing?",
            "vendorField": {"ignored": True}}


async def _counts() -> tuple[int, int, int, int]:
    return (await models.Account.all().count(), await models.Contact.all().count(),
            await models.CampaignAccount.all().count(), await models.Message.all().count())


@pytest.fixture
async def setup(gql: Any, owner: Person, project: models.Project, campaign: models.Campaign) -> models.Campaign:
    await _configure(gql, owner, project)
    return campaign


# --- behaviour ------------------------------------------------------------------------------------------------


async def test_toggle_off_refuses_a_new_person_and_writes_nothing(client: httpx.AsyncClient, gql: Any, owner: Person,
                                                                 setup: models.Campaign) -> None:
    assert (await _view(gql, setup, owner))["addInboundContacts"] is False
    before = await _counts()
    answer = await _post(client, setup, _call(name="Nia Noor", phone="+34611000001"))
    assert answer.status_code == 409, answer.text
    assert "Inbound contacts are off" in answer.json()["error"]
    assert await _counts() == before


async def test_a_known_contact_is_logged_on_their_thread(client: httpx.AsyncClient, gql: Any, owner: Person,
                                                         project: models.Project, setup: models.Campaign,
                                                         jobs: Any) -> None:
    account = await models.Account.create(project=project, name="Acme", name_key="acme", domain="acme.com")
    await models.Contact.create(project=project, account=account, name="Dana Diaz", phone="+34600000001",
                                email="dana@acme.com")
    row = await models.CampaignAccount.create(campaign=setup, account=account)
    await _configure(gql, owner, project, kind="SMS")  # each message channel is signed with its own channel's secret
    answer = await _post(client, setup, {"channel": "SMS", "from": {"email": "DANA@acme.com"},
                                         "text": "Yes, send me the deck.", "occurredAt": "2026-03-02T09:30:00Z"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["added"] is False and body["blockedReason"] is None
    assert body["campaignAccountId"] == global_id("CampaignAccount", row.id)
    await jobs()  # classification is queued like every inbound's
    node = (await _view(gql, setup, owner))["accounts"]["edges"][0]["node"]
    assert node["messages"] == [{
        "id": body["messageId"], "direction": "INBOUND", "channel": "SMS", "originalText": "Yes, send me the deck.",
        "sentAt": "2026-03-02T09:30:00+00:00",
        "contact": {"name": "Dana Diaz", "phone": "+34600000001", "email": "dana@acme.com"},
        "classification": node["messages"][0]["classification"]}]
    assert node["messages"][0]["classification"] is not None
    assert await models.Account.all().count() == 1 and await models.Contact.all().count() == 1


async def test_a_known_contact_is_logged_even_with_the_toggle_off_and_a_retry_is_logged_once(
        client: httpx.AsyncClient, project: models.Project, setup: models.Campaign) -> None:
    account = await models.Account.create(project=project, name="Acme", name_key="acme")
    await models.Contact.create(project=project, account=account, name="Dana Diaz", phone="+34600000001")
    await models.CampaignAccount.create(campaign=setup, account=account)
    report = _call(phone="+34 600 000 001")
    first = await _post(client, setup, report, msg_id="msg_retry")
    again = await _post(client, setup, report, msg_id="msg_retry")
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["messageId"] == again.json()["messageId"]
    assert await models.Message.filter(direction=Direction.INBOUND).count() == 1


async def test_a_new_person_is_added_with_account_contact_row_and_message(
        client: httpx.AsyncClient, gql: Any, owner: Person, project: models.Project, setup: models.Campaign) -> None:
    await _toggle(gql, owner, setup, True)
    answer = await _post(client, setup, _call(name="Nia Noor", phone="+34611000001", email="nia@gmail.com",
                                              company="Noor Bakery"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["added"] is True and body["blockedReason"] is None
    view = await _view(gql, setup, owner)
    assert view["accounts"]["totalCount"] == 1
    node = view["accounts"]["edges"][0]["node"]
    assert node["id"] == body["campaignAccountId"] and node["account"]["id"] == body["accountId"]
    # A free-mail domain says nothing of the organisation: no domain.
    assert {k: node["account"][k] for k in ("name", "domain", "source")} == {
        "name": "Noor Bakery", "domain": None, "source": "inbound"}
    assert [(m["id"], m["direction"], m["channel"], m["contact"]) for m in node["messages"]] == [
        (body["messageId"], "INBOUND", "PHONE_CALL", {"name": "Nia Noor", "phone": "+34611000001",
                                                      "email": "nia@gmail.com"})]
    row = await models.CampaignAccount.get(campaign_id=setup.id)
    assert row.outreach_status.value == "responded"


async def test_a_new_person_is_deduplicated_against_an_account_by_domain(
        client: httpx.AsyncClient, gql: Any, owner: Person, project: models.Project, setup: models.Campaign) -> None:
    acme = await models.Account.create(project=project, name="Acme Corporation", name_key="acme corporation",
                                       domain="acme.com")
    await models.Contact.create(project=project, account=acme, name="Dana Diaz", phone="+34600000001")
    await _configure(gql, owner, project, kind="EMAIL")
    await _toggle(gql, owner, setup, True)
    answer = await _post(client, setup, {"channel": "EMAIL", "text": "Who handles your enterprise plans?",
                                         "from": {"name": "Eli Evans", "email": "eli@acme.com", "company": "ACME"}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["accountId"] == global_id("Account", acme.id)
    projects = data_of(await gql(ACCOUNTS, {"id": global_id("Project", project.id)}, as_=owner))["node"]
    assert projects["accounts"]["totalCount"] == 1
    contacts = projects["accounts"]["edges"][0]["node"]["contacts"]
    assert sorted(c["name"] for c in contacts) == ["Dana Diaz", "Eli Evans"]
    node = (await _view(gql, setup, owner))["accounts"]["edges"][0]["node"]
    assert node["account"]["name"] == "Acme Corporation"
    assert [m["contact"]["name"] for m in node["messages"]] == ["Eli Evans"]


async def test_a_person_the_guardrails_refuse_is_kept_but_not_added(
        client: httpx.AsyncClient, gql: Any, owner: Person, project: models.Project, setup: models.Campaign) -> None:
    rival = await models.Account.create(project=project, name="Rival", name_key="rival", domain="rival.io",
                                        status=AccountStatus.COMPETITOR)
    await _toggle(gql, owner, setup, True)
    answer = await _post(client, setup, _call(name="Ray Reyes", phone="+34622000002", website="https://rival.io"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["added"] is False and body["campaignAccountId"] is None and body["messageId"] is None
    assert "competitor" in body["blockedReason"].lower() and "kept" in body["blockedReason"]
    assert body["accountId"] == global_id("Account", rival.id)
    contact = await models.Contact.get(account_id=rival.id)
    assert body["contactId"] == global_id("Contact", contact.id) and contact.phone == "+34622000002"
    assert await models.CampaignAccount.all().count() == 0 and await models.Message.all().count() == 0


async def test_a_suppressed_address_is_not_added_and_nothing_is_written(
        client: httpx.AsyncClient, gql: Any, owner: Person, project: models.Project, setup: models.Campaign) -> None:
    await suppressions.add(project.id, [suppressions.Entry(SuppressionKind.DOMAIN, "blocked.example")],
                           SuppressionSource.MANUAL, None)
    await _configure(gql, owner, project, kind="EMAIL")
    await _toggle(gql, owner, setup, True)
    before = await _counts()
    answer = await _post(client, setup, {"channel": "EMAIL", "text": "Hello", "from": {"email": "x@blocked.example"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["added"] is False and "suppression list" in answer.json()["blockedReason"]
    assert await _counts() == before


# --- refusals --------------------------------------------------------------------------------------------------


async def test_a_bad_or_stale_signature_is_401(client: httpx.AsyncClient, gql: Any, owner: Person,
                                                setup: models.Campaign) -> None:
    await _toggle(gql, owner, setup, True)
    before = await _counts()
    wrong = await _post(client, setup, _call(phone="+34611000001"), secret=signing.new_secret())
    stale = await _post(client, setup, _call(phone="+34611000001"), at=NOW - timedelta(minutes=10))
    unconfigured = await _post(client, setup, {**_call(phone="+34611000001"), "channel": "WHATSAPP"})
    assert (wrong.status_code, stale.status_code, unconfigured.status_code) == (401, 401, 401)
    assert "no signing secret" in unconfigured.json()["error"]
    assert await _counts() == before


@pytest.mark.parametrize(("report", "field"), [
    ({"channel": "FAX", "from": {"phone": "+34611000001"}, "text": "x"}, "channel"),
    ({"from": {"phone": "+34611000001"}, "text": "x"}, "channel"),
    ({"channel": "SMS", "text": "x"}, "from"),
    ({"channel": "SMS", "from": {"name": "Nobody"}, "text": "x"}, "from"),
    ({"channel": "SMS", "from": {"phone": "not a phone"}, "text": "x"}, "from.phone"),
    ({"channel": "SMS", "from": {"email": 42}, "text": "x"}, "from.email"),
    ({"channel": "SMS", "from": {"phone": "+34611000001"}, "text": "  "}, "text"),
    ({"channel": "SMS", "from": {"phone": "+34611000001"}, "text": "x", "occurredAt": "yesterday"}, "occurredAt"),
])
async def test_a_malformed_body_is_400_naming_the_key(client: httpx.AsyncClient, gql: Any, owner: Person,
                                                      project: models.Project, setup: models.Campaign,
                                                      report: dict[str, Any], field: str) -> None:
    await _configure(gql, owner, project, kind="SMS")
    await _toggle(gql, owner, setup, True)
    answer = await _post(client, setup, report)
    assert answer.status_code == 400, answer.text
    assert field in [p["field"] for p in answer.json()["problems"]]
    assert await _counts() == (0, 0, 0, 0)


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, setup: models.Campaign) -> None:
    answer = await _post(client, setup, {}, raw=b"channel=SMS")
    assert answer.status_code == 400 and "JSON object" in answer.json()["error"]


async def test_a_forged_or_other_projects_link_cannot_be_used_with_this_projects_secret(
        client: httpx.AsyncClient, gql: Any, owner: Person, make_project: Any, setup: models.Campaign) -> None:
    other = await make_project(owner, "Other Outbound")
    product = await models.Product.create(project=other, name="Gadget", slug="gadget")
    theirs = await models.Campaign.create(project=other, product=product, name="Theirs", slug="theirs",
                                          goal_key="sales", add_inbound_contacts=True)
    await _configure(gql, owner, other, secret=signing.new_secret())
    answer = await _post(client, theirs, _call(phone="+34611000001"))  # signed with this project's secret
    assert answer.status_code == 401, answer.text
    forged = await client.post(f"/channels/inbound/i{theirs.id}.AAAA", content=b"{}", headers=_signed(b"{}"))
    assert forged.status_code == 404
    assert await _counts() == (0, 0, 0, 0)


async def test_a_stopped_or_archived_campaign_takes_nobody_new(client: httpx.AsyncClient, gql: Any, owner: Person,
                                                               setup: models.Campaign) -> None:
    await _toggle(gql, owner, setup, True)
    await models.Campaign.filter(id=setup.id).update(archived_at=NOW)
    answer = await _post(client, setup, _call(phone="+34611000001"))
    assert answer.status_code == 409 and "archived" in answer.json()["error"]
    assert await _counts() == (0, 0, 0, 0)


async def test_the_inbound_url_is_shown_to_members_not_viewers(gql: Any, owner: Person, make_user: Any,
                                                               add_member: Any, project: models.Project,
                                                               campaign: models.Campaign) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    assert (await _view(gql, campaign, owner))["inboundUrl"] == links.url(links.INBOUND, campaign.id)
    assert (await _view(gql, campaign, viewer))["inboundUrl"] is None
    refused = next(iter(data_of(await gql(UPDATE, {"input": {"id": global_id("Campaign", campaign.id),
                                                              "addInboundContacts": True}}, as_=viewer)).values()))
    assert refused["errors"] and refused["errors"][0]["code"] == "FORBIDDEN"
    assert not (await models.Campaign.get(id=campaign.id)).add_inbound_contacts


async def test_a_contact_of_an_account_not_in_the_campaign_brings_that_account(
        client: httpx.AsyncClient, gql: Any, owner: Person, project: models.Project, setup: models.Campaign) -> None:
    acme = await models.Account.create(project=project, name="Acme", name_key="acme")
    dana = await models.Contact.create(project=project, account=acme, name="Dana Diaz", phone="+34600000001")
    await _toggle(gql, owner, setup, True)
    answer = await _post(client, setup, _call(name="Dana", phone="+34600000001", company="Another Name Ltd"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["accountId"], body["contactId"]) == (global_id("Account", acme.id), global_id("Contact", dana.id))
    assert await models.Account.all().count() == 1 and await models.Contact.all().count() == 1


async def test_the_toggle_cannot_be_set_to_null(gql: Any, owner: Person, campaign: models.Campaign) -> None:
    payload = next(iter(data_of(await gql(UPDATE, {"input": {"id": global_id("Campaign", campaign.id),
                                                              "addInboundContacts": None}}, as_=owner)).values()))
    assert [e["field"] for e in payload["errors"]] == ["input.addInboundContacts"]
