"""draftMessage with an LLM configured (the fake OpenAI-compatible server): LLM drafts in any language with
ApiUsage rows (operation draft), type-and-translate (operation translate), and the fallbacks when it fails."""

from __future__ import annotations

from decimal import Decimal

import pytest

from outboundql import models
from outboundql.enums import UsageOperation
from outboundql.settings import Settings
from tests.api._authz import snapshot
from tests.api.test_draft_message import draft
from tests.api.test_log_message import Setup, log
from tests.api.test_log_message import setup as setup
from tests.fakes.openai_server import FakeOpenAI, answer, status
from tests.fakes.openai_server import openai_server as openai_server
from tests.helpers import data_of, global_id

COSTS = """
query($slug: String!) { project(slug: $slug) { campaign(slug: "spring-push") {
  costs { apiUsage { calls costUsd byModel { provider model calls inputUnits outputUnits costUsd } } } } } }
"""

ACCOUNT_USAGE = """query($id: ID!) { node(id: $id) { ... on Account { apiUsage { costUsd calls } } } }"""


@pytest.fixture
def settings(openai_server: FakeOpenAI) -> Settings:
    return openai_server.settings(llm_max_attempts=1)


async def test_llm_draft_in_any_language_records_usage(gql, setup: Setup, openai_server: FakeOpenAI) -> None:
    await models.Account.filter(id=setup.account.id).update(language="ja")
    openai_server.enqueue(answer({"subject": "件名", "text": "こんにちは、Acme の皆さま。"}))
    result = await draft(gql, setup)
    assert result["errors"] == []
    assert result["drafter"] == "llm" and result["language"] == result["requestedLanguage"] == "ja"
    assert result["notice"] is None
    assert result["message"]["originalText"] == "こんにちは、Acme の皆さま。"
    assert result["message"]["subject"] == "件名" and result["message"]["status"] == "DRAFT"
    prompt = openai_server.requests[-1].prompt
    assert '"language": "ja"' in prompt and "Acme" in prompt and "Widget" in prompt
    assert "Open a sales conversation" in prompt  # the goal's message intent
    usage = await models.ApiUsage.get(campaign_id=setup.campaign.id)
    assert usage.operation is UsageOperation.DRAFT and usage.account_id == setup.account.id
    assert (usage.input_units, usage.output_units, usage.model) == (1000, 200, "gpt-4o-mini")
    assert usage.cost_usd == Decimal("0.00027")  # 1000 × $0.15/M + 200 × $0.60/M

    costs = data_of(await gql(COSTS, {"slug": setup.project.slug}, as_=setup.owner))
    usage_summary = costs["project"]["campaign"]["costs"]["apiUsage"]
    assert usage_summary["calls"] == 1 and Decimal(usage_summary["costUsd"]) == Decimal("0.00027")
    assert usage_summary["byModel"][0]["model"] == "gpt-4o-mini"
    # a draft is about one account: the account pays the whole call
    account = data_of(await gql(ACCOUNT_USAGE, {"id": global_id("Account", setup.account.id)}, as_=setup.owner))
    assert account["node"]["apiUsage"] == {"costUsd": "0.000270", "calls": 1}


async def test_llm_failure_falls_back_to_the_templates_and_says_so(gql, setup: Setup,
                                                                   openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(status(503))
    result = await draft(gql, setup, language="fr")
    assert result["errors"] == []
    assert result["drafter"] == "template" and result["language"] == "fr"
    assert "LLM could not draft" in result["notice"]
    assert result["message"]["originalText"].startswith("Bonjour,")


async def test_type_and_translate_with_the_llm(gql, setup: Setup, openai_server: FakeOpenAI) -> None:
    await models.User.filter(id=setup.owner.user.id).update(language="es")
    await models.Campaign.filter(id=setup.campaign.id).update(communication_language="fr")
    openai_server.enqueue(answer({"text": "Bonjour, on en parle ?"}))
    result = await draft(gql, setup, mode="TYPE_AND_TRANSLATE", text="Hola, ¿hablamos?", subject="Hola")
    assert result["errors"] == []
    message = result["message"]
    assert message["mode"] == "TYPE_AND_TRANSLATE" and message["status"] == "DRAFT"
    assert message["originalText"] == "Hola, ¿hablamos?" and message["originalLanguage"] == "es"
    assert message["translatedText"] == "Bonjour, on en parle ?" and result["language"] == "fr"
    assert message["translatedLanguage"] == "fr"  # the target language is kept with the translation
    assert '"target": "fr"' in openai_server.requests[-1].prompt
    usage = await models.ApiUsage.get(campaign_id=setup.campaign.id)
    assert usage.operation is UsageOperation.TRANSLATE


async def test_translation_failure_is_unavailable_and_saves_no_message(gql, setup: Setup,
                                                                       openai_server: FakeOpenAI) -> None:
    before = await snapshot(setup.project.id)
    openai_server.enqueue(status(500))
    result = await draft(gql, setup, mode="TYPE_AND_TRANSLATE", text="Hello there")
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("UNAVAILABLE", "input.mode")]
    assert "Translation failed" in result["errors"][0]["message"]
    assert await snapshot(setup.project.id) == before


async def test_llm_failure_in_a_language_without_a_catalog_does_not_ask_to_configure_an_llm(
    gql, setup: Setup, openai_server: FakeOpenAI
) -> None:
    await models.Account.filter(id=setup.account.id).update(language="ja")
    openai_server.enqueue(status(503))
    result = await draft(gql, setup)
    assert result["errors"] == []
    assert result["drafter"] == "template" and result["language"] == "en" and result["requestedLanguage"] == "ja"
    assert "LLM could not draft" in result["notice"] and "English" in result["notice"]
    assert "configure an LLM" not in result["notice"]


async def test_billed_usage_survives_a_failed_draft_insert(gql, setup: Setup, openai_server: FakeOpenAI,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A concurrent request takes the idempotency key between the replay check and the insert: the draft's
    insert fails on the duplicate key (CONFLICT, no draft saved), but the LLM call was billed and stays recorded."""
    from outboundql.services import drafts

    assert (await log(gql, setup, text="Logged first", idempotencyKey="dup"))["errors"] == []
    real_replay = drafts.replay
    calls = []

    async def replay_missing_the_race(*args, **kwargs):
        calls.append(kwargs.get("action"))
        if len(calls) == 1:
            return None  # the check ran before the other request committed
        return await real_replay(*args, **kwargs)

    monkeypatch.setattr(drafts, "replay", replay_missing_the_race)
    openai_server.enqueue(answer({"subject": "Hi", "text": "Hello from the LLM"}))
    result = await draft(gql, setup, idempotencyKey="dup")
    assert result["message"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CONFLICT", "input.idempotencyKey")]
    assert await models.Message.filter(campaign_account_id=setup.row.id).count() == 1
    usage = await models.ApiUsage.get(campaign_id=setup.campaign.id)
    assert usage.operation is UsageOperation.DRAFT and usage.cost_usd == Decimal("0.00027")


async def test_a_replayed_translation_answers_its_target_language(gql, setup: Setup,
                                                                 openai_server: FakeOpenAI) -> None:
    await models.User.filter(id=setup.owner.user.id).update(language="es")
    openai_server.enqueue(answer({"text": "Hallo, sprechen wir?"}))
    first = await draft(gql, setup, mode="TYPE_AND_TRANSLATE", text="Hola, ¿hablamos?", language="de",
                        idempotencyKey="tt-1")
    assert first["errors"] == [] and first["language"] == "de"
    retry = await draft(gql, setup, mode="TYPE_AND_TRANSLATE", text="Hola, ¿hablamos?", language="de",
                        idempotencyKey="tt-1")
    assert retry["replayed"] is True and retry["message"]["id"] == first["message"]["id"]
    assert retry["language"] == retry["requestedLanguage"] == "de"  # not the source language (es)
    assert retry["message"]["translatedLanguage"] == "de"
    assert len(openai_server.requests) == 1
