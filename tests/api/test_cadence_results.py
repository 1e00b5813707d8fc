"""Results drive the plan, through GraphQL: `recordAttemptResult` for each outcome (the retry policy: retried
outcomes after the interval at the next allowed time, max attempts, the next contact, MAX_RETRIES, bounces,
CONNECTED with and without the goal, `untilGoalAchieved`), FOLLOW_UP steps with their delays and wording (templates
rendered, else the drafter), the message logged once through logMessage, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, call_step, counts, email_step, error, gid, iso
from tests.api.cadence_world import world as world  # the fixture
from tests.helpers import Person, data_of

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "phone": "+34600000001", "email": "dana@acme.example", "is_decision_maker": True}
EVE = {"name": "Eve Ortiz", "phone": "+34600000002", "email": "eve@acme.example"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def executed(world: World, *contacts: dict[str, Any], steps: list[dict[str, Any]] | None = None,
                   **cadence: Any) -> tuple[models.CampaignAccount, dict[str, Any]]:
    """Acme with ``contacts`` (Dana by default) in a live ON_ADD campaign whose first attempt was executed at
    09:00 Monday: the row and that attempt (AWAITING_RESULT)."""
    row = await world.account("Acme", *(contacts or (DANA,)))
    await world.cadence(steps=steps or [call_step()], executionMode="ON_ADD", **cadence)
    await world.go_live()
    await world.at(NINE)
    attempt = await world.only_attempt(row)
    assert (attempt["status"], attempt["executedAt"]) == ("AWAITING_RESULT", iso(NINE))
    return row, attempt


async def run_next(world: World, row: models.CampaignAccount, at: datetime) -> dict[str, Any]:
    """Tick at ``at``: the row's next attempt is executed; it is returned."""
    await world.at(at)
    attempt = await world.only_attempt(row)
    assert (attempt["status"], attempt["executedAt"]) == ("AWAITING_RESULT", iso(at))
    return attempt


# --- each outcome -----------------------------------------------------------------------------------------

RETRIED = "retried"
ENDED = "COMPLETED"
NOBODY_LEFT = "MAX_RETRIES"  # the step failed for its only contact


@pytest.mark.parametrize(("outcome", "retry_on", "then", "logged"), [
    ("NO_ANSWER", None, RETRIED, True),
    ("BUSY", None, RETRIED, True),
    ("VOICEMAIL", None, ENDED, True),
    ("VOICEMAIL", ["NO_ANSWER", "BUSY", "VOICEMAIL"], RETRIED, True),
    ("FAILED", None, NOBODY_LEFT, False),
    ("FAILED", ["FAILED"], RETRIED, False),
    ("CONNECTED", None, ENDED, True),
    ("NO_ANSWER", [], ENDED, True),
])
async def test_each_call_outcome(world: World, outcome: str, retry_on: list[str] | None, then: str,
                                 logged: bool) -> None:
    retry: dict[str, Any] = {} if retry_on is None else {"retry": {"retryOn": retry_on}}
    row, attempt = await executed(world, **retry)
    world.clock.set(NINE + timedelta(minutes=10))
    payload = await world.record(attempt["id"], outcome, notes="Rang twice.")
    assert payload["errors"] == []
    done = payload["attempt"]
    assert (done["id"], done["status"], done["outcome"], done["goalAchieved"], done["notes"]) == (
        attempt["id"], "DONE", outcome, None, "Rang twice.")
    if logged:
        assert {k: v for k, v in done["message"].items() if k != "id"} == {
            "direction": "OUTBOUND", "channel": "PHONE_CALL", "subject": None, "originalText": "Rang twice.",
            "outcome": outcome}
    else:  # nothing went out: nothing joins the thread
        assert done["message"] is None
    assert await models.Message.filter(campaign_account_id=row.id).count() == int(logged)
    execution = payload["campaignAccount"]["execution"]
    following = payload["nextAttempt"]
    if then == RETRIED:
        assert (following["step"], following["attemptNumber"], following["status"], following["dueAt"],
                following["contact"], following["address"], following["body"]) == (
            1, 2, "SCHEDULED", iso(NINE + timedelta(minutes=70)), {"name": "Dana Diaz"}, "+34600000001",
            attempt["body"])
        assert (execution["status"], execution["attemptsMade"], execution["maxAttempts"],
                execution["nextAttempt"]["id"]) == ("RESCHEDULED", 1, 3, following["id"])
    else:
        assert following is None
        assert (execution["status"], execution["attemptsMade"], execution["nextAttempt"]) == (then, 1, None)
    assert payload["campaignAccount"]["goalOutcome"] == "OPEN"


async def test_a_retry_waits_for_the_next_allowed_time(world: World) -> None:
    row, attempt = await executed(world, retry={"intervalMinutes": 120})
    world.clock.set(NINE + timedelta(hours=7, minutes=30))  # 16:30: +2 h is after the window
    tuesday = await world.record(attempt["id"], "NO_ANSWER")
    assert tuesday["nextAttempt"]["dueAt"] == iso(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    second = await run_next(world, row, datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    world.clock.set(datetime(2026, 3, 6, 15, 30, tzinfo=UTC))  # recorded on Friday 15:30: +2 h is 17:30
    monday = await world.record(second["id"], "BUSY")
    assert (monday["nextAttempt"]["attemptNumber"], monday["nextAttempt"]["dueAt"]) == (
        3, iso(datetime(2026, 3, 9, 9, 0, tzinfo=UTC)))


async def test_max_attempts_then_the_next_contact_then_max_retries(world: World) -> None:
    row, attempt = await executed(world, DANA, EVE, retry={"maxAttempts": 2})
    assert attempt["contact"] == {"name": "Dana Diaz"}  # the decision maker first
    second = (await world.record(attempt["id"], "NO_ANSWER"))["nextAttempt"]
    assert (second["contact"], second["attemptNumber"], second["dueAt"]) == (
        {"name": "Dana Diaz"}, 2, iso(NINE + timedelta(hours=1)))
    await run_next(world, row, NINE + timedelta(hours=1))
    payload = await world.record(second["id"], "BUSY")  # Dana's attempts are used up: Eve, attempt 1
    eve = payload["nextAttempt"]
    assert (eve["contact"], eve["address"], eve["step"], eve["attemptNumber"], eve["dueAt"], eve["body"]) == (
        {"name": "Eve Ortiz"}, "+34600000002", 1, 1, iso(NINE + timedelta(hours=2)),
        attempt["body"].replace("Dana", "Eve"))
    assert payload["campaignAccount"]["execution"]["status"] == "RESCHEDULED"
    await run_next(world, row, NINE + timedelta(hours=2))
    eve_2 = (await world.record(eve["id"], "NO_ANSWER"))["nextAttempt"]
    assert (eve_2["contact"], eve_2["attemptNumber"]) == ({"name": "Eve Ortiz"}, 2)
    await run_next(world, row, NINE + timedelta(hours=3))
    last = await world.record(eve_2["id"], "NO_ANSWER")
    assert last["nextAttempt"] is None
    assert last["campaignAccount"]["execution"] == {"status": "MAX_RETRIES", "attemptsMade": 4, "maxAttempts": 2,
                                                    "nextAttempt": None}
    view = await world.view()
    assert counts(view["executionCounts"]) == {"MAX_RETRIES": 1}
    assert [(a["contact"]["name"], a["attemptNumber"], a["outcome"]) for a in view["attempts"]] == [
        ("Dana Diaz", 1, "NO_ANSWER"), ("Dana Diaz", 2, "BUSY"), ("Eve Ortiz", 1, "NO_ANSWER"),
        ("Eve Ortiz", 2, "NO_ANSWER")]
    assert view["outreachedAccounts"] == 1


async def test_a_bounce_moves_to_the_next_contact_then_ends_in_max_retries(world: World) -> None:
    row, attempt = await executed(world, DANA, EVE, steps=[email_step(subject="Hi", body="Hello")])
    assert (attempt["address"], attempt["subject"], attempt["body"]) == ("dana@acme.example", "Hi", "Hello")
    world.clock.set(NINE + timedelta(minutes=5))
    bounced = await world.record(attempt["id"], "BOUNCED")
    assert bounced["attempt"]["message"]["subject"] == "Hi"
    eve = bounced["nextAttempt"]
    assert (eve["contact"], eve["address"], eve["attemptNumber"], eve["dueAt"]) == (
        {"name": "Eve Ortiz"}, "eve@acme.example", 1, iso(NINE + timedelta(minutes=65)))
    await run_next(world, row, NINE + timedelta(minutes=65))
    again = await world.record(eve["id"], "BOUNCED")
    assert again["nextAttempt"] is None
    assert again["campaignAccount"]["execution"]["status"] == "MAX_RETRIES"


async def test_a_bounce_shows_on_the_row_outreach_status(world: World) -> None:
    row, attempt = await executed(world, DANA, steps=[email_step(subject="Hi", body="Hello")])
    await world.record(attempt["id"], "BOUNCED")
    assert (await world.row(row))["outreachStatus"] == "BOUNCED"


async def test_a_goal_achieved_completes_the_row(world: World) -> None:
    _, attempt = await executed(world, steps=[call_step(), email_step(delayMinutes=60)], campaignType="FOLLOW_UP")
    world.clock.set(NINE + timedelta(minutes=15))
    refused = await world.record(attempt["id"], "NO_ANSWER", goalAchieved=True)
    assert refused["errors"] == [error("INVALID", "input.goalAchieved",
                                       "An attempt that came to no_answer cannot have achieved the goal.")]
    payload = await world.record(attempt["id"], "CONNECTED", goalAchieved=True, notes="Demo booked.")
    assert payload["errors"] == []
    assert (payload["attempt"]["goalAchieved"], payload["nextAttempt"], payload["campaignAccount"]["goalOutcome"],
            payload["campaignAccount"]["execution"]) == (
        True, None, "ACHIEVED", {"status": "COMPLETED", "attemptsMade": 1, "maxAttempts": 6, "nextAttempt": None})
    view = await world.view()
    assert (counts(view["goalOutcomeCounts"]), counts(view["executionCounts"])) == (
        {"ACHIEVED": 1}, {"COMPLETED": 1})
    assert len(view["attempts"]) == 1  # the e-mail step is never planned


async def test_connected_without_the_goal_moves_to_the_next_step(world: World) -> None:
    _, attempt = await executed(world, steps=[call_step(), email_step(delayMinutes=30, subject="Recap",
                                                                        body="As discussed.")],
                                campaignType="FOLLOW_UP")
    payload = await world.record(attempt["id"], "CONNECTED", goalAchieved=False)
    following = payload["nextAttempt"]
    assert (following["channel"], following["step"], following["attemptNumber"], following["dueAt"],
            following["address"], following["subject"]) == (
        "EMAIL", 2, 1, iso(NINE + timedelta(minutes=30)), "dana@acme.example", "Recap")
    assert (payload["campaignAccount"]["execution"]["status"], payload["campaignAccount"]["goalOutcome"]) == (
        "AWAITING_EXECUTION", "OPEN")


async def test_until_goal_achieved_retries_a_connected_call(world: World) -> None:
    row, attempt = await executed(world, retry={"untilGoalAchieved": True, "maxAttempts": 3})
    second = (await world.record(attempt["id"], "CONNECTED", goalAchieved=False, notes="Call me later."))
    assert (second["nextAttempt"]["attemptNumber"], second["nextAttempt"]["dueAt"],
            second["campaignAccount"]["execution"]["status"]) == (2, iso(NINE + timedelta(hours=1)), "RESCHEDULED")
    await run_next(world, row, NINE + timedelta(hours=1))
    third = await world.record(second["nextAttempt"]["id"], "CONNECTED")  # goalAchieved unknown: not achieved
    assert third["nextAttempt"]["attemptNumber"] == 3
    await run_next(world, row, NINE + timedelta(hours=2))
    done = await world.record(third["nextAttempt"]["id"], "CONNECTED", goalAchieved=True)
    assert (done["nextAttempt"], done["campaignAccount"]["goalOutcome"],
            done["campaignAccount"]["execution"]["status"], done["campaignAccount"]["execution"]["attemptsMade"]) == (
        None, "ACHIEVED", "COMPLETED", 3)


async def test_until_goal_achieved_stops_at_max_attempts(world: World) -> None:
    row, attempt = await executed(world, retry={"untilGoalAchieved": True, "maxAttempts": 2})
    second = (await world.record(attempt["id"], "CONNECTED", goalAchieved=False))["nextAttempt"]
    await run_next(world, row, NINE + timedelta(hours=1))
    last = await world.record(second["id"], "CONNECTED", goalAchieved=False)
    assert (last["nextAttempt"], last["campaignAccount"]["execution"]["status"],
            last["campaignAccount"]["goalOutcome"]) == (None, "MAX_RETRIES", "OPEN")


async def test_attempts_made_of_attempts_allowed(world: World) -> None:
    row, attempt = await executed(world, steps=[email_step(subject="Hi", body="Hello"), call_step()],
                                  campaignType="FOLLOW_UP", retry={"maxAttempts": 5})
    call = (await world.record(attempt["id"], "SENT"))["nextAttempt"]
    assert (call["channel"], call["dueAt"]) == ("PHONE_CALL", iso(NINE))
    for n in range(2):
        await run_next(world, row, NINE + timedelta(hours=n))
        call = (await world.record(call["id"], "NO_ANSWER"))["nextAttempt"]
    await run_next(world, row, NINE + timedelta(hours=2))
    execution = (await world.row(row))["execution"]
    assert (execution["status"], execution["attemptsMade"], execution["maxAttempts"],
            execution["nextAttempt"]["attemptNumber"]) == ("EXECUTING", 4, 10, 3)  # "4/10"


# --- follow-up steps and their wording --------------------------------------------------------------------


FOLLOW_UP = [
    email_step(subject="Hello {{contact.first_name}}",
               body="Hi {{contact.name}}, {{sender.name}} here about {{product.name}} for {{account.name}}. "
                    "{{contact.shoe_size}}"),
    call_step(delayMinutes=2880),
    email_step(delayMinutes=1440, subject="Last note, {{ contact.first_name }}"),
]
DRAFTED_FOLLOW_UP = ("Hello Dana,\n\nI wanted to follow up on my previous message about Widget. Would you have 20 "
                "minutes next week for a short call?\n\nBest regards,\nOlivia Owner")


async def test_a_follow_up_sequence_runs_its_steps_after_their_delays(world: World) -> None:
    row, email = await executed(world, steps=FOLLOW_UP, campaignType="FOLLOW_UP")
    assert (email["subject"], email["body"], email["address"]) == (
        "Hello Dana", "Hi Dana Diaz, Olivia Owner here about Widget for Acme. {{contact.shoe_size}}",
        "dana@acme.example")
    sent = await world.record(email["id"], "SENT", signals=[{"kind": "competitor", "text": "Uses a competitor"}])
    message = sent["attempt"]["message"]
    assert {k: v for k, v in message.items() if k != "id"} == {
        "direction": "OUTBOUND", "channel": "EMAIL", "subject": "Hello Dana", "originalText": email["body"],
        "outcome": None}
    call = sent["nextAttempt"]
    wednesday = NINE + timedelta(days=2)
    assert (call["channel"], call["step"], call["dueAt"], call["subject"], call["body"], call["address"]) == (
        "PHONE_CALL", 2, iso(wednesday), None, DRAFTED_FOLLOW_UP, "+34600000001")
    assert sent["campaignAccount"]["execution"]["status"] == "AWAITING_EXECUTION"

    await run_next(world, row, wednesday)
    last = (await world.record(call["id"], "CONNECTED", notes="Interested, send the deck."))["nextAttempt"]
    assert (last["channel"], last["step"], last["dueAt"], last["subject"]) == (
        "EMAIL", 3, iso(wednesday + timedelta(days=1)), "Last note, Dana")
    assert last["body"] == DRAFTED_FOLLOW_UP  # the drafter's follow-up, as for the call

    await run_next(world, row, wednesday + timedelta(days=1))
    done = await world.record(last["id"], "SENT")
    assert done["nextAttempt"] is None
    assert done["campaignAccount"]["execution"] == {"status": "COMPLETED", "attemptsMade": 3, "maxAttempts": 9,
                                                    "nextAttempt": None}
    thread = await models.Message.filter(campaign_account_id=row.id).order_by("id").values_list(
        "channel", "subject", "original_text")
    assert [(str(c), s, t) for c, s, t in thread] == [
        ("email", "Hello Dana", email["body"]), ("phone_call", None, "Interested, send the deck."),
        ("email", "Last note, Dana", last["body"])]


async def test_the_next_step_delay_counts_from_when_the_previous_step_went_out(world: World) -> None:
    _, email = await executed(world, steps=FOLLOW_UP, campaignType="FOLLOW_UP")
    world.clock.set(NINE + timedelta(hours=6))  # the person records the e-mail in the afternoon
    call = (await world.record(email["id"], "SENT"))["nextAttempt"]
    assert call["dueAt"] == iso(NINE + timedelta(days=2))


async def test_a_step_is_skipped_for_a_contact_it_cannot_reach(world: World) -> None:
    _, email = await executed(world, {"name": "Dana Diaz", "email": "dana@acme.example"},
                              steps=[email_step(subject="Hi", body="Hello"), call_step(delayMinutes=60),
                                     email_step(delayMinutes=120, subject="Again", body="Hello again")],
                              campaignType="FOLLOW_UP")
    following = (await world.record(email["id"], "SENT"))["nextAttempt"]  # nobody has a phone: step 3
    assert (following["step"], following["channel"], following["dueAt"]) == (3, "EMAIL",
                                                                           iso(NINE + timedelta(hours=2)))


# --- recording results: idempotency and refusals ------------------------------------------------------------


async def test_a_result_is_logged_once_and_a_retried_request_answers_the_same(world: World) -> None:
    row, attempt = await executed(world)
    first = await world.record(attempt["id"], "NO_ANSWER")
    assert await world.record(attempt["id"], "NO_ANSWER") == first  # the same request again
    assert await models.OutreachAttempt.filter(campaign_account_id=row.id).count() == 2
    await run_next(world, row, NINE + timedelta(hours=1))
    second = await world.record(first["nextAttempt"]["id"], "CONNECTED", goalAchieved=True)
    again = await world.record(first["nextAttempt"]["id"], "CONNECTED", goalAchieved=True)
    assert again == second
    assert await models.Message.filter(campaign_account_id=row.id).count() == 2
    view = await world.view()
    assert view["outreachedAccounts"] == 1  # one account, however many results
    other = await world.record(attempt["id"], "BUSY")
    assert other["errors"] == [error("INVALID", "input.attemptId", "This attempt is done: a result is recorded once "
                                     "the attempt was executed (awaiting result), and only once.")]
    messages = data_of(await world.gql("query($id: ID!) { node(id: $id) { ... on CampaignAccount { messages { "
                                       "outcome channel direction } } } }",
                                       {"id": gid("CampaignAccount", row)}, as_=world.owner))["node"]["messages"]
    assert messages == [{"outcome": "NO_ANSWER", "channel": "PHONE_CALL", "direction": "OUTBOUND"},
                        {"outcome": "CONNECTED", "channel": "PHONE_CALL", "direction": "OUTBOUND"}]


async def test_a_result_for_an_attempt_not_executed_is_refused(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD")
    await world.go_live()
    attempt = await world.only_attempt(row)
    payload = await world.record(attempt["id"], "NO_ANSWER")
    assert payload == {"attempt": None, "campaignAccount": None, "nextAttempt": None, "errors": [
        error("INVALID", "input.attemptId", "This attempt is scheduled: a result is recorded once the attempt was "
              "executed (awaiting result), and only once.")]}
    assert (await world.only_attempt(row))["status"] == "SCHEDULED"


@pytest.mark.parametrize(("channel", "outcome", "message"), [
    ("PHONE_CALL", "SENT", "A call's outcome is CONNECTED, VOICEMAIL, NO_ANSWER, BUSY or FAILED."),
    ("PHONE_CALL", "BOUNCED", "A call's outcome is CONNECTED, VOICEMAIL, NO_ANSWER, BUSY or FAILED."),
    ("EMAIL", "CONNECTED", "An attempt by email is SENT, BOUNCED or FAILED (call outcomes are for PHONE_CALL)."),
    ("EMAIL", "NO_ANSWER", "An attempt by email is SENT, BOUNCED or FAILED (call outcomes are for PHONE_CALL)."),
])
async def test_an_outcome_must_fit_the_channel(world: World, channel: str, outcome: str, message: str) -> None:
    row, attempt = await executed(world, steps=[{"channel": channel, "subject": None, "body": "Hello"}])
    payload = await world.record(attempt["id"], outcome)
    assert payload["errors"] == [error("INVALID", "input.outcome", message)]
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


async def test_a_viewer_or_another_project_cannot_record_a_result(world: World, make_user: Any, add_member: Any,
                                                                  make_project: Any) -> None:
    row, attempt = await executed(world)
    viewer: Person = await make_user("viewer@example.com")
    await add_member(viewer, world.project, Role.VIEWER)
    refused = await world.record(attempt["id"], "NO_ANSWER", as_=viewer)
    assert refused["errors"] == [error("FORBIDDEN", None, "Your role in this project is viewer; you need member or "
                                       "higher to change data in it.")]
    stranger: Person = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    hidden = await world.record(attempt["id"], "NO_ANSWER", as_=stranger)
    assert hidden["errors"] == [error("NOT_FOUND", "input.attemptId", "OutreachAttempt not found.")]
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"
    assert await models.Message.filter(campaign_account_id=row.id).count() == 0


async def test_after_a_reset_every_contact_is_tried_again(world: World) -> None:
    row, attempt = await executed(world, DANA, EVE, retry={"maxAttempts": 1})
    eve = (await world.record(attempt["id"], "NO_ANSWER"))["nextAttempt"]
    assert eve["contact"] == {"name": "Eve Ortiz"}
    await run_next(world, row, NINE + timedelta(hours=1))
    assert (await world.record(eve["id"], "NO_ANSWER"))["campaignAccount"]["execution"]["status"] == "MAX_RETRIES"
    world.clock.set(NINE + timedelta(hours=2))
    await world.row_action([row], "RESET")
    dana = await run_next(world, row, NINE + timedelta(hours=2))
    assert dana["contact"] == {"name": "Dana Diaz"}
    following = await world.record(dana["id"], "NO_ANSWER")
    assert following["nextAttempt"] is not None and following["nextAttempt"]["contact"] == {"name": "Eve Ortiz"}


async def test_a_result_is_recorded_after_the_account_was_marked_do_not_contact(world: World) -> None:
    row, attempt = await executed(world)
    await world.ok("updateAccount", {"id": gid("Account", row.account_id), "status": "DO_NOT_CONTACT"})
    payload = await world.record(attempt["id"], "CONNECTED", notes="Asked us not to call again.")
    assert payload["errors"] == []
    assert (payload["attempt"]["status"], payload["campaignAccount"]["execution"]["status"]) == (
        "DONE", "COMPLETED")


async def test_an_executed_attempt_is_recorded_after_a_reply(world: World) -> None:
    row, email = await executed(world, steps=[email_step(subject="Hi", body="Hello")])
    await world.ok("logMessage", {"campaignAccountId": gid("CampaignAccount", row), "direction": "INBOUND",
                                  "text": "Thanks, interested."})
    payload = await world.record(email["id"], "SENT")
    assert payload["errors"] == []
    assert (payload["attempt"]["status"], payload["nextAttempt"],
            payload["campaignAccount"]["execution"]["status"]) == ("DONE", None, "COMPLETED")
