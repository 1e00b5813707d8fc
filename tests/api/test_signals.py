"""Signals: kinds declared by goals, a person's signals confirmed as given, a language model's proposed (against
the fake OpenAI-compatible server) until a person confirms or dismisses them, and the roll-ups by kind per
campaign and per market that count confirmed ones only."""

from __future__ import annotations

from typing import Any

import pytest
from dramatiq import Message
from strawberry import relay

from outboundql import models
from outboundql.enums import SignalStatus, UsageOperation
from outboundql.goals import Criterion, Goal, GoalRegistrationError, SignalKind
from outboundql.goals.registry import validate_goal
from outboundql.gql.base import pk_or_none
from outboundql.services import signal_proposals
from outboundql.settings import Settings
from tests.api.test_log_message import Setup
from tests.api.test_log_message import setup as setup  # the fixture
from tests.fakes.openai_server import FakeOpenAI, answer, status
from tests.fakes.openai_server import openai_server as openai_server
from tests.helpers import data_of, global_id

LOG = """
mutation($input: LogMessageInput!) {
  logMessage(input: $input) {
    message { id signals { id kind text status source decidedAt decidedBy { email } message { id } } }
    errors { code field message }
  }
}
"""

MESSAGE = """
query($id: ID!) { node(id: $id) { ... on Message { signals { id kind text status source } } } }
"""

SUMMARY = """
query($campaign: ID!, $market: ID!) {
  campaign: node(id: $campaign) { ... on Campaign { signalSummary { kind count } } }
  market: node(id: $market) { ... on Market { signalSummary { kind count } } }
}
"""

DECIDE = """
mutation($confirm: DecideSignalsInput!, $dismiss: DecideSignalsInput!) {
  confirmSignals(input: $confirm) { signals { id status decidedBy { email } } errors { code field message } }
  dismissSignals(input: $dismiss) { signals { id status } errors { code field message } }
}
"""

GOALS = """{ goals { key signalKinds { key label description } } }"""


@pytest.fixture
def settings(openai_server: FakeOpenAI) -> Settings:
    return openai_server.settings(llm_max_attempts=1)


async def _rules_classify(s: Setup) -> None:
    """Replies classified by the built-in rules: the fake server answers signal requests only."""
    await models.Campaign.filter(id=s.campaign.id).update(reply_classifier="rules")


async def _log(gql: Any, s: Setup, **fields: Any) -> dict[str, Any]:
    return data_of(await gql(LOG, {"input": {"campaignAccountId": s.ca_gid, **fields}}, as_=s.owner))["logMessage"]


async def _summary(gql: Any, s: Setup, market: models.Market) -> tuple[list[Any], list[Any]]:
    data = data_of(await gql(SUMMARY, {"campaign": global_id("Campaign", s.campaign.id),
                                       "market": global_id("Market", market.id)}, as_=s.owner))
    return data["campaign"]["signalSummary"], data["market"]["signalSummary"]


async def test_goals_declare_their_signal_kinds_and_every_goal_has_other(gql: Any, setup: Setup) -> None:
    goals = {g["key"]: g for g in data_of(await gql(GOALS, as_=setup.owner))["goals"]}
    sales = [k["key"] for k in goals["sales"]["signalKinds"]]
    assert sales == ["timing", "budget", "competitor", "decision_maker", "hiring", "movement", "other"]
    assert [k["key"] for k in goals["recruiting"]["signalKinds"]] == [
        "availability", "compensation", "movement", "referral", "other"]
    assert all(k["label"] and k["description"] for g in goals.values() for k in g["signalKinds"])


@pytest.mark.parametrize(("kinds", "message"), [
    ((SignalKind("Budget", "Budget"),), "must be lowercase snake_case"),
    ((SignalKind("budget", "Budget"), SignalKind("budget", "Again")), "declared twice"),
    ((SignalKind("budget", " "),), "needs a label"),
    (SignalKind("budget", "Budget"), "must be a tuple of SignalKind"),
    (("budget",), "items must be SignalKind"),
    (tuple(SignalKind(f"k{i}", "K") for i in range(21)), "at most 20 signal kinds"),
])
def test_a_goal_plugins_signal_kinds_are_checked_at_registration(kinds: Any, message: str) -> None:
    goal = Goal(key="podcast", label="Podcast", description="Guest spots.", message_intent="Pitch an episode.",
                rubric=(Criterion("fit", 1.0, "keywords"),), signal_kinds=kinds)
    with pytest.raises(GoalRegistrationError, match=message):
        validate_goal(goal, plugin="podcasts")


def test_a_goal_plugins_own_other_kind_is_kept_last() -> None:
    goal = validate_goal(Goal(
        key="podcast", label="Podcast", description="Guest spots.", message_intent="Pitch an episode.",
        rubric=(Criterion("fit", 1.0, "keywords"),),
        signal_kinds=(SignalKind("other", "Misc", "Anything."), SignalKind("audience", "Audience"))))
    assert [(k.key, k.label) for k in goal.signal_kinds] == [("audience", "Audience"), ("other", "Misc")]


async def test_a_persons_signals_are_confirmed_and_roll_up_per_campaign_and_market(
        gql: Any, setup: Setup, openai_server: FakeOpenAI) -> None:
    market = await models.Market.create(project=setup.project, name="Iberia", slug="iberia")
    await models.Campaign.filter(id=setup.campaign.id).update(market_id=market.id)
    logged = await _log(gql, setup, text="Call notes", channel="PHONE_CALL", outcome="CONNECTED", signals=[
        {"kind": "budget", "text": "Budget approved for Q3"}, {"kind": "competitor", "text": "Uses SAP"},
        {"kind": "budget", "text": "Budget approved for Q3"},  # the same twice is one
        {"text": "Likes football"}])  # kind other by default
    assert logged["errors"] == []
    assert [(s["kind"], s["text"], s["status"], s["source"], s["decidedBy"]) for s in logged["message"]["signals"]] == [
        ("budget", "Budget approved for Q3", "CONFIRMED", "person", None),
        ("competitor", "Uses SAP", "CONFIRMED", "person", None),
        ("other", "Likes football", "CONFIRMED", "person", None)]
    assert {s["message"]["id"] for s in logged["message"]["signals"]} == {logged["message"]["id"]}
    expected = [{"kind": "budget", "count": 1}, {"kind": "competitor", "count": 1}, {"kind": "other", "count": 1}]
    assert await _summary(gql, setup, market) == (expected, expected)


async def test_the_model_proposes_signals_that_a_person_confirms_or_dismisses(
        gql: Any, setup: Setup, openai_server: FakeOpenAI, jobs: Any) -> None:
    await _rules_classify(setup)
    market = await models.Market.create(project=setup.project, name="Iberia", slug="iberia")
    await models.Campaign.filter(id=setup.campaign.id).update(market_id=market.id)
    openai_server.enqueue(answer({"conversations": [{"id": 1, "signals": [
        {"kind": "timing", "text": "Vuelven a mirar proveedores en septiembre"},
        {"kind": "competitor", "text": "Trabajan con Salesforce"},
        {"kind": "horoscope", "text": "Leo"},  # not a kind of the goal: dropped
        {"kind": "budget", "text": " "},  # no text: dropped
    ]}, {"id": 7, "signals": [{"kind": "budget", "text": "Not asked about"}]}]}))
    reply = await _log(gql, setup, direction="INBOUND", originalLanguage="es",
                       text="Ahora no, trabajamos con Salesforce. Escríbeme en septiembre cuando revisemos.")
    await jobs()

    request = openai_server.requests[-1]
    assert request.document is not None
    assert [k["key"] for k in request.document["kinds"]] == [
        "timing", "budget", "competitor", "decision_maker", "hiring", "movement", "other"]
    assert request.document["conversations"] == [{
        "id": 1, "source": "reply", "language": "Spanish",
        "text": "Ahora no, trabajamos con Salesforce. Escríbeme en septiembre cuando revisemos."}]
    node = data_of(await gql(MESSAGE, {"id": reply["message"]["id"]}, as_=setup.owner))["node"]
    proposed = node["signals"]
    assert [(s["kind"], s["text"], s["status"], s["source"]) for s in proposed] == [
        ("timing", "Vuelven a mirar proveedores en septiembre", "PROPOSED", "llm"),
        ("competitor", "Trabajan con Salesforce", "PROPOSED", "llm")]
    usage = await models.ApiUsage.filter(operation=UsageOperation.SIGNALS).values_list("campaign_id", "input_units")
    assert usage == [(setup.campaign.id, 1000)]
    assert await _summary(gql, setup, market) == ([], [])  # proposed ones count nowhere yet

    decided = data_of(await gql(DECIDE, {"confirm": {"signalIds": [proposed[0]["id"]]},
                                         "dismiss": {"signalIds": [proposed[1]["id"]]}}, as_=setup.owner))
    assert decided["confirmSignals"] == {"errors": [], "signals": [
        {"id": proposed[0]["id"], "status": "CONFIRMED", "decidedBy": {"email": "owner@example.com"}}]}
    assert decided["dismissSignals"] == {"errors": [], "signals": [{"id": proposed[1]["id"], "status": "DISMISSED"}]}
    assert await _summary(gql, setup, market) == ([{"kind": "timing", "count": 1}], [{"kind": "timing", "count": 1}])
    audited = await models.AuditEvent.filter(object_type="Signal").order_by("id").values_list("action", "before",
                                                                                              "after")
    assert audited == [("signal.confirm", {"status": "proposed"}, {"status": "confirmed"}),
                       ("signal.dismiss", {"status": "proposed"}, {"status": "dismissed"})]

    # read once: a second job (a duplicate message, a sweep) asks the model nothing
    asked = len(openai_server.requests)
    assert await signal_proposals.propose([int(s.id) for s in await models.Message.all()]) == []
    assert len(openai_server.requests) == asked


async def test_call_notes_are_read_and_outbound_emails_are_not(
        gql: Any, setup: Setup, openai_server: FakeOpenAI, jobs: Any) -> None:
    openai_server.enqueue(answer({"conversations": [{"id": 1, "signals": [
        {"kind": "decision_maker", "text": "The CFO signs off"}]}]}))
    await _log(gql, setup, text="Hello, a short note about Widget.")  # an outbound e-mail: ours, nothing to read
    call = await _log(gql, setup, channel="PHONE_CALL", outcome="CONNECTED", text="Spoke to Ana; the CFO signs off.")
    await _log(gql, setup, channel="PHONE_CALL", outcome="NO_ANSWER")  # no notes: nothing to read
    await jobs()
    assert len(openai_server.requests) == 1
    assert openai_server.requests[0].document["conversations"][0]["source"] == "call notes"  # type: ignore[index]
    assert [(s.kind, s.message_id) for s in await models.Signal.all()] == [
        ("decision_maker", await _pk(call["message"]["id"]))]
    unread = await models.Message.filter(signals_read_at__isnull=True).count()
    assert unread == 2


async def _pk(gid: str) -> int:
    pk = pk_or_none(relay.GlobalID.from_id(gid), "Message")
    assert pk is not None
    return pk


async def test_a_failed_request_leaves_the_message_unread_for_a_later_sweep(
        gql: Any, setup: Setup, openai_server: FakeOpenAI, jobs: Any) -> None:
    await _rules_classify(setup)
    openai_server.enqueue(status(503))
    reply = await _log(gql, setup, direction="INBOUND", text="We are hiring two engineers in March.")
    await jobs()
    message = await models.Message.get(id=await _pk(reply["message"]["id"]))
    assert message.signals_read_at is None and not await models.Signal.exists()
    assert await models.ApiUsage.filter(operation=UsageOperation.SIGNALS).count() == 0  # a 503 is not billed

    later = message.created_at + signal_proposals.LATE
    assert await signal_proposals.sweep(later - signal_proposals.LATE / 2) == []  # its job may still come
    openai_server.enqueue(answer({"conversations": [{"id": 1, "signals": [
        {"kind": "hiring", "text": "Hiring two engineers in March"}]}]}))
    assert await signal_proposals.sweep(later + signal_proposals.LATE / 10) == [message.id]
    await jobs()
    assert [(s.kind, s.status) for s in await models.Signal.all()] == [("hiring", SignalStatus.PROPOSED)]
    assert await signal_proposals.sweep(later + signal_proposals.LATE) == []  # read: left alone


async def test_without_a_model_nothing_is_proposed(gql: Any, setup: Setup, jobs: Any, stub_broker: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal_proposals, "_config", lambda: None)
    await _rules_classify(setup)
    await _log(gql, setup, direction="INBOUND", text="Budget is approved.")
    queued = {Message.decode(raw).actor_name for raw in list(stub_broker.queues["default"].queue)}
    assert "classify_replies" in queued and "propose_signals" not in queued
    assert await signal_proposals.sweep() == []


async def test_decisions_are_refused_with_reasons(gql: Any, setup: Setup) -> None:
    message = await models.Message.create(
        project=setup.project, campaign_account=setup.row, direction="inbound", status="sent", mode="paste_inbound",
        original_text="Hi")
    signal = await models.Signal.create(project=setup.project, message=message, campaign_account=setup.row,
                                        campaign=setup.campaign, kind="budget", text="B", status=SignalStatus.PROPOSED,
                                        source="llm")
    many = {"signalIds": [global_id("Signal", signal.id)] * 501}
    for variables, expected in (
            ({"confirm": {"signalIds": []}, "dismiss": {"signalIds": [global_id("Signal", 987654)]}},
             ([("INVALID", "input.signalIds")], [("NOT_FOUND", "input.signalIds[0]")])),
            ({"confirm": {"signalIds": [global_id("Message", signal.id)]}, "dismiss": many},
             ([("NOT_FOUND", "input.signalIds[0]")], [])),
    ):
        data = data_of(await gql(DECIDE, variables, as_=setup.owner))
        assert [(e["code"], e["field"]) for e in data["confirmSignals"]["errors"]] == expected[0]
        assert [(e["code"], e["field"]) for e in data["dismissSignals"]["errors"]] == expected[1]
    assert (await models.Signal.get(id=signal.id)).status is SignalStatus.DISMISSED  # 501 times the same id is one
