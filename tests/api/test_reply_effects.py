"""Classes drive the work, through GraphQL: a reply logged with logMessage on a live campaign's row is classified
(a test classifier reading a ``[label]`` or ``[label argument]`` tag) and its class acts on the row: an absence
pauses it until the stated return (else the default delay) and execution resumes after it; a refusal loses the row
(unless the campaign says otherwise) and stops its plan; an unsubscribe suppresses the address and stops every plan
to it; a referral proposes a contact once; a bounce marks the row bounced and suppresses the address; a correction
applies the corrected class; a reply older than the thread's latest does nothing; each effect is audited on the row
and announced on the campaign."""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.classifiers.registry import ClassifierRegistry, registry_with
from outboundql.goals import hookimpl
from outboundql.services import events, reply_classes, reply_effects, scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, call_step, email_step, gid, iso, pk
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_campaign_account_events import listening
from tests.helpers import data_of

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "phone": "+34600000001", "email": "dana@acme.example", "is_decision_maker": True}
TAG = re.compile(r"\[(\w+)(?: ([^\]]+))?\]")

UPDATE = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) { campaign { replyClassifier loseOnNotInterested } errors { code field message } }
}
"""
CORRECT = """
mutation($input: CorrectReplyClassificationInput!) {
  correctReplyClassification(input: $input) { message { id } errors { code field message } }
}
"""
ROW = """
query($id: ID!) {
  node(id: $id) { ... on CampaignAccount { goalOutcome outreachStatus contact { name }
    execution { status pausedUntil nextAttempt { id channel status dueAt } }
    attempts { channel status dueAt error }
    account { contacts { name email } } } }
}
"""
SUPPRESSIONS = """
query($id: ID!) {
  node(id: $id) { ... on Project { suppressions(first: 50) { edges { node { kind value source } } } } }
}
"""


class Tags:
    """The class from a ``[label]`` tag (OTHER without one); ``[out_of_office 2026-03-09]`` states a return date,
    ``[referral Name <email>]`` the person named."""

    key = "tags"
    label = "Tags (test)"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        out = []
        for reply in replies:
            tag = TAG.search(reply.text)
            if tag is None:
                out.append(Classification(ReplyClass.OTHER, 0.2))
                continue
            label, argument = ReplyClass(tag.group(1)), tag.group(2)
            returns_on = date.fromisoformat(argument) if label is ReplyClass.OUT_OF_OFFICE and argument else None
            referral = None
            if label is ReplyClass.REFERRAL and argument:
                named = re.match(r"([^<]*)(?:<([^>]+)>)?", argument)
                assert named is not None
                referral = Referral((named.group(1) or "").strip() or None, named.group(2))
            out.append(Classification(label, 0.9, returns_on=returns_on, referral=referral))
        return out


@hookimpl
def outboundql_register_classifiers(register: Any) -> None:
    register(Tags())


@pytest.fixture
def classifiers() -> ClassifierRegistry:
    return registry_with(types.SimpleNamespace(__name__="tags_plugin",
                                               outboundql_register_classifiers=outboundql_register_classifiers))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def _update(world: World, **changes: Any) -> dict[str, Any]:
    payload = data_of(await world.gql(UPDATE, {"input": {"id": world.gid, **changes}}, as_=world.owner))
    updated: dict[str, Any] = payload["updateCampaign"]
    assert updated["errors"] == [], updated["errors"]
    return updated


async def _live(world: World, **call: Any) -> models.CampaignAccount:
    """A live campaign (an e-mail, then a call two days later: ``call`` its settings) whose row's e-mail went out on
    Monday at nine: its call is planned for Wednesday at nine."""
    await _update(world, replyClassifier="tags")
    row = await world.account("Acme", DANA)
    await world.cadence(campaignType="FOLLOW_UP", executionMode="ON_ADD", steps=[
        email_step(subject="Hi", body="Hello {{contact.first_name}}"), call_step(delayMinutes=2880, **call)])
    await world.go_live()
    first = await world.only_attempt(row)
    await world.at(NINE)
    settled = await world.record(first["id"], "SENT")
    assert (settled["nextAttempt"]["channel"], settled["nextAttempt"]["dueAt"]) == (
        "PHONE_CALL", iso(NINE + timedelta(days=2)))
    return row


async def _reply(world: World, row: models.CampaignAccount, text: str, *, classify: bool = True,
                 contact: str = "Dana Diaz", channel: str = "EMAIL") -> int:
    """Log a reply from ``contact`` on ``row`` (and run the jobs: it is classified and acts); its id."""
    logged = await world.ok("logMessage", {
        "campaignAccountId": gid("CampaignAccount", row), "direction": "INBOUND", "text": text, "channel": channel,
        "contactId": gid("Contact", await world.contact(contact))})
    if classify:
        await world.jobs()
    return pk(logged["message"])


async def _row(world: World, row: models.CampaignAccount) -> dict[str, Any]:
    node: dict[str, Any] = data_of(await world.gql(ROW, {"id": gid("CampaignAccount", row)}, as_=world.owner))["node"]
    return node


async def _suppressed(world: World) -> list[tuple[str, str, str]]:
    node = data_of(await world.gql(SUPPRESSIONS, {"id": gid("Project", world.project)}, as_=world.owner))["node"]
    return sorted((e["node"]["kind"], e["node"]["value"], e["node"]["source"]) for e in node["suppressions"]["edges"])


async def _effects(row: models.CampaignAccount) -> list[dict[str, Any]]:
    """What the replies' classes did to the row, as audited, oldest first."""
    return [e.after or {} for e in await models.AuditEvent.filter(
        action=reply_effects.ACTION, object_type="CampaignAccount", object_id=row.id).order_by("id")]


# --- out of office ---------------------------------------------------------------------------------------------


async def test_an_absence_with_a_return_date_pauses_the_row_until_then_and_execution_resumes(world: World) -> None:
    row = await _live(world)
    world.clock.set(NINE + timedelta(days=1))  # Tuesday
    message_id = await _reply(world, row, "[out_of_office 2026-03-09] Back on Monday 9 March.", classify=False)
    async with listening(events.campaign_channel(world.campaign.id)) as heard:
        await world.jobs()  # classified: the class acts, and says so on the campaign
    back = datetime(2026, 3, 9, tzinfo=UTC)
    seen = await _row(world, row)
    assert seen["goalOutcome"] == "OPEN"
    execution = seen["execution"]
    assert (execution["status"], execution["pausedUntil"]) == ("AWAITING_EXECUTION", iso(back))
    call = execution["nextAttempt"]
    assert (call["channel"], call["status"], call["dueAt"]) == (
        "PHONE_CALL", "SCHEDULED", iso(back + timedelta(hours=9)))
    assert [e["kind"] for e in heard] == ["accounts_changed", "execution_changed", "accounts_changed"]
    assert heard[1]["campaign_account_ids"] == [row.id]
    assert await _effects(row) == [{"message_id": message_id, "label": "out_of_office", "paused_until": iso(back),
                                    "resumed": "awaiting_execution", "postponed": [pk(call)]}]

    assert await world.at(NINE + timedelta(days=2)) == scheduler.Tick(0, [])  # Wednesday: it would have gone out
    assert await world.at(back + timedelta(hours=8, minutes=59)) == scheduler.Tick(0, [])
    assert await world.at(back + timedelta(hours=9)) == scheduler.Tick(0, [pk(call)])
    resumed = await _row(world, row)
    assert (resumed["execution"]["status"], resumed["execution"]["pausedUntil"]) == ("EXECUTING", None)


async def test_an_absence_without_a_date_pauses_for_the_default_days_and_planning_respects_it(
        world: World) -> None:
    row = await _live(world)
    world.clock.set(NINE + timedelta(days=1, hours=2))  # Tuesday 11:00
    await _reply(world, row, "[out_of_office] I am away with limited access to e-mail.")
    back = NINE + timedelta(days=8, hours=2)  # seven days after the reply: Tuesday 10 March, 11:00
    seen = (await _row(world, row))["execution"]
    assert seen["pausedUntil"] == iso(back)
    call = seen["nextAttempt"]
    assert (call["status"], call["dueAt"]) == ("SCHEDULED", iso(back))
    assert await world.at(back - timedelta(minutes=1)) == scheduler.Tick(0, [])
    assert await world.at(back) == scheduler.Tick(0, [pk(call)])


async def test_an_attempt_planned_during_the_pause_is_not_due_before_the_return(world: World) -> None:
    row = await _live(world)
    call = await world.only_attempt(row)
    await world.at(NINE + timedelta(days=2))  # Wednesday 09:00: the call is made, awaiting its result
    executing = await world.only_attempt(row)
    assert (executing["id"], executing["status"]) == (call["id"], "AWAITING_RESULT")
    await _reply(world, row, "[out_of_office 2026-03-16] Back on 16 March.")
    paused = (await _row(world, row))["execution"]
    assert (paused["status"], paused["pausedUntil"]) == ("EXECUTING", iso(datetime(2026, 3, 16, tzinfo=UTC)))
    retried = await world.record(call["id"], "NO_ANSWER")  # the retry policy plans the call again
    assert retried["nextAttempt"]["dueAt"] == iso(datetime(2026, 3, 16, 9, tzinfo=UTC))


async def test_an_approved_attempt_made_due_during_the_pause_waits_for_the_return(world: World) -> None:
    row = await _live(world, manualReview=True)
    world.clock.set(NINE + timedelta(days=1))
    await _reply(world, row, "[out_of_office 2026-03-09] Back on 9 March.")
    back = datetime(2026, 3, 9, 9, tzinfo=UTC)
    waiting = (await _row(world, row))["execution"]
    assert waiting["status"] == "AWAITING_APPROVAL"  # as the reply found it
    assert (waiting["nextAttempt"]["status"], waiting["nextAttempt"]["dueAt"]) == ("AWAITING_APPROVAL", iso(back))
    call = waiting["nextAttempt"]["id"]
    await world.ok("approveOutreach", {"attemptIds": [call]})
    released = await world.ok("executeApproved", {"campaignId": world.gid})
    assert [a["dueAt"] for a in released["attempts"]] == [iso(NINE + timedelta(days=1))]  # due now
    await world.tick()  # claimed, then put back: the row is paused
    again = await world.only_attempt(row)
    assert (again["status"], again["dueAt"], again["executedAt"]) == ("SCHEDULED", iso(back), None)
    assert await world.at(back) == scheduler.Tick(0, [pk(again)])
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


# --- not interested -------------------------------------------------------------------------------------------


async def test_not_interested_loses_the_row_and_stops_its_plan(world: World) -> None:
    row = await _live(world)
    assert (await _update(world))["campaign"]["loseOnNotInterested"] is True  # the default
    await _reply(world, row, "[not_interested] We are happy with our provider.")
    seen = await _row(world, row)
    assert (seen["goalOutcome"], seen["execution"]["status"], seen["execution"]["nextAttempt"]) == (
        "LOST", "COMPLETED", None)
    assert await world.at(NINE + timedelta(days=2)) == scheduler.Tick(0, [])  # nothing more is attempted


async def test_a_campaign_that_does_not_lose_on_refusals_keeps_the_outcome_open(world: World) -> None:
    row = await _live(world)
    assert (await _update(world, loseOnNotInterested=False))["campaign"]["loseOnNotInterested"] is False
    message_id = await _reply(world, row, "[not_interested] Not now.")
    seen = await _row(world, row)
    assert (seen["goalOutcome"], seen["execution"]["status"], seen["execution"]["nextAttempt"]) == (
        "OPEN", "COMPLETED", None)  # the plan stops all the same
    assert (await _effects(row))[0] == {"message_id": message_id, "label": "not_interested", "cancelled": 0,
                                        "goal_outcome": "open", "execution_status": "completed"}
    refused = data_of(await world.gql(UPDATE, {"input": {"id": world.gid, "loseOnNotInterested": None}},
                                      as_=world.owner))["updateCampaign"]
    assert refused["campaign"] is None and [e["field"] for e in refused["errors"]] == ["input.loseOnNotInterested"]


async def test_a_correction_applies_the_corrected_class(world: World) -> None:
    row = await _live(world)
    message_id = await _reply(world, row, "[out_of_office 2026-03-09] Away.")
    assert (await _row(world, row))["execution"]["status"] == "AWAITING_EXECUTION"  # resumed, paused
    corrected = data_of(await world.gql(CORRECT, {"input": {"messageId": gid("Message", message_id),
                                                            "label": "NOT_INTERESTED"}}, as_=world.owner))
    assert corrected["correctReplyClassification"]["errors"] == []
    seen = await _row(world, row)
    assert (seen["goalOutcome"], seen["execution"]["status"], seen["execution"]["pausedUntil"]) == (
        "LOST", "COMPLETED", None)
    call = seen["attempts"][0]  # newest first
    assert (call["channel"], call["status"], call["error"]) == ("PHONE_CALL", "CANCELLED", reply_effects.NOT_INTERESTED)
    assert [e["label"] for e in await _effects(row)] == ["out_of_office", "not_interested"]
    assert await world.at(datetime(2026, 3, 9, 9, tzinfo=UTC)) == scheduler.Tick(0, [])


# --- unsubscribe and bounce ------------------------------------------------------------------------------------


async def test_an_unsubscribe_suppresses_the_address_and_stops_every_plan_to_it(world: World) -> None:
    row = await _live(world)
    # The same person at another account, her e-mail planned for Tuesday at nine (the window closed at five).
    other = await world.account("Beta", {"name": "Dana at Beta", "email": "dana@acme.example"})
    await world.at(NINE + timedelta(hours=9))
    planned = await world.only_attempt(other)
    assert (planned["channel"], planned["status"]) == ("EMAIL", "SCHEDULED")
    await _reply(world, row, "[unsubscribe] Please remove me from your list.")
    assert await _suppressed(world) == [("EMAIL", "dana@acme.example", "UNSUBSCRIBE")]
    stopped = await _row(world, other)
    assert stopped["execution"]["status"] == "DISQUALIFIED"
    assert stopped["attempts"][0]["status"] == "CANCELLED"
    assert (await _row(world, row))["execution"]["nextAttempt"] is None
    effect = (await _effects(row))[0]
    assert (effect["address"], effect["suppressed"], effect["cancelled"]) == ("dana@acme.example", True, 1)
    assert await models.AuditEvent.filter(action="suppression.unsubscribe").count() == 1


async def test_an_unsubscribe_by_phone_suppresses_the_phone(world: World) -> None:
    row = await _live(world)
    await _reply(world, row, "[unsubscribe] Do not call me again.", channel="PHONE_CALL")
    assert await _suppressed(world) == [("PHONE", "+34600000001", "UNSUBSCRIBE")]


async def test_a_bounce_marks_the_row_bounced_and_suppresses_the_address(world: World) -> None:
    row = await _live(world)
    await _reply(world, row, "[bounce] Delivery to dana@acme.example failed permanently.")
    seen = await _row(world, row)
    assert seen["outreachStatus"] == "BOUNCED"
    assert await _suppressed(world) == [("EMAIL", "dana@acme.example", "BOUNCE")]


# --- referral --------------------------------------------------------------------------------------------------


async def test_a_referral_proposes_the_person_once(world: World) -> None:
    row = await _live(world)
    first = await _reply(world, row, "[referral Maria Lopez <maria@acme.example>] Talk to Maria.")
    seen = await _row(world, row)
    assert sorted(c["name"] for c in seen["account"]["contacts"]) == ["Dana Diaz", "Maria Lopez"]
    assert seen["contact"] is None and seen["execution"]["status"] == "COMPLETED"  # not the row's, no new plan
    assert await reply_effects.apply_all([first]) == []  # applied once
    await _reply(world, row, "[referral Maria <maria@acme.example>] Again: Maria.")
    await _reply(world, row, "[referral Pablo Ruiz] Or Pablo.")
    await _reply(world, row, "[referral Pablo Ruiz] Pablo, really.")
    contacts = (await _row(world, row))["account"]["contacts"]
    assert sorted((c["name"], c["email"]) for c in contacts) == [
        ("Dana Diaz", "dana@acme.example"), ("Maria Lopez", "maria@acme.example"), ("Pablo Ruiz", None)]
    referred = await models.AuditEvent.filter(action="contact.referred").order_by("id")
    assert [(e.after or {}).get("created") for e in referred] == [True, False, True, False]


# --- which reply acts -----------------------------------------------------------------------------------------


async def test_an_older_reply_classified_after_a_newer_one_does_nothing(world: World) -> None:
    row = await _live(world)
    older = await _reply(world, row, "[not_interested] No.", classify=False)
    world.clock.advance(minutes=10)
    await _reply(world, row, "[interested] Actually, tell me more.", classify=False)
    assert await reply_classes.classify([older]) == [older]  # classified late, alone
    seen = await _row(world, row)
    assert seen["goalOutcome"] == "OPEN"
    assert (await models.Message.get(id=older)).reply_class is ReplyClass.NOT_INTERESTED
    assert await _effects(row) == []
    await world.jobs()
    assert (await _row(world, row))["goalOutcome"] == "OPEN"
    assert await _effects(row) == []


async def test_an_absence_after_a_persons_answer_keeps_the_plan_stopped(world: World) -> None:
    row = await _live(world)
    await _reply(world, row, "[interested] Call me.")
    world.clock.advance(minutes=10)
    await _reply(world, row, "[out_of_office 2026-03-09] Away.")
    seen = (await _row(world, row))["execution"]
    assert (seen["status"], seen["nextAttempt"], seen["pausedUntil"]) == (
        "COMPLETED", None, iso(datetime(2026, 3, 9, tzinfo=UTC)))
