"""Manual review of planned outreach through GraphQL: attempts wait AWAITING_APPROVAL in the review queue
(`Campaign.attempts(filter: {statuses: [AWAITING_APPROVAL]})`), `approveOutreach` with edits (the executed attempt
and the logged message carry them), `rejectOutreach` (the plan moves on), `executeApproved` (due now)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.services import scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, call_step, counts, email_step, error, gid, iso
from tests.api.cadence_world import world as world  # the fixture

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "email": "dana@acme.example", "phone": "+34600000001"}
EVE = {"name": "Eve Ortiz", "email": "eve@beta.example", "phone": "+34600000002"}
GREETING = email_step(subject="Hello {{contact.first_name}}", body="Hi {{contact.name}}, about {{product.name}}.")
QUEUE = {"statuses": ["AWAITING_APPROVAL"]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def reviewed(world: World, steps: list[dict[str, Any]], **cadence: Any
                   ) -> tuple[models.CampaignAccount, models.CampaignAccount]:
    acme = await world.account("Acme", DANA)
    beta = await world.account("Beta", EVE)
    await world.cadence(steps=steps, executionMode="ON_ADD", manualReview=True, **cadence)
    await world.go_live()
    return acme, beta


async def test_approved_with_edits_goes_out_as_edited_and_rejected_never_goes_out(world: World) -> None:
    acme, beta = await reviewed(world, [GREETING])
    queue = await world.attempts(**QUEUE)
    assert [(a["contact"]["name"], a["status"], a["dueAt"], a["subject"], a["body"]) for a in queue] == [
        ("Dana Diaz", "AWAITING_APPROVAL", iso(NINE), "Hello Dana", "Hi Dana Diaz, about Widget."),
        ("Eve Ortiz", "AWAITING_APPROVAL", iso(NINE), "Hello Eve", "Hi Eve Ortiz, about Widget.")]
    assert counts((await world.view())["executionCounts"]) == {"AWAITING_APPROVAL": 2}
    assert (await world.row(acme))["execution"]["status"] == "AWAITING_APPROVAL"
    assert await world.at(NINE) == scheduler.Tick(0, [])  # nothing unapproved goes out

    dana, eve = queue
    approved = await world.ok("approveOutreach", {"attemptIds": [dana["id"]], "edits": [
        {"attemptId": dana["id"], "subject": "Quick question, Dana", "body": "Dana, a short note instead."}]})
    assert [(a["id"], a["status"], a["subject"], a["body"]) for a in approved["attempts"]] == [
        (dana["id"], "SCHEDULED", "Quick question, Dana", "Dana, a short note instead.")]
    assert (await world.row(acme))["execution"]["status"] == "AWAITING_EXECUTION"
    assert [a["id"] for a in await world.attempts(**QUEUE)] == [eve["id"]]

    rejected = await world.ok("rejectOutreach", {"attemptIds": [eve["id"]]})
    assert [(a["id"], a["status"]) for a in rejected["attempts"]] == [(eve["id"], "REJECTED")]
    assert (await world.row(beta))["execution"] == {"status": "COMPLETED", "attemptsMade": 0, "maxAttempts": 3,
                                                    "nextAttempt": None}
    assert await world.attempts(**QUEUE) == []

    pk = (await models.OutreachAttempt.get(campaign_account_id=acme.id)).id
    assert await world.at(NINE + timedelta(minutes=1)) == scheduler.Tick(0, [pk])
    sent = await world.record(dana["id"], "SENT")
    assert (sent["attempt"]["subject"], sent["attempt"]["body"], sent["attempt"]["executedAt"]) == (
        "Quick question, Dana", "Dana, a short note instead.", iso(NINE + timedelta(minutes=1)))
    assert {k: v for k, v in sent["attempt"]["message"].items() if k != "id"} == {
        "direction": "OUTBOUND", "channel": "EMAIL", "subject": "Quick question, Dana",
        "originalText": "Dana, a short note instead.", "outcome": None}
    assert await models.Message.filter(campaign_account_id=beta.id).count() == 0
    assert counts((await world.view())["executionCounts"]) == {"COMPLETED": 2}


async def test_an_edit_may_clear_the_subject_or_keep_what_it_leaves_out(world: World) -> None:
    await reviewed(world, [GREETING])
    dana, eve = await world.attempts(**QUEUE)
    approved = await world.ok("approveOutreach", {"attemptIds": [dana["id"], eve["id"]], "edits": [
        {"attemptId": dana["id"], "subject": None}, {"attemptId": eve["id"], "body": "Only the body."}]})
    assert [(a["subject"], a["body"]) for a in approved["attempts"]] == [
        (None, "Hi Dana Diaz, about Widget."), ("Hello Eve", "Only the body.")]


async def test_rejecting_a_step_moves_the_plan_to_the_next_one(world: World) -> None:
    acme, _ = await reviewed(world, [GREETING, call_step(delayMinutes=60),
                                     email_step(delayMinutes=60, body="Last one.", manualReview=False)],
                             campaignType="FOLLOW_UP")
    world.clock.set(MONDAY_8 + timedelta(minutes=30))
    dana = (await world.attempts(**QUEUE))[0]
    await world.ok("rejectOutreach", {"attemptIds": [dana["id"]]})
    call = await world.only_attempt(acme)  # step 2 waits for review too
    assert (call["channel"], call["status"], call["dueAt"]) == ("PHONE_CALL", "AWAITING_APPROVAL",
                                                               iso(NINE + timedelta(minutes=30)))
    assert (await world.row(acme))["execution"]["status"] == "AWAITING_APPROVAL"
    await world.ok("rejectOutreach", {"attemptIds": [call["id"]]})
    last = await world.only_attempt(acme)  # step 3 needs no review
    assert (last["channel"], last["status"], last["body"], last["dueAt"]) == (
        "EMAIL", "SCHEDULED", "Last one.", iso(NINE + timedelta(minutes=30)))
    assert (await world.row(acme))["execution"]["status"] == "AWAITING_EXECUTION"


async def test_a_retry_waits_for_approval_again(world: World) -> None:
    acme, _ = await reviewed(world, [call_step()])
    dana = (await world.attempts(**QUEUE))[0]
    await world.ok("approveOutreach", {"attemptIds": [dana["id"]]})
    await world.at(NINE)
    retry = (await world.record(dana["id"], "NO_ANSWER"))["nextAttempt"]
    assert (retry["attemptNumber"], retry["status"], retry["dueAt"]) == (2, "AWAITING_APPROVAL",
                                                                         iso(NINE + timedelta(hours=1)))
    assert (await world.row(acme))["execution"]["status"] == "AWAITING_APPROVAL"
    await world.ok("approveOutreach", {"attemptIds": [retry["id"]]})
    assert (await world.row(acme))["execution"]["status"] == "RESCHEDULED"


async def test_execute_approved_makes_approved_attempts_due_now(world: World) -> None:
    acme, beta = await reviewed(world, [{**GREETING, "delayMinutes": 1440}])
    tuesday = NINE + timedelta(days=1)
    dana, eve = await world.attempts(**QUEUE)
    assert (dana["dueAt"], eve["dueAt"]) == (iso(tuesday), iso(tuesday))
    await world.ok("approveOutreach", {"attemptIds": [dana["id"]]})
    world.clock.set(NINE + timedelta(hours=1))
    released = await world.ok("executeApproved", {"campaignId": world.gid})
    assert [(a["id"], a["status"], a["dueAt"]) for a in released["attempts"]] == [
        (dana["id"], "SCHEDULED", iso(NINE + timedelta(hours=1)))]
    assert (await world.only_attempt(beta))["dueAt"] == iso(tuesday)  # not approved: untouched
    pk = (await models.OutreachAttempt.get(campaign_account_id=acme.id)).id
    assert await world.tick() == scheduler.Tick(0, [pk])
    assert (await world.only_attempt(acme))["executedAt"] == iso(NINE + timedelta(hours=1))
    again = await world.ok("executeApproved", {"campaignId": world.gid})
    assert again["attempts"] == []


async def test_execute_approved_outside_the_window_waits_for_its_opening(world: World) -> None:
    acme, _ = await reviewed(world, [{**GREETING, "delayMinutes": 2880}])
    dana = (await world.attempts(**QUEUE))[0]
    await world.ok("approveOutreach", {"attemptIds": [dana["id"]]})
    evening = NINE + timedelta(hours=10)  # 19:00
    world.clock.set(evening)
    released = await world.ok("executeApproved", {"campaignId": world.gid})
    assert released["attempts"][0]["dueAt"] == iso(evening)
    await world.tick()
    attempt = await world.only_attempt(acme)
    assert (attempt["status"], attempt["dueAt"], attempt["executedAt"]) == (
        "SCHEDULED", iso(NINE + timedelta(days=1)), None)


async def test_review_refusals(world: World) -> None:
    await reviewed(world, [GREETING])
    dana, eve = await world.attempts(**QUEUE)
    empty = await world.call("approveOutreach", {"attemptIds": [dana["id"]], "edits": [
        {"attemptId": dana["id"], "body": "  "}]})
    assert empty["errors"] == [error("INVALID", "input.edits[0].body", "The body cannot be empty.")]
    stray = await world.call("approveOutreach", {"attemptIds": [dana["id"]], "edits": [
        {"attemptId": eve["id"], "body": "Not approved here."}]})
    assert stray["errors"] == [error("NOT_FOUND", "input.edits[0].attemptId", "OutreachAttempt not found.")]
    await world.ok("approveOutreach", {"attemptIds": [dana["id"]]})
    twice = await world.call("approveOutreach", {"attemptIds": [eve["id"], dana["id"]]})
    assert twice["errors"] == [error("INVALID", "input.attemptIds[1]", "This attempt is scheduled; only an attempt "
                                     "awaiting approval can be approved.")]
    late = await world.call("rejectOutreach", {"attemptIds": [dana["id"]]})
    assert late["errors"] == [error("INVALID", "input.attemptIds[0]", "This attempt is scheduled; only an attempt "
                                    "awaiting approval can be rejected.")]
    missing = await world.call("rejectOutreach", {"attemptIds": [gid("OutreachAttempt", 999)]})
    assert missing["errors"] == [error("NOT_FOUND", "input.attemptIds[0]", "OutreachAttempt not found.")]
    assert [a["status"] for a in await world.attempts()] == ["SCHEDULED", "AWAITING_APPROVAL"]
