"""logMessage: what a sent outbound, an inbound and a draft move; do-not-contact refusals; idempotent
retries; validation as payload errors; threads per campaign account, per account, and the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, StatusSource
from outboundql.goals.testing import registry_with
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.contacts import NewContact
from tests.api._authz import snapshot
from tests.helpers import Person, access_for, data_of, global_id

LOG = """
mutation($input: LogMessageInput!) {
  logMessage(input: $input) {
    replayed
    message { id direction channel status mode subject originalText originalLanguage translatedText
              translatedLanguage outcome
              signals { kind text status source } sentAt contact { name } createdBy { email } campaign { slug } }
    campaignAccount { outreachStatus account { status statusHistory { fromStatus toStatus source } }
                      campaign { outreachedAccounts respondedAccounts responseRate } }
    errors { code field message }
  }
}
"""

THREAD = """
query($slug: String!) {
  project(slug: $slug) {
    campaign(slug: "spring-push") {
      accounts { edges { node { account { name } messages { direction status originalText }
                                attention { unsentDrafts awaitingReply lastInboundAt } } } }
      inbox(first: 10) { totalCount edges { node { account { name } } } }
    }
  }
}
"""


@dataclass
class Setup:
    owner: Person
    project: models.Project
    campaign: models.Campaign
    account: models.Account
    contact: models.Contact
    row: models.CampaignAccount

    @property
    def ca_gid(self) -> str:
        return global_id("CampaignAccount", self.row.id)


async def make_campaign(owner: Person, project: models.Project, name: str = "Spring push",
                        accounts: list[models.Account] | None = None) -> models.Campaign:
    access = await access_for(owner)
    product = await models.Product.filter(project_id=project.id).first()
    if product is None:
        product = (await products_service.create_product(
            access, products_service.CreateProduct(project_id=project.id, name="Widget"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=name))).campaign
    if accounts:
        await ca_service.add_accounts(access, registry_with(),
                                      ca_service.AddAccountsToCampaign(campaign.id, [a.id for a in accounts]))
    return campaign


async def make_account(owner: Person, project: models.Project, name: str, **extra: Any) -> models.Account:
    access = await access_for(owner)
    return (await accounts_service.create_account(access, accounts_service.CreateAccount(
        project_id=project.id, name=name, contacts=(NewContact(name=f"{name} Person", email="p@example.com"),),
        **extra))).account


@pytest.fixture
async def setup(owner: Person, project: models.Project) -> Setup:
    account = await make_account(owner, project, "Acme")
    campaign = await make_campaign(owner, project, accounts=[account])
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=account.id)
    contact = await models.Contact.get(account_id=account.id)
    return Setup(owner, project, campaign, account, contact, row)


async def log(gql: Any, s: Setup, **fields: Any) -> dict[str, Any]:
    return data_of(await gql(LOG, {"input": {"campaignAccountId": s.ca_gid, **fields}}, as_=s.owner))["logMessage"]


async def test_sent_outbound_moves_outreach_counts_once_and_promotes(gql, setup: Setup) -> None:
    first = await log(gql, setup, text="Hello Acme", subject="Hi", contactId=global_id("Contact", setup.contact.id),
                      signals=[{"kind": "competitor", "text": " Uses SAP "}], originalLanguage="EN")
    assert first["errors"] == []
    message = first["message"]
    assert message["direction"] == "OUTBOUND" and message["status"] == "SENT" and message["mode"] == "LOG_SENT"
    assert message["channel"] == "EMAIL" and message["sentAt"] is not None
    assert message["originalLanguage"] == "en"
    assert message["signals"] == [{"kind": "competitor", "text": "Uses SAP", "status": "CONFIRMED", "source": "person"}]
    assert message["contact"] == {"name": "Acme Person"} and message["createdBy"] == {"email": "owner@example.com"}
    assert message["campaign"] == {"slug": "spring-push"}
    row = first["campaignAccount"]
    assert row["outreachStatus"] == "SENT"
    assert row["campaign"] == {"outreachedAccounts": 1, "respondedAccounts": 0, "responseRate": 0.0}
    assert row["account"]["status"] == "INITIATED"
    assert row["account"]["statusHistory"][0] == {"fromStatus": "NEW", "toStatus": "INITIATED",
                                                  "source": "CONVERSATION"}

    second = await log(gql, setup, text="Following up", channel="LINKEDIN")
    assert second["errors"] == []
    assert second["campaignAccount"]["campaign"]["outreachedAccounts"] == 1  # counted once
    assert len(second["campaignAccount"]["account"]["statusHistory"]) == 2  # no second promotion


async def test_inbound_moves_to_responded_counts_once_and_promotes_to_engaged(gql, setup: Setup) -> None:
    await log(gql, setup, text="Hello")
    reply = await log(gql, setup, text="Interested!", direction="INBOUND")
    assert reply["errors"] == []
    assert reply["message"]["mode"] == "PASTE_INBOUND"
    row = reply["campaignAccount"]
    assert row["outreachStatus"] == "RESPONDED"
    assert row["campaign"] == {"outreachedAccounts": 1, "respondedAccounts": 1, "responseRate": 1.0}
    assert row["account"]["status"] == "ENGAGED"
    assert row["account"]["statusHistory"][0] == {"fromStatus": "INITIATED", "toStatus": "ENGAGED",
                                                  "source": "CONVERSATION"}
    again = await log(gql, setup, text="Also, call me", direction="INBOUND")
    assert again["campaignAccount"]["campaign"]["respondedAccounts"] == 1
    # a later outbound never moves the row back from RESPONDED
    after = await log(gql, setup, text="Sure")
    assert after["campaignAccount"]["outreachStatus"] == "RESPONDED"
    assert after["campaignAccount"]["account"]["status"] == "ENGAGED"


OUTBOUND_PROMOTES = {AccountStatus.NEW: AccountStatus.INITIATED}
INBOUND_PROMOTES = {AccountStatus.NEW: AccountStatus.ENGAGED, AccountStatus.INITIATED: AccountStatus.ENGAGED}


@pytest.mark.parametrize("status", list(AccountStatus), ids=lambda s: s.value)
@pytest.mark.parametrize("direction", ["OUTBOUND", "INBOUND"])
async def test_promotion_for_every_account_status(gql, setup: Setup, status: AccountStatus, direction: str) -> None:
    """Only NEW → INITIATED on a sent outbound, only NEW/INITIATED → ENGAGED on an inbound; every other status
    is left alone (and a do_not_contact account refuses a sent outbound)."""
    await models.Account.filter(id=setup.account.id).update(status=status)
    history = await models.AccountStatusChange.filter(account_id=setup.account.id).count()
    result = await log(gql, setup, text="Hi", direction=direction)
    promotes = OUTBOUND_PROMOTES if direction == "OUTBOUND" else INBOUND_PROMOTES
    if direction == "OUTBOUND" and status is AccountStatus.DO_NOT_CONTACT:
        assert [e["code"] for e in result["errors"]] == ["INVALID"]
    else:
        assert result["errors"] == []
    expected = promotes.get(status, status)
    account = await models.Account.get(id=setup.account.id)
    assert account.status is expected
    changes = await models.AccountStatusChange.filter(account_id=setup.account.id).order_by("id")
    if status in promotes:
        assert len(changes) == history + 1
        assert (changes[-1].from_status, changes[-1].to_status, changes[-1].source) == (
            status, expected, StatusSource.CONVERSATION)
    else:
        assert len(changes) == history


async def test_promotion_never_touches_relationship_or_advanced_statuses(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(status=AccountStatus.PARTNER)
    result = await log(gql, setup, text="Hi partner")
    assert result["campaignAccount"]["account"]["status"] == "PARTNER"
    result = await log(gql, setup, text="Reply", direction="INBOUND")
    assert result["campaignAccount"]["account"]["status"] == "PARTNER"
    assert result["campaignAccount"]["outreachStatus"] == "RESPONDED"

    await models.Account.filter(id=setup.account.id).update(status=AccountStatus.QUALIFIED)
    result = await log(gql, setup, text="Reply again", direction="INBOUND")
    assert result["campaignAccount"]["account"]["status"] == "QUALIFIED"


async def test_drafts_move_nothing(gql, setup: Setup) -> None:
    before = await models.Campaign.get(id=setup.campaign.id)
    result = await log(gql, setup, text="Draft text", status="DRAFT")
    assert result["errors"] == []
    assert result["message"]["status"] == "DRAFT" and result["message"]["sentAt"] is None
    assert result["message"]["mode"] == "TYPE_AND_TRANSLATE"
    assert result["campaignAccount"]["outreachStatus"] == "NOT_STARTED"
    assert result["campaignAccount"]["account"]["status"] == "NEW"
    after = await models.Campaign.get(id=setup.campaign.id)
    assert after.outreached_accounts == before.outreached_accounts == 0
    assert not await models.AccountStatusChange.filter(account_id=setup.account.id,
                                                       source=StatusSource.CONVERSATION).exists()


async def test_sent_outbound_to_do_not_contact_account_is_refused_and_nothing_written(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(status=AccountStatus.DO_NOT_CONTACT)
    before = await snapshot(setup.project.id)
    messages_before = await models.Message.all().count()
    result = await log(gql, setup, text="Hello", idempotencyKey="dnc-1")
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.campaignAccountId")]
    assert "do_not_contact" in result["errors"][0]["message"]
    assert await snapshot(setup.project.id) == before
    assert await models.Message.all().count() == messages_before
    # an inbound from them is still logged (they wrote to us), and a draft is allowed
    inbound = await log(gql, setup, text="Please call us", direction="INBOUND")
    assert inbound["errors"] == []
    assert inbound["message"]["direction"] == "INBOUND" and inbound["message"]["originalText"] == "Please call us"
    assert inbound["campaignAccount"]["outreachStatus"] == "RESPONDED"
    assert inbound["campaignAccount"]["account"]["status"] == "DO_NOT_CONTACT"  # protection is never promoted
    assert await models.Message.filter(campaign_account_id=setup.row.id, direction="inbound").count() == 1
    assert (await log(gql, setup, text="Draft", status="DRAFT"))["errors"] == []


async def test_sent_outbound_to_do_not_contact_contact_is_refused(gql, setup: Setup) -> None:
    await models.Contact.filter(id=setup.contact.id).update(do_not_contact=True)
    before = await snapshot(setup.project.id)
    result = await log(gql, setup, text="Hello", contactId=global_id("Contact", setup.contact.id))
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.contactId")]
    assert "do not contact" in result["errors"][0]["message"]
    assert await snapshot(setup.project.id) == before
    assert not await models.Message.exists()


async def test_the_campaign_accounts_contact_is_the_default_and_checked_for_dnc(gql, setup: Setup) -> None:
    await models.CampaignAccount.filter(id=setup.row.id).update(contact_id=setup.contact.id)
    await models.Contact.filter(id=setup.contact.id).update(do_not_contact=True)
    before = await snapshot(setup.project.id)
    result = await log(gql, setup, text="Hello")
    assert result["message"] is None
    assert [e["field"] for e in result["errors"]] == ["input.contactId"]
    assert await snapshot(setup.project.id) == before
    assert not await models.Message.exists()
    assert (await models.CampaignAccount.get(id=setup.row.id)).outreach_status.value == "not_started"


async def test_idempotent_retry_returns_the_first_message_and_counts_nothing_twice(gql, setup: Setup) -> None:
    first = await log(gql, setup, text="Hello", idempotencyKey="req-42")
    retry = await log(gql, setup, text="Hello", idempotencyKey="req-42")
    assert first["replayed"] is False and retry["replayed"] is True
    assert retry["message"]["id"] == first["message"]["id"]
    assert retry["campaignAccount"]["campaign"]["outreachedAccounts"] == 1
    assert await models.Message.all().count() == 1
    assert await models.AccountStatusChange.filter(account_id=setup.account.id).count() == 2  # created + promoted
    reply = await log(gql, setup, text="Yes", direction="INBOUND", idempotencyKey="in-1")
    replay = await log(gql, setup, text="Yes", direction="INBOUND", idempotencyKey="in-1")
    assert replay["replayed"] and replay["message"]["id"] == reply["message"]["id"]
    assert replay["campaignAccount"]["campaign"]["respondedAccounts"] == 1


FIRST_SENT = "2026-01-05T10:00:00+00:00"


@pytest.mark.parametrize("changed", [
    {"contactId": "other"},
    {"contactId": None},
    {"sentAt": "2026-01-06T10:00:00+00:00"},
    {"signals": [{"kind": "budget", "text": "Budget in Q4"}]},
    {"signals": [{"kind": "timing", "text": "Budget in Q3"}]},
    {"signals": []},
    {"translatedText": "Hola"},
    {"translatedLanguage": "nl"},
    {"originalLanguage": "fr"},
    {"text": "Hello again"},
])
async def test_a_retry_with_any_different_value_is_a_conflict(gql, setup: Setup, changed: dict[str, Any]) -> None:
    other = await models.Contact.create(project_id=setup.project.id, account_id=setup.account.id, name="Other One")
    first_fields = {"text": "Hello", "idempotencyKey": "req-7", "contactId": global_id("Contact", setup.contact.id),
                    "sentAt": FIRST_SENT, "signals": [{"kind": "budget", "text": "Budget in Q3"}],
                    "translatedText": "Hallo", "translatedLanguage": "de", "originalLanguage": "en"}
    first = await log(gql, setup, **first_fields)
    assert first["errors"] == []
    same = await log(gql, setup, **first_fields)
    assert same["replayed"] is True and same["message"]["id"] == first["message"]["id"]
    retry = {**first_fields, **changed}
    if changed.get("contactId") == "other":
        retry["contactId"] = global_id("Contact", other.id)
    elif "contactId" in changed:
        del retry["contactId"]  # the campaign account has no contact: the retry names none
    result = await log(gql, setup, **retry)
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert await models.Message.all().count() == 1


async def test_a_retry_without_a_sent_time_replays_a_message_logged_without_one(gql, setup: Setup) -> None:
    first = await log(gql, setup, text="Hello", idempotencyKey="req-8")
    retry = await log(gql, setup, text="Hello", idempotencyKey="req-8")  # "now" has moved on: still the same
    assert retry["replayed"] is True and retry["message"]["id"] == first["message"]["id"]
    assert retry["message"]["sentAt"] == first["message"]["sentAt"]


async def test_a_key_reused_for_another_thread_is_a_conflict(gql, setup: Setup) -> None:
    other = await make_account(setup.owner, setup.project, "Other Co")
    await ca_service.add_accounts(await access_for(setup.owner), registry_with(),
                                  ca_service.AddAccountsToCampaign(setup.campaign.id, [other.id]))
    other_row = await models.CampaignAccount.get(account_id=other.id)
    await log(gql, setup, text="Hello", idempotencyKey="k1")
    result = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", other_row.id),
                                               "text": "Hi", "idempotencyKey": "k1"}}, as_=setup.owner))["logMessage"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert await models.Message.all().count() == 1


@pytest.mark.parametrize(("fields", "expected"), [
    ({"text": ""}, [("INVALID", "input.text")]),
    ({"text": "x", "direction": "INBOUND", "status": "DRAFT"}, [("INVALID", "input.status")]),
    ({"text": "x", "outcome": "NO_ANSWER"}, [("INVALID", "input.outcome")]),
    ({"text": "x", "sentAt": "2999-01-01T00:00:00Z"}, [("INVALID", "input.sentAt")]),
    ({"text": "x", "sentAt": "1990-01-01T00:00:00Z"}, [("INVALID", "input.sentAt")]),
    ({"text": "x", "status": "DRAFT", "sentAt": "2020-01-01T00:00:00Z"}, [("INVALID", "input.sentAt")]),
    ({"channel": "PHONE_CALL"}, [("INVALID", "input.text")]),  # a call needs its notes or its outcome
    ({"text": "x", "originalLanguage": "english"}, [("INVALID", "input.originalLanguage")]),
    ({"text": "x", "translatedText": "y", "translatedLanguage": "klingon"}, [("INVALID", "input.translatedLanguage")]),
    ({"text": "x", "translatedLanguage": "fr"}, [("INVALID", "input.translatedLanguage")]),  # no translation
    ({"text": "x", "mode": "PASTE_INBOUND"}, [("INVALID", "input.mode")]),
    ({"text": "x", "signals": [{"text": f"s{i}"} for i in range(21)]}, [("INVALID", "input.signals")]),
    ({"text": "x", "signals": [{"kind": "horoscope", "text": "Leo"}]}, [("INVALID", "input.signals[0].kind")]),
    ({"text": "x", "signals": [{"kind": "budget", "text": "  "}]}, [("INVALID", "input.signals[0].text")]),
    ({"text": "x", "signals": [{"text": "a"}, {"kind": "budget", "text": "b" * 301}]},
     [("INVALID", "input.signals[1].text")]),
    ({"text": "x", "idempotencyKey": "k" * 101}, [("INVALID", "input.idempotencyKey")]),
    ({"text": "x", "contactId": global_id("Contact", 987654)}, [("NOT_FOUND", "input.contactId")]),
    ({"text": "", "outcome": "BUSY", "channel": "SMS"}, [("INVALID", "input.outcome"), ("INVALID", "input.text")]),
])
async def test_validation_errors_are_payload_errors_and_write_nothing(gql, setup: Setup, fields, expected) -> None:
    before = await snapshot(setup.project.id)
    result = await log(gql, setup, **fields)
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == expected
    assert await snapshot(setup.project.id) == before
    assert not await models.Message.exists()


async def test_a_translation_is_logged_with_its_language(gql, setup: Setup) -> None:
    result = await log(gql, setup, text="Hola", originalLanguage="es", translatedText="Bonjour",
                       translatedLanguage="FR")
    assert result["errors"] == []
    message = result["message"]
    assert (message["originalLanguage"], message["translatedText"], message["translatedLanguage"]) == (
        "es", "Bonjour", "fr")
    assert (await models.Message.get()).translated_language == "fr"


async def test_a_call_is_logged_with_its_outcome_alone(gql, setup: Setup) -> None:
    result = await log(gql, setup, channel="PHONE_CALL", outcome="CONNECTED",
                       signals=[{"kind": "timing", "text": "Budget in Q3"}])
    assert result["errors"] == []
    assert result["message"]["outcome"] == "CONNECTED" and result["message"]["originalText"] == ""
    assert result["campaignAccount"]["outreachStatus"] == "SENT"


def ago(**delta: float) -> str:
    """An ISO timestamp ``delta`` before now (tests never depend on today's date)."""
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def test_threads_per_campaign_account_and_the_inbox(gql, setup: Setup) -> None:
    quiet = await make_account(setup.owner, setup.project, "Quiet Ltd")
    drafted = await make_account(setup.owner, setup.project, "Drafted Inc")
    replied = await make_account(setup.owner, setup.project, "Replied SA")
    late = await make_account(setup.owner, setup.project, "Late Reply AG")
    access = await access_for(setup.owner)
    await ca_service.add_accounts(access, registry_with(),
                                  ca_service.AddAccountsToCampaign(setup.campaign.id,
                                                                   [quiet.id, drafted.id, replied.id, late.id]))
    rows = {r.account_id: r for r in await models.CampaignAccount.filter(campaign_id=setup.campaign.id)}

    async def on(account: models.Account, **fields: Any) -> None:
        gid = global_id("CampaignAccount", rows[account.id].id)
        payload = data_of(await gql(LOG, {"input": {"campaignAccountId": gid, **fields}}, as_=setup.owner))
        assert payload["logMessage"]["errors"] == []

    await on(setup.account, text="Hello Acme")  # sent now, logged first
    await on(setup.account, text="Reply from Acme", direction="INBOUND", sentAt=ago(days=2))  # logged late
    await on(quiet, text="Hello quiet")
    await on(drafted, text="A draft", status="DRAFT")
    await on(replied, text="Hello replied", sentAt=ago(days=1))
    await on(replied, text="Reply from Replied", direction="INBOUND", sentAt=ago(hours=23))
    await on(late, text="Hello late", sentAt=ago(days=3))
    await on(late, text="Reply from Late", direction="INBOUND", sentAt=ago(hours=3))

    data = data_of(await gql(THREAD, {"slug": setup.project.slug}, as_=setup.owner))["project"]["campaign"]
    threads = {e["node"]["account"]["name"]: e["node"] for e in data["accounts"]["edges"]}
    # a thread reads in the order things were said, not the order they were logged
    assert [m["originalText"] for m in threads["Acme"]["messages"]] == ["Reply from Acme", "Hello Acme"]
    assert threads["Acme"]["attention"]["awaitingReply"] is False  # our message was sent after their reply
    assert threads["Replied SA"]["attention"]["awaitingReply"] is True
    assert threads["Drafted Inc"]["attention"]["unsentDrafts"] == 1
    assert threads["Quiet Ltd"]["attention"] == {"unsentDrafts": 0, "awaitingReply": False, "lastInboundAt": None}
    # awaiting our reply (most recent first), then unsent drafts, then answered conversations
    inbox = [e["node"]["account"]["name"] for e in data["inbox"]["edges"]]
    assert inbox == ["Late Reply AG", "Replied SA", "Drafted Inc", "Acme"]
    assert data["inbox"]["totalCount"] == 4


INBOX_PAGE = """
query($slug: String!, $after: String) {
  project(slug: $slug) { campaign(slug: "spring-push") {
    inbox(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { account { name } } } }
  } }
}
"""


async def test_the_inbox_is_paged_in_sql(gql, setup: Setup, count_queries: Any) -> None:
    names = [f"Waiting {n}" for n in range(5)]
    accounts = [await make_account(setup.owner, setup.project, name) for name in names]
    await ca_service.add_accounts(await access_for(setup.owner), registry_with(),
                                  ca_service.AddAccountsToCampaign(setup.campaign.id, [a.id for a in accounts]))
    for n, account in enumerate(accounts):
        row = await models.CampaignAccount.get(campaign_id=setup.campaign.id, account_id=account.id)
        payload = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", row.id),
                                                    "text": "Hi", "direction": "INBOUND",
                                                    "sentAt": ago(hours=10 - n)}}, as_=setup.owner))
        assert payload["logMessage"]["errors"] == []
    seen: list[str] = []
    after = None
    while True:
        with count_queries() as queries:
            page = data_of(await gql(INBOX_PAGE, {"slug": setup.project.slug, "after": after},
                                     as_=setup.owner))["project"]["campaign"]["inbox"]
        assert queries.selects <= 8  # the page's rows, not the whole inbox
        assert page["totalCount"] == 5
        seen += [e["node"]["account"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(names))  # the most recent inbound first


ACCOUNT_THREADS = """
query($id: ID!) {
  node(id: $id) {
    ... on Account { messages(first: 10) { totalCount edges { node { originalText campaign { name } } } } }
  }
}
"""


async def test_account_view_merges_its_threads_across_campaigns(gql, setup: Setup) -> None:
    second = await make_campaign(setup.owner, setup.project, "Autumn push", accounts=[setup.account])
    other_row = await models.CampaignAccount.get(campaign_id=second.id)
    await log(gql, setup, text="Spring hello")
    payload = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", other_row.id),
                                                "text": "Autumn hello", "sentAt": ago(days=3)}}, as_=setup.owner))
    assert payload["logMessage"]["errors"] == []  # logged after, but sent three days before the spring one
    data = data_of(await gql(ACCOUNT_THREADS, {"id": global_id("Account", setup.account.id)}, as_=setup.owner))
    messages = data["node"]["messages"]
    assert messages["totalCount"] == 2
    assert [(e["node"]["originalText"], e["node"]["campaign"]["name"]) for e in messages["edges"]] == [
        ("Spring hello", "Spring push"), ("Autumn hello", "Autumn push")]


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_messages_of_another_project_are_invisible(gql, setup: Setup, make_user: Any) -> None:
    own = (await log(gql, setup, text="Hello"))["message"]["id"]
    stranger = await make_user("stranger@example.com")
    assert data_of(await gql(NODE, {"id": own}, as_=setup.owner)) == {"node": {"__typename": "Message", "id": own}}
    assert data_of(await gql(NODE, {"id": own}, as_=stranger)) == {"node": None}
    assert data_of(await gql(NODE, {"id": global_id("Message", 987654)}, as_=setup.owner)) == {"node": None}
    # the stranger cannot log on the thread either, exactly as on a missing one
    foreign = data_of(await gql(LOG, {"input": {"campaignAccountId": setup.ca_gid, "text": "x"}}, as_=stranger))
    missing = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", 987654),
                                                "text": "x"}}, as_=stranger))
    assert foreign == missing
    assert foreign["logMessage"]["errors"] == [{"code": "NOT_FOUND", "field": "input.campaignAccountId",
                                                "message": "CampaignAccount not found."}]


# --- sending and discarding drafts ---------------------------------------------------------------

DISCARD = """
mutation($input: DiscardDraftInput!) {
  discardDraft(input: $input) {
    deletedMessageId
    campaignAccount { outreachStatus attention { unsentDrafts } }
    errors { code field message }
  }
}
"""


async def discard(gql: Any, s: Setup, message_id: str) -> dict[str, Any]:
    return data_of(await gql(DISCARD, {"input": {"messageId": message_id}}, as_=s.owner))["discardDraft"]


async def inbox_of(gql: Any, s: Setup) -> dict[str, Any]:
    data = data_of(await gql(THREAD, {"slug": s.project.slug}, as_=s.owner))["project"]["campaign"]
    return {"inbox": [e["node"]["account"]["name"] for e in data["inbox"]["edges"]],
            "drafts": {e["node"]["account"]["name"]: e["node"]["attention"]["unsentDrafts"]
                       for e in data["accounts"]["edges"]}}


async def test_logging_a_draft_as_sent_turns_it_into_the_message(gql, setup: Setup) -> None:
    draft = (await log(gql, setup, text="Draft text", status="DRAFT", mode="AI_DRAFT"))["message"]
    assert await inbox_of(gql, setup) == {"inbox": ["Acme"], "drafts": {"Acme": 1}}

    sent = await log(gql, setup, draftId=draft["id"], text="Final text", subject="Hi", idempotencyKey="send-1",
                     contactId=global_id("Contact", setup.contact.id))
    assert sent["errors"] == [] and sent["replayed"] is False
    message = sent["message"]
    assert message["id"] == draft["id"]  # the draft became the message: no second one
    assert message["status"] == "SENT" and message["sentAt"] is not None
    assert message["originalText"] == "Final text" and message["subject"] == "Hi"
    assert message["mode"] == "AI_DRAFT"  # how it was written is kept
    assert message["contact"] == {"name": "Acme Person"}
    assert sent["campaignAccount"]["outreachStatus"] == "SENT"
    assert sent["campaignAccount"]["campaign"]["outreachedAccounts"] == 1
    assert sent["campaignAccount"]["account"]["status"] == "INITIATED"
    assert await models.Message.all().count() == 1
    events = await models.AuditEvent.filter(object_type="Message", action="message.log").order_by("id")
    assert [e.after["status"] for e in events] == ["draft", "sent"]  # logged as a draft, then sent
    # the thread has no unsent draft any more, and the inbox no longer lists it (nothing awaits anyone)
    assert await inbox_of(gql, setup) == {"inbox": [], "drafts": {"Acme": 0}}

    retry = await log(gql, setup, draftId=draft["id"], text="Final text", subject="Hi", idempotencyKey="send-1",
                      contactId=global_id("Contact", setup.contact.id))
    assert retry["replayed"] is True and retry["message"]["id"] == draft["id"]
    assert retry["campaignAccount"]["campaign"]["outreachedAccounts"] == 1
    again = await log(gql, setup, draftId=draft["id"], text="Final text")  # no key: it is no draft any more
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID", "input.draftId")]
    assert await models.Message.all().count() == 1


async def test_a_draft_of_another_thread_is_not_found_and_a_sent_message_is_invalid(gql, setup: Setup) -> None:
    other = await make_account(setup.owner, setup.project, "Other Co")
    await ca_service.add_accounts(await access_for(setup.owner), registry_with(),
                                  ca_service.AddAccountsToCampaign(setup.campaign.id, [other.id]))
    other_row = await models.CampaignAccount.get(account_id=other.id)
    payload = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", other_row.id),
                                                "text": "Their draft", "status": "DRAFT"}}, as_=setup.owner))
    their_draft = payload["logMessage"]["message"]["id"]
    sent = (await log(gql, setup, text="Sent already"))["message"]["id"]
    before = await snapshot(setup.project.id)

    foreign = await log(gql, setup, draftId=their_draft, text="Hello")
    assert foreign["message"] is None
    assert foreign["errors"] == [{"code": "NOT_FOUND", "field": "input.draftId", "message": "Message not found."}]
    not_a_draft = await log(gql, setup, draftId=sent, text="Hello")
    assert [(e["code"], e["field"]) for e in not_a_draft["errors"]] == [("INVALID", "input.draftId")]
    inbound = (await log(gql, setup, text="Their reply", direction="INBOUND"))["message"]["id"]
    before = await snapshot(setup.project.id)
    not_a_draft = await log(gql, setup, draftId=inbound, text="Hello")
    assert [(e["code"], e["field"]) for e in not_a_draft["errors"]] == [("INVALID", "input.draftId")]
    assert await snapshot(setup.project.id) == before


async def test_a_draft_to_a_do_not_contact_account_is_not_sent(gql, setup: Setup) -> None:
    draft = (await log(gql, setup, text="Draft text", status="DRAFT"))["message"]
    await models.Account.filter(id=setup.account.id).update(status=AccountStatus.DO_NOT_CONTACT)
    before = await snapshot(setup.project.id)
    result = await log(gql, setup, draftId=draft["id"], text="Draft text")
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.campaignAccountId")]
    assert await snapshot(setup.project.id) == before
    assert (await models.Message.get()).status.value == "draft"


async def test_discard_draft_deletes_it_audited_and_the_inbox_forgets_it(gql, setup: Setup) -> None:
    draft = (await log(gql, setup, text="Draft text", status="DRAFT"))["message"]
    sent = (await log(gql, setup, text="Sent"))["message"]
    assert (await inbox_of(gql, setup))["inbox"] == ["Acme"]

    refused = await discard(gql, setup, sent["id"])
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "input.messageId")]
    assert await models.Message.all().count() == 2

    result = await discard(gql, setup, draft["id"])
    assert result["errors"] == [] and result["deletedMessageId"] == draft["id"]
    assert result["campaignAccount"] == {"outreachStatus": "SENT", "attention": {"unsentDrafts": 0}}
    assert await models.Message.all().count() == 1
    event = await models.AuditEvent.get(object_type="Message", action="message.discard")
    assert event.before["original_text"] == "Draft text"
    assert await inbox_of(gql, setup) == {"inbox": [], "drafts": {"Acme": 0}}

    gone = await discard(gql, setup, draft["id"])
    assert gone["errors"] == [{"code": "NOT_FOUND", "field": "input.messageId", "message": "Message not found."}]


async def test_an_inbound_on_a_row_never_contacted_counts_it_outreached_and_responded(gql, setup: Setup) -> None:
    result = await log(gql, setup, text="We heard about you", direction="INBOUND")
    assert result["errors"] == []
    row = result["campaignAccount"]
    assert row["outreachStatus"] == "RESPONDED"
    assert row["campaign"] == {"outreachedAccounts": 1, "respondedAccounts": 1, "responseRate": 1.0}
    assert row["account"]["status"] == "ENGAGED"
