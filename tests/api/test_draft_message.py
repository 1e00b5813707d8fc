"""draftMessage: template drafts in the resolved language (account → campaign → product → user → en), the
next message of a thread, drafts move nothing, idempotent retries, and type-and-translate without an LLM."""

from __future__ import annotations

import types
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import OutreachStatus
from outboundql.goals import Criterion, Goal, RegisterGoal, hookimpl
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.settings import Settings
from tests.api._authz import snapshot
from tests.api.test_log_message import LOG, Setup, log, make_account
from tests.api.test_log_message import setup as setup
from tests.helpers import Person, access_for, data_of, global_id

DRAFT = """
mutation($input: DraftMessageInput!) {
  draftMessage(input: $input) {
    message { id direction status mode channel subject originalText originalLanguage translatedText
              translatedLanguage contact { name } }
    language requestedLanguage drafter notice replayed
    errors { code field message }
  }
}
"""


async def draft(gql: Any, s: Setup, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"campaignAccountId": s.ca_gid, **fields}}
    return data_of(await gql(DRAFT, variables, as_=s.owner))["draftMessage"]


async def test_first_draft_in_english_by_default(gql, setup: Setup) -> None:
    await models.CampaignAccount.filter(id=setup.row.id).update(contact_id=setup.contact.id)
    persona = await models.Persona.get(product_id=setup.campaign.product_id, goal_key="sales")
    persona.pain_points = ["manual route planning"]
    await persona.save()
    before = await models.Campaign.get(id=setup.campaign.id)

    result = await draft(gql, setup)
    assert result["errors"] == []
    message = result["message"]
    assert (message["direction"], message["status"], message["mode"]) == ("OUTBOUND", "DRAFT", "AI_DRAFT")
    assert result["language"] == result["requestedLanguage"] == "en" and result["drafter"] == "template"
    assert result["notice"] is None and message["originalLanguage"] == "en"
    assert message["subject"] == "Widget for Acme"
    text = message["originalText"]
    assert text.startswith("Hello Acme,")  # the contact's first name ("Acme Person")
    assert "teams like Acme often lose time on work that Widget takes off their hands" in text
    assert "Many teams we talk to mention manual route planning." in text
    assert "Would you have 20 minutes next week for a short call?" in text
    assert text.endswith("Best regards,\nOlivia Owner")
    assert message["contact"] == {"name": "Acme Person"}

    # drafts move nothing
    row = await models.CampaignAccount.get(id=setup.row.id)
    assert row.outreach_status is OutreachStatus.NOT_STARTED
    after = await models.Campaign.get(id=setup.campaign.id)
    assert after.outreached_accounts == before.outreached_accounts == 0
    assert (await models.Account.get(id=setup.account.id)).status.value == "new"


@pytest.mark.parametrize(("where", "language", "expected"), [
    ("account", "es", "Hola Acme:"),
    ("campaign", "fr", "Bonjour Acme,"),
    ("product", "de", "Hallo Acme,"),
    ("user", "ca", "Hola Acme,"),
])
async def test_language_resolution_order(gql, setup: Setup, where: str, language: str, expected: str) -> None:
    await models.CampaignAccount.filter(id=setup.row.id).update(contact_id=setup.contact.id)
    # lower levels set to something else, to prove the higher level wins
    await models.User.filter(id=setup.owner.user.id).update(language="it" if where != "user" else language)
    if where in ("account", "campaign", "product"):
        await models.Product.filter(id=setup.campaign.product_id).update(
            communication_language=language if where == "product" else "pt")
    if where in ("account", "campaign"):
        await models.Campaign.filter(id=setup.campaign.id).update(
            communication_language=language if where == "campaign" else "nl")
    if where == "account":
        await models.Account.filter(id=setup.account.id).update(language=language)
    result = await draft(gql, setup)
    assert result["errors"] == []
    assert result["language"] == language and result["message"]["originalLanguage"] == language
    assert result["message"]["originalText"].startswith(expected)


async def test_a_language_without_a_catalog_is_drafted_in_english_and_says_so(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(language="ja")
    result = await draft(gql, setup)
    assert result["requestedLanguage"] == "ja" and result["language"] == "en"
    assert "no catalog for 'ja'" in result["notice"]
    assert (await draft(gql, setup, language="es"))["message"]["originalText"].startswith("Hola:")


async def test_each_goal_drafts_its_own_intent(gql, setup: Setup) -> None:
    await models.Campaign.filter(id=setup.campaign.id).update(goal_key="press")
    text = (await draft(gql, setup, language="fr"))["message"]["originalText"]
    assert "intéresserait les lecteurs de Acme" in text
    assert "Seriez-vous intéressé pour en parler ?" in text


async def test_continue_needs_a_thread_and_answers_a_reply(gql, setup: Setup) -> None:
    before = await snapshot(setup.project.id)
    refused = await draft(gql, setup, mode="AI_CONTINUE")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "input.mode")]
    assert refused["message"] is None and await snapshot(setup.project.id) == before

    await log(gql, setup, text="Hello", subject="Routes")
    follow_up = await draft(gql, setup, mode="AI_CONTINUE", language="de")
    assert follow_up["message"]["mode"] == "AI_CONTINUE" and follow_up["message"]["subject"] == "Re: Routes"
    assert "Ich wollte an meine letzte Nachricht zu Widget anknüpfen." in follow_up["message"]["originalText"]

    await log(gql, setup, text="Tell me more", direction="INBOUND")
    answer = await draft(gql, setup, mode="AI_CONTINUE", channel="LINKEDIN")
    assert answer["message"]["subject"] is None  # no subject line off e-mail
    assert "Thank you for your reply." in answer["message"]["originalText"]


async def test_drafts_show_in_the_inbox_and_a_retry_is_idempotent(gql, setup: Setup) -> None:
    first = await draft(gql, setup, idempotencyKey="d-1")
    retry = await draft(gql, setup, idempotencyKey="d-1")
    assert retry["replayed"] is True and retry["message"]["id"] == first["message"]["id"]
    assert await models.Message.all().count() == 1
    query = """query($slug: String!) { project(slug: $slug) { campaign(slug: "spring-push") {
      inbox { totalCount edges { node { attention { unsentDrafts } } } } } } }"""
    inbox = data_of(await gql(query, {"slug": setup.project.slug}, as_=setup.owner))["project"]["campaign"]["inbox"]
    assert inbox == {"totalCount": 1, "edges": [{"node": {"attention": {"unsentDrafts": 1}}}]}


async def test_type_and_translate_without_an_llm_says_unavailable_and_writes_nothing(gql, setup: Setup) -> None:
    before = await snapshot(setup.project.id)
    result = await draft(gql, setup, mode="TYPE_AND_TRANSLATE", text="Hola, ¿hablamos?", language="fr")
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("UNAVAILABLE", "input.mode")]
    assert "Translation is unavailable" in result["errors"][0]["message"]
    assert await snapshot(setup.project.id) == before
    missing = await draft(gql, setup, mode="TYPE_AND_TRANSLATE")
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("INVALID", "input.text")]


@pytest.mark.parametrize(("fields", "expected"), [
    ({"language": "klingon"}, [("INVALID", "input.language")]),
    ({"contactId": global_id("Contact", 987654)}, [("NOT_FOUND", "input.contactId")]),
    ({"idempotencyKey": "x" * 101}, [("INVALID", "input.idempotencyKey")]),
    ({"mode": "TYPE_AND_TRANSLATE", "text": "Hi", "subject": "s" * 501}, [("INVALID", "input.subject")]),
])
async def test_invalid_drafts_write_nothing(gql, setup: Setup, fields, expected) -> None:
    before = await snapshot(setup.project.id)
    result = await draft(gql, setup, **fields)
    assert [(e["code"], e["field"]) for e in result["errors"]] == expected
    assert await snapshot(setup.project.id) == before


async def test_a_draft_is_logged_as_sent_with_log_message(gql, setup: Setup) -> None:
    text = (await draft(gql, setup))["message"]["originalText"]
    sent = data_of(await gql(LOG, {"input": {"campaignAccountId": setup.ca_gid, "text": text,
                                             "mode": "AI_DRAFT"}}, as_=setup.owner))["logMessage"]
    assert sent["errors"] == [] and sent["campaignAccount"]["outreachStatus"] == "SENT"


async def test_drafting_for_a_do_not_contact_account_warns(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(status="do_not_contact")
    result = await draft(gql, setup)
    assert result["errors"] == [] and result["message"]["status"] == "DRAFT"
    assert "Acme is marked do_not_contact: this draft cannot be logged as sent." in result["notice"]


async def test_a_key_reused_for_a_different_message_is_a_conflict_and_writes_nothing(gql, setup: Setup) -> None:
    first = await draft(gql, setup, idempotencyKey="k-1")
    assert first["errors"] == []
    before = await snapshot(setup.project.id)
    sent = await log(gql, setup, text="Hello, sent for real", idempotencyKey="k-1")
    assert sent["message"] is None and sent["replayed"] is False
    assert [(e["code"], e["field"]) for e in sent["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert "already used for a different message" in sent["errors"][0]["message"]
    other_channel = await draft(gql, setup, idempotencyKey="k-1", channel="LINKEDIN")
    assert [(e["code"], e["field"]) for e in other_channel["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert await snapshot(setup.project.id) == before
    assert await models.Message.all().count() == 1
    # the same request again is still a replay
    assert (await draft(gql, setup, idempotencyKey="k-1"))["replayed"] is True


async def test_a_logged_key_reused_with_other_content_is_a_conflict(gql, setup: Setup) -> None:
    first = await log(gql, setup, text="Hello", idempotencyKey="l-1")
    assert first["errors"] == []
    for change in ({"text": "Hello again"}, {"text": "Hello", "channel": "SMS"},
                   {"text": "Hello", "status": "DRAFT"}, {"text": "Hello", "direction": "INBOUND"}):
        result = await log(gql, setup, idempotencyKey="l-1", **change)
        assert [(e["code"], e["field"]) for e in result["errors"]] == [("CONFLICT", "input.idempotencyKey")], change
    translated = await draft(gql, setup, idempotencyKey="l-1", mode="TYPE_AND_TRANSLATE", text="Hello")
    assert [e["code"] for e in translated["errors"]] == ["CONFLICT"]
    assert await models.Message.all().count() == 1
    assert (await log(gql, setup, text="Hello", idempotencyKey="l-1"))["replayed"] is True


async def test_ai_continue_sees_the_whole_thread(gql, setup: Setup) -> None:
    """A reply followed by more than ten drafts is still a conversation to continue (and it answers the reply)."""
    assert (await log(gql, setup, text="Hello", subject="Routes"))["errors"] == []
    assert (await log(gql, setup, text="Tell me more", direction="INBOUND"))["errors"] == []
    for n in range(12):
        assert (await log(gql, setup, text=f"Unsent idea {n}", status="DRAFT"))["errors"] == []
    answer = await draft(gql, setup, mode="AI_CONTINUE")
    assert answer["errors"] == []
    assert answer["message"]["subject"] == "Re: Routes"
    assert "Thank you for your reply." in answer["message"]["originalText"]


WEBINAR = Goal(key="webinar", label="Webinar speaker", description="Invite speakers to our webinars.",
               rubric=(Criterion("topic_fit", 1.0, "industry"),),
               message_intent="Invite them to speak at our spring webinar on delivery routes.")


def webinar_plugin() -> types.ModuleType:
    module = types.ModuleType("outboundql_goal_webinar")

    @hookimpl
    def outboundql_register_goals(register: RegisterGoal) -> None:
        register(WEBINAR)

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    return module


async def test_a_plugin_goal_without_templates_drafts_from_its_message_intent(
    db: Any, settings: Settings, owner: Person, project: models.Project
) -> None:
    registry = registry_with(webinar_plugin())
    access = await access_for(owner)
    account = await make_account(owner, project, "Acme")
    product = (await products_service.create_product(
        access, products_service.CreateProduct(project_id=project.id, name="Widget"))).product
    campaign = (await campaigns_service.create_campaign(access, registry, campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Speakers", goal="webinar"))).campaign
    await ca_service.add_accounts(access, registry, ca_service.AddAccountsToCampaign(campaign.id, [account.id]))
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=account.id)
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for language, purpose in (("en", "The purpose of my message: invite them to speak at our spring webinar on "
                                         "delivery routes."),
                                  ("es", "El motivo de mi mensaje: invite them to speak at our spring webinar on "
                                         "delivery routes.")):
            response = await client.post("/graphql", headers=owner.headers, json={"query": DRAFT, "variables": {
                "input": {"campaignAccountId": global_id("CampaignAccount", row.id), "language": language}}})
            result = data_of(response.json())["draftMessage"]
            assert result["errors"] == [] and result["drafter"] == "template"
            assert purpose in result["message"]["originalText"], result["message"]["originalText"]
