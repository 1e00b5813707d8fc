"""Running a campaign through GraphQL: going live (one-way, its refusals), the execution modes (MANUAL, SCHEDULED,
ON_ADD), which rows are eligible, pausing and resuming with due attempts, executing through the built-in ``log``
channel, do-not-contact at execution, a reply stopping the account's plan, archiving, a row's own actions and the
live events. Time is a `FakeClock` moved by the tests; ``World.tick`` runs the scheduler's tick and its jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.cadence.settings import Cadence, Step
from outboundql.enums import AttemptStatus, Channel, ExecutionMode, ReviewStatus, Role
from outboundql.services import runtime, scheduler
from outboundql.services.clock import FakeClock
from outboundql.services.jobs import JobsUnavailable
from tests.api.cadence_world import MONDAY_8, World, call_step, counts, error, gid, iso, pk
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_campaign_subscriptions import subscribed
from tests.helpers import Person, data_of

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "phone": "+34600000001", "is_decision_maker": True}
EVE = {"name": "Eve Ortiz", "phone": "+34600000002"}
CALLS_ON_ADD = {"steps": [call_step()], "executionMode": "ON_ADD"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def viewer_of(world: World, make_user: Any, add_member: Any) -> Person:
    person: Person = await make_user("viewer@example.com")
    await add_member(person, world.project, Role.VIEWER)
    return person


# --- the log channel ---------------------------------------------------------------------------------------


async def test_an_executed_attempt_of_the_log_channel_awaits_its_result(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    live = await world.go_live()
    assert live == {"campaign": {"executionState": "LIVE", "liveAt": iso(MONDAY_8),
                                 "outreachStartedAt": iso(MONDAY_8)}, "planned": 1, "errors": []}
    planned = await world.row(row)
    attempt = planned["execution"]["nextAttempt"]
    assert {k: attempt[k] for k in ("channel", "step", "attemptNumber", "status", "dueAt", "claimedAt",
                                    "executedAt", "address", "contact", "message", "outcome")} == {
        "channel": "PHONE_CALL", "step": 1, "attemptNumber": 1, "status": "SCHEDULED", "dueAt": iso(NINE),
        "claimedAt": None, "executedAt": None, "address": "+34600000001", "contact": {"name": "Dana Diaz"},
        "message": None, "outcome": None}
    assert (planned["execution"]["status"], planned["execution"]["attemptsMade"],
            planned["execution"]["maxAttempts"]) == ("AWAITING_EXECUTION", 0, 3)

    assert await world.tick() == scheduler.Tick(0, [])  # 08:00: before the window
    assert await world.at(NINE - timedelta(seconds=1)) == scheduler.Tick(0, [])
    pk = (await models.OutreachAttempt.get(campaign_account_id=row.id)).id
    assert await world.at(NINE) == scheduler.Tick(0, [pk])

    executed = await world.row(row)
    assert executed["execution"]["status"] == "EXECUTING"
    assert executed["execution"]["attemptsMade"] == 1
    now = executed["execution"]["nextAttempt"]  # awaiting its result is still pending
    assert (now["id"], now["status"], now["claimedAt"], now["executedAt"], now["message"]) == (
        attempt["id"], "AWAITING_RESULT", iso(NINE), iso(NINE), None)
    view = await world.view()
    assert counts(view["executionCounts"]) == {"EXECUTING": 1}
    assert view["outreachedAccounts"] == 0  # nothing is logged until its result is recorded
    assert await world.at(NINE + timedelta(minutes=30)) == scheduler.Tick(0, [])  # never claimed twice


# --- going live -----------------------------------------------------------------------------------------


async def test_going_live_is_one_way(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.advance(minutes=5)
    conflict = [error("CONFLICT", "input.campaignId", "This campaign already went live (2026-03-02T08:00+00:00); "
                      "going live is one-way. Pause or resume it instead.")]
    assert await world.campaign_call("goLive") == {"campaign": None, "planned": 0, "errors": conflict}
    paused = await world.campaign_call("pauseCampaign")
    assert paused["campaign"]["executionState"] == "PAUSED" and paused["errors"] == []
    assert (await world.campaign_call("goLive"))["errors"] == conflict
    assert (await world.campaign_call("pauseCampaign"))["errors"] == [
        error("INVALID", "input.campaignId", "This campaign is already paused.")]
    resumed = await world.campaign_call("resumeCampaign")
    assert resumed["campaign"] == {"executionState": "LIVE", "liveAt": iso(MONDAY_8),
                                   "outreachStartedAt": iso(MONDAY_8)}
    assert (await world.campaign_call("resumeCampaign"))["errors"] == [
        error("INVALID", "input.campaignId", "This campaign is already live.")]
    assert await models.OutreachAttempt.filter(campaign_id=world.campaign.id).count() == 1  # planned once


async def test_pausing_or_starting_a_campaign_not_live_is_refused(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()])
    not_live = [error("INVALID", "input.campaignId", "This campaign is not live yet: go live first.")]
    for name in ("pauseCampaign", "resumeCampaign", "startOutreach"):
        assert (await world.campaign_call(name))["errors"] == not_live, name
    assert (await world.view())["executionState"] == "NOT_LIVE"


NO_STEP = "The cadence has no step yet: add one with updateCadence before going live."
NO_ROW = ("No row of this campaign is eligible for outreach (rows reviewed APPROVED): add accounts and review "
          "them, or let the cadence admit every row (eligibility ALL).")
NO_START = "A SCHEDULED cadence needs its start time (startAt) before going live."


@pytest.mark.parametrize(("setup", "messages"), [
    ("no step", [NO_STEP]),
    ("no approved row", [NO_ROW]),
    ("no step and no row", [NO_STEP, NO_ROW]),
    ("scheduled without start", [NO_START]),
    ("end passed", ["The cadence's end time (endAt) passed: move it before going live."]),
    ("every row rejected", [NO_ROW.replace("reviewed APPROVED", "not rejected")]),
])
async def test_go_live_refusals_are_data_and_write_nothing(world: World, setup: str, messages: list[str]) -> None:
    review = {"no approved row": ReviewStatus.PENDING, "no step and no row": ReviewStatus.PENDING,
              "every row rejected": ReviewStatus.REJECTED}.get(setup, ReviewStatus.APPROVED)
    row = await world.account("Acme", DANA, review=review)
    if setup == "scheduled without start":  # updateCadence refuses it; a cadence stored before that rule
        await models.Campaign.filter(id=world.campaign.id).update(cadence=Cadence(
            steps=(Step(channel=Channel.PHONE_CALL),), execution_mode=ExecutionMode.SCHEDULED).stored())
    elif setup == "no approved row":
        await world.cadence(**CALLS_ON_ADD)
    elif setup == "every row rejected":
        await world.cadence(**CALLS_ON_ADD, eligibility="ALL")
    elif setup == "end passed":
        await world.cadence(**CALLS_ON_ADD, endAt=iso(MONDAY_8 - timedelta(minutes=1)))
    payload = await world.campaign_call("goLive")
    assert payload == {"campaign": None, "planned": 0,
                       "errors": [error("INVALID", "input.campaignId", m) for m in messages]}
    view = await world.view()
    assert (view["executionState"], view["liveAt"], view["outreachStartedAt"], view["attempts"]) == (
        "NOT_LIVE", None, None, [])
    assert counts(view["executionCounts"]) == {"NOT_PLANNED": 1}
    assert (await world.row(row))["execution"]["status"] == "NOT_PLANNED"


async def test_a_viewer_cannot_go_live(world: World, make_user: Any, add_member: Any) -> None:
    await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    viewer = await viewer_of(world, make_user, add_member)
    payload = await world.campaign_call("goLive", as_=viewer)
    assert payload["errors"] == [error("FORBIDDEN", None, "Your role in this project is viewer; you need member or "
                                       "higher to change data in it.")]
    assert (await world.view())["executionState"] == "NOT_LIVE"


@pytest.mark.parametrize(("eligibility", "planned", "shown"), [
    ("APPROVED_ONLY", 1, {"Approved": "AWAITING_EXECUTION", "Pending": "NOT_PLANNED", "Rejected": "NOT_PLANNED"}),
    ("ALL", 2, {"Approved": "AWAITING_EXECUTION", "Pending": "AWAITING_EXECUTION", "Rejected": "NOT_PLANNED"}),
])
async def test_eligibility_decides_which_rows_are_planned(world: World, eligibility: str, planned: int,
                                                          shown: dict[str, str]) -> None:
    rows = {name: await world.account(name, {**DANA, "name": f"{name} Person"}, review=review)
            for name, review in (("Approved", ReviewStatus.APPROVED), ("Pending", ReviewStatus.PENDING),
                                 ("Rejected", ReviewStatus.REJECTED))}
    await world.cadence(**CALLS_ON_ADD, eligibility=eligibility)
    assert (await world.go_live())["planned"] == planned
    await world.tick()  # a tick plans nothing more
    assert {name: (await world.row(row))["execution"]["status"] for name, row in rows.items()} == shown
    assert len(await world.attempts()) == planned


# --- execution modes ------------------------------------------------------------------------------------------


async def test_manual_mode_plans_nothing_until_start_outreach_and_later_rows_wait_for_the_next(
        world: World) -> None:
    first = await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()])  # MANUAL by default
    live = await world.go_live()
    assert live == {"campaign": {"executionState": "LIVE", "liveAt": iso(MONDAY_8), "outreachStartedAt": None},
                    "planned": 0, "errors": []}
    assert await world.at(NINE) == scheduler.Tick(0, [])
    assert (await world.row(first))["execution"]["status"] == "NOT_PLANNED"

    world.clock.set(NINE + timedelta(minutes=30))
    started = await world.campaign_call("startOutreach")
    assert started == {"campaign": {"executionState": "LIVE", "liveAt": iso(MONDAY_8),
                                    "outreachStartedAt": iso(NINE + timedelta(minutes=30))},
                       "planned": 1, "errors": []}
    attempt = await world.only_attempt(first)
    assert (attempt["dueAt"], attempt["status"]) == (iso(NINE + timedelta(minutes=30)), "SCHEDULED")

    # A row added and approved later waits for the next startOutreach, ticks or not.
    account = await models.Account.create(project=world.project, name="Beta", name_key="beta")
    await models.Contact.create(project=world.project, account=account, **EVE)
    added = await world.ok("addAccountsToCampaign", {"campaignId": world.gid, "accountIds": [gid("Account", account)]})
    assert added["added"] == 1
    later = await models.CampaignAccount.get(campaign_id=world.campaign.id, account_id=account.id)
    await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", later)],
                                              "decision": "APPROVED"})
    await world.at(NINE + timedelta(hours=1))
    assert (await world.row(later))["execution"]["status"] == "NOT_PLANNED"
    again = await world.campaign_call("startOutreach")
    assert (again["planned"], again["errors"]) == (1, [])
    assert (await world.only_attempt(later))["dueAt"] == iso(NINE + timedelta(hours=1))
    assert (await world.campaign_call("startOutreach"))["errors"] == [error(
        "INVALID", "input.campaignId", "No eligible row waits for outreach: every eligible row is planned already, "
        "or none is eligible (review rows APPROVED, or admit every row with eligibility ALL).")]


async def test_each_start_outreach_is_when_planning_last_began(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()])
    await world.go_live()
    world.clock.set(NINE)
    await world.campaign_call("startOutreach")
    await world.account("Beta", EVE)
    world.clock.set(NINE + timedelta(hours=2))
    again = await world.campaign_call("startOutreach")
    assert again["campaign"]["outreachStartedAt"] == iso(NINE + timedelta(hours=2))


async def test_a_scheduled_campaign_starts_on_the_first_tick_after_start_at(world: World) -> None:
    row = await world.account("Acme", DANA)
    start = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # Tuesday
    await world.cadence(steps=[call_step()], executionMode="SCHEDULED", startAt=iso(start))
    live = await world.go_live()
    assert live == {"campaign": {"executionState": "LIVE", "liveAt": iso(MONDAY_8), "outreachStartedAt": iso(start)},
                    "planned": 0, "errors": []}
    assert await world.at(NINE) == scheduler.Tick(0, [])
    assert await world.at(start - timedelta(seconds=1)) == scheduler.Tick(0, [])
    assert (await world.row(row))["execution"]["status"] == "NOT_PLANNED"
    done = await world.at(start)  # plans, then claims what is due at once
    pk = (await models.OutreachAttempt.get(campaign_account_id=row.id)).id
    assert done == scheduler.Tick(1, [pk])
    execution = (await world.row(row))["execution"]
    assert (execution["status"], execution["nextAttempt"]["dueAt"], execution["nextAttempt"]["executedAt"]) == (
        "EXECUTING", iso(start), iso(start))
    # Once started, a row approved later is planned at once, like ON_ADD.
    beta = await world.account("Beta", EVE, review=ReviewStatus.PENDING)
    await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", beta)],
                                              "decision": "APPROVED"})
    assert (await world.only_attempt(beta))["dueAt"] == iso(start)


async def test_a_start_moved_after_going_live_is_when_the_campaign_starts(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()], executionMode="SCHEDULED", startAt=iso(NINE + timedelta(days=1)))
    await world.go_live()
    await world.cadence(startAt=iso(NINE + timedelta(days=2)))
    assert await world.at(NINE + timedelta(days=1)) == scheduler.Tick(0, [])
    assert (await world.row(row))["execution"]["status"] == "NOT_PLANNED"
    assert (await world.at(NINE + timedelta(days=2))).planned == 1


async def test_outreach_started_at_follows_a_moved_start(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()], executionMode="SCHEDULED", startAt=iso(NINE + timedelta(days=1)))
    await world.go_live()
    await world.cadence(startAt=iso(NINE + timedelta(days=2)))
    assert (await world.view())["outreachStartedAt"] == iso(NINE + timedelta(days=2))


async def test_a_live_campaign_switched_to_on_add_plans_its_rows(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()])
    await world.go_live()
    await world.cadence(executionMode="ON_ADD")
    await world.tick()
    assert (await world.row(row))["execution"]["status"] == "AWAITING_EXECUTION"


async def test_on_add_plans_rows_added_to_a_live_campaign_at_once(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD, eligibility="ALL")
    await world.go_live()
    world.clock.set(NINE + timedelta(minutes=20))
    created = await world.ok("createAccount", {
        "projectId": gid("Project", world.project), "name": "Beta",
        "contacts": [{"name": "Eve Ortiz", "phone": "+34600000002"}]})
    added = await world.ok("addAccountsToCampaign", {"campaignId": world.gid,
                                                     "accountIds": [created["account"]["id"]]})
    assert added["added"] == 1
    row = await models.CampaignAccount.get(campaign_id=world.campaign.id, account__name="Beta")
    attempt = await world.only_attempt(row)  # no tick needed
    assert (attempt["status"], attempt["dueAt"], attempt["contact"]) == (
        "SCHEDULED", iso(NINE + timedelta(minutes=20)), {"name": "Eve Ortiz"})
    assert (await world.row(row))["execution"]["status"] == "AWAITING_EXECUTION"


async def test_on_add_plans_a_row_when_it_is_approved(world: World) -> None:
    await world.account("Acme", DANA)
    pending = await world.account("Beta", EVE, review=ReviewStatus.PENDING)
    await world.cadence(**CALLS_ON_ADD)
    assert (await world.go_live())["planned"] == 1
    await world.tick()
    assert (await world.row(pending))["execution"] == {"status": "NOT_PLANNED", "attemptsMade": 0,
                                                       "maxAttempts": 3, "nextAttempt": None}
    world.clock.set(NINE + timedelta(hours=3))
    await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", pending)],
                                              "decision": "APPROVED"})
    execution = (await world.row(pending))["execution"]
    assert (execution["status"], execution["nextAttempt"]["dueAt"]) == (
        "AWAITING_EXECUTION", iso(NINE + timedelta(hours=3)))


async def test_rows_nobody_can_be_reached_at_are_disqualified_when_planned(world: World) -> None:
    reachable = await world.account("Acme", DANA)
    no_phone = await world.account("Beta", {"name": "Eve Ortiz", "email": "eve@beta.example"})
    barred = await world.account("Gamma", {**DANA, "name": "Gus Gil"}, status="do_not_contact")
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    assert {name: (await world.row(r))["execution"]["status"] for name, r in
            (("Acme", reachable), ("Beta", no_phone), ("Gamma", barred))} == {
        "Acme": "AWAITING_EXECUTION", "Beta": "DISQUALIFIED", "Gamma": "DISQUALIFIED"}
    assert counts((await world.view())["executionCounts"]) == {"AWAITING_EXECUTION": 1, "DISQUALIFIED": 2}


async def test_planned_counts_only_rows_given_an_attempt(world: World) -> None:
    await world.account("Acme", DANA)
    await world.account("Beta", {"name": "Eve Ortiz", "email": "eve@beta.example"})  # no phone
    await world.cadence(**CALLS_ON_ADD)
    assert (await world.go_live())["planned"] == 1


async def test_the_account_own_phone_serves_when_no_contact_has_one(world: World) -> None:
    row = await world.account("Acme", {"name": "Eve Ortiz", "email": "eve@acme.example"}, phone="+34910000000")
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    attempt = await world.only_attempt(row)
    assert (attempt["address"], attempt["contact"]) == ("+34910000000", None)


async def shown(world: World, status: str) -> list[str]:
    """Names of the accounts the campaign-accounts filter finds showing ``status``."""
    query = """query($id: ID!, $statuses: [ExecutionStatus!]) { node(id: $id) { ... on Campaign {
      accounts(filter: {executionStatuses: $statuses}, orderBy: {field: NAME, direction: ASC}) {
        edges { node { account { name } } } } } } }"""
    data = data_of(await world.gql(query, {"id": world.gid, "statuses": [status]}, as_=world.owner))
    return [e["node"]["account"]["name"] for e in data["node"]["accounts"]["edges"]]


# --- pause and resume -------------------------------------------------------------------------------------


async def test_pause_keeps_due_attempts_and_resume_executes_them_inside_the_window(world: World) -> None:
    acme = await world.account("Acme", DANA)
    beta = await world.account("Beta", EVE)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(MONDAY_8 + timedelta(minutes=30))
    paused = await world.campaign_call("pauseCampaign")
    assert (paused["campaign"]["executionState"], paused["errors"]) == ("PAUSED", [])
    view = await world.view()
    assert counts(view["executionCounts"]) == {"CAMPAIGN_PAUSED": 2}
    assert [(a["status"], a["dueAt"]) for a in view["attempts"]] == [("SCHEDULED", iso(NINE))] * 2
    assert (await world.row(acme))["execution"]["status"] == "CAMPAIGN_PAUSED"
    assert await shown(world, "CAMPAIGN_PAUSED") == ["Acme", "Beta"]
    assert await shown(world, "AWAITING_EXECUTION") == []
    assert await world.at(NINE) == scheduler.Tick(0, [])
    assert await world.at(NINE + timedelta(hours=7)) == scheduler.Tick(0, [])  # 16:00, still paused

    evening = MONDAY_8 + timedelta(hours=9, minutes=30)  # 17:30: the window closed
    world.clock.set(evening)
    resumed = await world.campaign_call("resumeCampaign")
    assert (resumed["campaign"]["executionState"], resumed["errors"]) == ("LIVE", [])
    assert counts((await world.view())["executionCounts"]) == {"AWAITING_EXECUTION": 2}
    ids = sorted(a.id for a in await models.OutreachAttempt.filter(campaign_id=world.campaign.id))
    assert await world.tick() == scheduler.Tick(0, ids)  # due: claimed, then sent back to the window
    tuesday = NINE + timedelta(days=1)
    assert [(a["status"], a["dueAt"], a["claimedAt"], a["executedAt"]) for a in await world.attempts()] == [
        ("SCHEDULED", iso(tuesday), None, None)] * 2
    assert await world.at(tuesday) == scheduler.Tick(0, ids)
    for row in (acme, beta):
        execution = (await world.row(row))["execution"]
        assert (execution["status"], execution["attemptsMade"], execution["nextAttempt"]["executedAt"]) == (
            "EXECUTING", 1, iso(tuesday))


async def test_an_attempt_claimed_before_a_pause_is_not_executed(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(NINE)
    claimed = await scheduler.tick()  # claimed; its job has not run yet
    assert len(claimed.claimed) == 1
    await world.campaign_call("pauseCampaign")
    await world.jobs()
    attempt = await world.only_attempt(row)
    assert (attempt["status"], attempt["dueAt"], attempt["claimedAt"], attempt["executedAt"]) == (
        "SCHEDULED", iso(NINE), None, None)
    assert (await world.row(row))["execution"]["status"] == "CAMPAIGN_PAUSED"
    await world.campaign_call("resumeCampaign")
    world.clock.advance(minutes=1)
    assert (await world.tick()).claimed == claimed.claimed
    assert (await world.only_attempt(row))["executedAt"] == iso(NINE + timedelta(minutes=1))


# --- do-not-contact at execution ------------------------------------------------------------------------------


async def test_an_account_marked_do_not_contact_after_planning_is_disqualified_at_execution(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    marked = await world.ok("updateAccount", {"id": gid("Account", row.account_id), "status": "DO_NOT_CONTACT"})
    assert marked["account"]["status"] == "DO_NOT_CONTACT"
    pk = (await models.OutreachAttempt.get(campaign_account_id=row.id)).id
    assert await world.at(NINE) == scheduler.Tick(0, [pk])  # claimed, then refused by the check at execution
    seen = await world.row(row)
    assert (seen["execution"]["status"], seen["execution"]["attemptsMade"], seen["execution"]["nextAttempt"]) == (
        "DISQUALIFIED", 0, None)
    assert [(a["status"], a["error"], a["executedAt"], a["message"]) for a in seen["attempts"]] == [
        ("CANCELLED", "Acme is marked do_not_contact.", None, None)]
    assert await models.Message.filter(campaign_account_id=row.id).count() == 0


async def test_a_contact_marked_do_not_contact_passes_the_attempt_to_the_next_contact(world: World) -> None:
    row = await world.account("Acme", DANA, EVE)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    dana = await world.contact("Dana Diaz")
    assert (await world.only_attempt(row))["contact"] == {"name": "Dana Diaz"}  # the decision maker first
    await world.ok("updateContact", {"id": gid("Contact", dana), "doNotContact": True})
    await world.at(NINE)
    seen = await world.row(row)
    following, cancelled = seen["attempts"]  # newest first
    assert (cancelled["status"], cancelled["error"], cancelled["executedAt"]) == (
        "CANCELLED", "Dana Diaz is marked do not contact.", None)
    assert (following["contact"], following["address"], following["step"], following["attemptNumber"],
            following["status"], following["dueAt"]) == (
        {"name": "Eve Ortiz"}, "+34600000002", 1, 1, "SCHEDULED", iso(NINE))  # at once: nothing was attempted
    assert (seen["execution"]["status"], seen["execution"]["attemptsMade"]) == ("RESCHEDULED", 0)
    await world.at(NINE + timedelta(hours=1))
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


async def test_the_only_contact_marked_do_not_contact_disqualifies_the_row_at_execution(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    await world.ok("updateContact", {"id": gid("Contact", await world.contact("Dana Diaz")), "doNotContact": True})
    await world.at(NINE)
    seen = await world.row(row)
    assert (seen["execution"]["status"], seen["execution"]["nextAttempt"]) == ("DISQUALIFIED", None)


# --- a reply stops the plan ------------------------------------------------------------------------------------


async def test_an_inbound_message_stops_the_account_plan(world: World) -> None:
    row = await world.account("Acme", {**DANA, "email": "dana@acme.example"})
    await world.cadence(campaignType="FOLLOW_UP", executionMode="ON_ADD", steps=[
        {"channel": "EMAIL", "subject": "Hi", "body": "Hello {{contact.first_name}}"},
        call_step(delayMinutes=2880)])
    await world.go_live()
    first = await world.only_attempt(row)
    await world.at(NINE)
    settled = await world.record(first["id"], "SENT")
    call = settled["nextAttempt"]
    assert (call["channel"], call["status"], call["dueAt"]) == (
        "PHONE_CALL", "SCHEDULED", iso(NINE + timedelta(days=2)))

    world.clock.set(NINE + timedelta(days=1))
    logged = await world.ok("logMessage", {"campaignAccountId": gid("CampaignAccount", row), "direction": "INBOUND",
                                           "text": "Not now, thanks."})
    assert logged["message"] is not None
    seen = await world.row(row)
    assert (seen["execution"]["status"], seen["execution"]["nextAttempt"], seen["goalOutcome"],
            seen["outreachStatus"]) == ("COMPLETED", None, "OPEN", "RESPONDED")
    assert [(a["channel"], a["status"], a["error"]) for a in seen["attempts"]] == [
        ("PHONE_CALL", "CANCELLED", "A reply came in: the plan stopped."), ("EMAIL", "DONE", None)]
    assert await world.at(NINE + timedelta(days=2)) == scheduler.Tick(0, [])


# --- archiving ----------------------------------------------------------------------------------------------


async def test_archiving_stops_everything(world: World) -> None:
    acme = await world.account("Acme", DANA)
    await world.account("Beta", EVE)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(MONDAY_8 + timedelta(minutes=30))
    archived = await world.ok("archiveCampaign", {"id": world.gid})
    assert archived["campaign"]["executionState"] == "STOPPED"
    view = await world.view()
    assert counts(view["executionCounts"]) == {"COMPLETED": 2}
    assert [(a["status"], a["error"]) for a in view["attempts"]] == [
        ("CANCELLED", "The campaign was archived.")] * 2
    assert await world.at(NINE) == scheduler.Tick(0, [])
    archived_error = [error("INVALID", "input.campaignId", "This campaign is archived: its outreach stopped for "
                            "good. Create a new campaign to reach out again.")]
    for name in ("goLive", "resumeCampaign", "pauseCampaign", "startOutreach"):
        assert (await world.campaign_call(name))["errors"] == archived_error, name
    # Unarchiving shows it again; its outreach stays stopped.
    shown = await world.ok("unarchiveCampaign", {"id": world.gid})
    assert (shown["campaign"]["executionState"], shown["campaign"]["archivedAt"]) == ("STOPPED", None)
    assert (await world.campaign_call("goLive"))["errors"] == archived_error
    await world.account("Gamma", {**DANA, "name": "Gus Gil"})
    assert await world.at(NINE + timedelta(hours=1)) == scheduler.Tick(0, [])
    assert (await world.row(acme))["execution"]["nextAttempt"] is None


# --- one row's plan -----------------------------------------------------------------------------------------


async def test_a_disabled_row_is_skipped_until_enabled(world: World) -> None:
    acme = await world.account("Acme", DANA)
    beta = await world.account("Beta", EVE)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    disabled = await world.row_action([acme], "DISABLE")
    assert [(r["id"], r["execution"]["status"]) for r in disabled["campaignAccounts"]] == [
        (gid("CampaignAccount", acme), "DISABLED")]
    assert counts((await world.view())["executionCounts"]) == {"AWAITING_EXECUTION": 1, "DISABLED": 1}
    assert await shown(world, "DISABLED") == ["Acme"]
    beta_attempt = (await models.OutreachAttempt.get(campaign_account_id=beta.id)).id
    acme_attempt = (await models.OutreachAttempt.get(campaign_account_id=acme.id)).id
    assert await world.at(NINE) == scheduler.Tick(0, [beta_attempt])
    assert (await world.only_attempt(acme))["status"] == "SCHEDULED"
    enabled = await world.row_action([acme], "ENABLE")
    assert enabled["campaignAccounts"][0]["execution"]["status"] == "AWAITING_EXECUTION"
    assert await world.at(NINE + timedelta(minutes=5)) == scheduler.Tick(0, [acme_attempt])


async def test_reset_plans_the_row_again_from_the_first_step_and_keeps_its_history(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    await world.at(NINE)
    first = await world.only_attempt(row)
    retry = (await world.record(first["id"], "NO_ANSWER"))["nextAttempt"]
    assert (retry["attemptNumber"], retry["dueAt"]) == (2, iso(NINE + timedelta(hours=1)))
    world.clock.set(NINE + timedelta(minutes=30))
    reset = await world.row_action([row], "RESET")
    execution = reset["campaignAccounts"][0]["execution"]
    assert (execution["status"], execution["attemptsMade"], execution["nextAttempt"]["step"],
            execution["nextAttempt"]["attemptNumber"], execution["nextAttempt"]["dueAt"]) == (
        "AWAITING_EXECUTION", 0, 1, 1, iso(NINE + timedelta(minutes=30)))
    history = (await world.row(row))["attempts"]
    assert [(a["attemptNumber"], a["status"], a["error"]) for a in history] == [
        (1, "SCHEDULED", None), (2, "CANCELLED", "Reset by a person: planned again from the first step."),
        (1, "DONE", None)]


async def test_complete_ends_the_row_plan(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    await world.at(NINE)
    completed = await world.row_action([row], "COMPLETE")
    assert completed["campaignAccounts"][0]["execution"] == {"status": "COMPLETED", "attemptsMade": 1,
                                                             "maxAttempts": 3, "nextAttempt": None}
    # The call already made keeps waiting for its result (it can still be recorded); nothing more is planned.
    assert [(a["status"], a["error"]) for a in (await world.row(row))["attempts"]] == [("AWAITING_RESULT", None)]
    # Disabling a finished row shows its final status.
    assert (await world.row_action([row], "DISABLE"))["campaignAccounts"][0]["execution"]["status"] == "COMPLETED"


async def test_row_actions_refuse_unknown_rows_and_viewers(world: World, make_user: Any, add_member: Any) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    missing = await world.call("setCampaignAccountExecution", {
        "campaignAccountIds": [gid("CampaignAccount", row), gid("CampaignAccount", 999)], "action": "DISABLE"})
    assert missing == {"campaignAccounts": None, "errors": [
        error("NOT_FOUND", "input.campaignAccountIds[1]", "CampaignAccount not found.")]}
    viewer = await viewer_of(world, make_user, add_member)
    refused = await world.call("setCampaignAccountExecution", {
        "campaignAccountIds": [gid("CampaignAccount", row)], "action": "COMPLETE"}, as_=viewer)
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    assert (await world.row(row))["execution"]["status"] == "AWAITING_EXECUTION"


# --- end time ----------------------------------------------------------------------------------------------


async def test_nothing_is_executed_after_the_end_time(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD, endAt=iso(NINE + timedelta(hours=2)))
    await world.go_live()
    world.clock.set(NINE)
    await world.row_action([row], "DISABLE")
    await world.at(NINE + timedelta(hours=1))
    await world.row_action([row], "ENABLE")
    pk = (await models.OutreachAttempt.get(campaign_account_id=row.id)).id
    assert await world.at(NINE + timedelta(hours=2)) == scheduler.Tick(0, [pk])
    seen = await world.row(row)
    assert (seen["execution"]["status"], seen["attempts"][0]["status"], seen["attempts"][0]["error"]) == (
        "COMPLETED", "CANCELLED", "The campaign's end time passed before this attempt was executed.")


# --- live events -------------------------------------------------------------------------------------------

EVENTS = """
subscription($id: ID!) {
  campaignEvents(campaignId: $id) {
    kind campaign { executionState } execution { campaignAccountIds attemptIds }
  }
}
"""


async def test_campaign_events_carry_execution_changes(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    received: list[dict[str, Any]] = []
    async with subscribed(world.owner, EVENTS, world.gid) as stream:
        async def consume() -> None:
            async for result in stream:
                assert result.errors is None, result.errors
                received.append(result.data["campaignEvents"])

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.05)  # the resolver listens
        await world.go_live()
        await world.at(NINE)
        for _ in range(20):
            await asyncio.sleep(0.01)
        task.cancel()
    pk = (await models.OutreachAttempt.get(campaign_account_id=row.id)).id
    execution = [e for e in received if e["kind"] == "EXECUTION_CHANGED"]
    assert execution == [
        {"kind": "EXECUTION_CHANGED", "campaign": {"executionState": "LIVE"},
         "execution": {"campaignAccountIds": [], "attemptIds": []}},  # going live
        {"kind": "EXECUTION_CHANGED", "campaign": {"executionState": "LIVE"},
         "execution": {"campaignAccountIds": [gid("CampaignAccount", row)],
                       "attemptIds": [gid("OutreachAttempt", pk)]}},  # executed
    ]


async def test_queries_see_only_their_project(world: World, make_user: Any, make_project: Any, gql: Any) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    stranger: Person = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    attempt = await world.only_attempt(row)
    seen = data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": attempt["id"]}, as_=stranger))
    assert seen["node"] is None


# --- a claim is executed once, and never lost ------------------------------------------------------------------


async def test_a_claim_whose_job_was_lost_is_claimed_again_after_the_lease(world: World, stub_broker: Any) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(NINE)
    first = await scheduler.tick()
    stub_broker.flush_all()  # the broker lost the job
    attempt = await world.only_attempt(row)
    assert (attempt["status"], attempt["claimedAt"]) == ("EXECUTING", iso(NINE))
    assert (await world.row(row))["execution"]["status"] == "AWAITING_EXECUTION"
    # A claim whose job never started counts as lost after twice the lease (300 s).
    assert await world.at(NINE + timedelta(seconds=600)) == scheduler.Tick(0, [])
    assert await world.at(NINE + timedelta(seconds=601)) == scheduler.Tick(0, first.claimed)
    attempt = await world.only_attempt(row)
    assert (attempt["status"], attempt["claimedAt"], attempt["executedAt"]) == (
        "AWAITING_RESULT", iso(NINE + timedelta(seconds=601)), iso(NINE + timedelta(seconds=601)))
    assert (await world.row(row))["execution"]["attemptsMade"] == 1


async def _five_due(world: World) -> list[int]:
    for i in range(5):
        await world.account(f"Lead {i}", {**DANA, "phone": f"+3460000001{i}"})
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(NINE)
    return sorted(await models.OutreachAttempt.all().values_list("id", flat=True))


async def test_claims_stop_while_the_queue_holds_what_workers_have_not_started(world: World, stub_broker: Any
                                                                                 ) -> None:
    due = await _five_due(world)
    first = await scheduler.tick(claim_limit=1)  # nothing runs the jobs: they wait in the queue
    assert first.claimed == due[:scheduler.WAITING_CLAIMS] and await scheduler.waiting(NINE) == 2
    assert (await scheduler.tick(claim_limit=1)).claimed == []  # the queue is full
    started = await models.OutreachAttempt.get(id=due[0])
    assert started.claim_token is not None
    assert await scheduler.execute([started.id], started.claim_token) == [started.id]  # a worker ran one job
    assert (await scheduler.tick(claim_limit=1)).claimed == [due[2]]  # room for one more
    world.clock.set(NINE + scheduler.lease() + timedelta(seconds=1))  # those waiting so long are lost, or late
    assert (await scheduler.tick(claim_limit=1)).claimed == due[3:5]
    assert len(stub_broker.queues["outreach"].queue) == 5


async def test_a_batch_the_queue_cannot_take_goes_back_to_the_schedule_at_once(
        world: World, stub_broker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    due = await _five_due(world)

    async def down(attempt_ids: Any, claim_token: str) -> None:
        raise JobsUnavailable("The job queue is unavailable: ConnectionError")

    monkeypatch.setattr(runtime.jobs(), "execute_attempts", down)
    assert await scheduler.tick() == scheduler.Tick(0, [])
    back = await models.OutreachAttempt.filter(id__in=due)
    assert {(a.status, a.claim_token, a.claimed_at) for a in back} == {(AttemptStatus.SCHEDULED, None, None)}
    monkeypatch.undo()
    assert (await scheduler.tick()).claimed == due  # the next tick, the queue back: nothing waited for a lease


async def test_a_job_that_executed_a_full_batch_claims_the_next_at_once(
        world: World, stub_broker: Any, jobs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    due = await _five_due(world)
    monkeypatch.setattr(scheduler, "CLAIM_BATCH", 2)
    assert (await scheduler.tick(claim_limit=2)).claimed == due[:4]  # two batches of two wait for a worker
    await jobs()  # no tick: each full batch executed claims what is due next, as far as the queue has room
    assert await models.OutreachAttempt.filter(status=AttemptStatus.AWAITING_RESULT).count() == 5


async def test_a_job_delivered_twice_executes_its_attempts_once(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    world.clock.set(NINE)
    claimed = await scheduler.tick()
    token = (await models.OutreachAttempt.get(id=claimed.claimed[0])).claim_token
    assert token is not None
    await runtime.jobs().execute_attempts(claimed.claimed, token)  # a duplicate message
    await world.jobs()
    execution = (await world.row(row))["execution"]
    assert (execution["status"], execution["attemptsMade"], execution["nextAttempt"]["status"]) == (
        "EXECUTING", 1, "AWAITING_RESULT")
    # Written as a plain row, it is stamped like any event: a worker executed it.
    assert await models.AuditEvent.filter(action="attempt.execute").values_list("source", flat=True) == ["worker"]


# --- more about planning ------------------------------------------------------------------------------------


async def test_rows_added_while_paused_are_planned_by_the_first_tick_after_resuming(world: World) -> None:
    await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD, eligibility="ALL")
    await world.go_live()
    await world.campaign_call("pauseCampaign")
    account = await models.Account.create(project=world.project, name="Beta", name_key="beta")
    await models.Contact.create(project=world.project, account=account, **EVE)
    await world.ok("addAccountsToCampaign", {"campaignId": world.gid, "accountIds": [gid("Account", account)]})
    beta = await models.CampaignAccount.get(campaign_id=world.campaign.id, account_id=account.id)
    assert await world.at(NINE) == scheduler.Tick(0, [])
    assert (await world.row(beta))["execution"] == {"status": "NOT_PLANNED", "attemptsMade": 0, "maxAttempts": 3,
                                                    "nextAttempt": None}
    world.clock.set(NINE + timedelta(hours=1))
    await world.campaign_call("resumeCampaign")
    done = await world.tick()
    assert (done.planned, len(done.claimed)) == (1, 2)  # Beta planned, then both executed
    assert (await world.only_attempt(beta))["executedAt"] == iso(NINE + timedelta(hours=1))


async def test_start_outreach_starts_a_scheduled_campaign_early(world: World) -> None:
    row = await world.account("Acme", DANA)
    start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    await world.cadence(steps=[call_step()], executionMode="SCHEDULED", startAt=iso(start))
    await world.go_live()
    world.clock.set(NINE)
    early = await world.campaign_call("startOutreach")
    assert (early["planned"], early["campaign"]["outreachStartedAt"]) == (1, iso(NINE))
    assert (await world.only_attempt(row))["dueAt"] == iso(NINE)


async def test_a_person_setting_the_goal_outcome_ends_the_plan(world: World) -> None:
    acme = await world.account("Acme", DANA)
    beta = await world.account("Beta", EVE)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    update = """mutation($input: UpdateCampaignAccountInput!) {
      updateCampaignAccount(input: $input) { campaignAccount { goalOutcome } errors { message } } }"""
    for row, outcome in ((acme, "LOST"), (beta, "ACHIEVED")):
        done = data_of(await world.gql(update, {"input": {"id": gid("CampaignAccount", row), "goalOutcome": outcome}},
                                       as_=world.owner))["updateCampaignAccount"]
        assert done == {"campaignAccount": {"goalOutcome": outcome}, "errors": []}
    view = await world.view()
    assert (counts(view["executionCounts"]), counts(view["goalOutcomeCounts"])) == (
        {"COMPLETED": 2}, {"LOST": 1, "ACHIEVED": 1})
    assert sorted((a["status"], a["error"]) for a in view["attempts"]) == [
        ("CANCELLED", "The goal outcome was set to achieved."), ("CANCELLED", "The goal outcome was set to lost.")]
    assert await world.at(NINE) == scheduler.Tick(0, [])


async def test_the_row_chosen_contact_is_reached_first(world: World) -> None:
    row = await world.account("Acme", DANA, EVE)
    eve = await world.contact("Eve Ortiz")
    update = """mutation($input: UpdateCampaignAccountInput!) {
      updateCampaignAccount(input: $input) { errors { message } } }"""
    assert data_of(await world.gql(update, {"input": {"id": gid("CampaignAccount", row), "contactId": gid(
        "Contact", eve)}}, as_=world.owner))["updateCampaignAccount"]["errors"] == []
    await world.cadence(steps=[{"channel": "LINKEDIN", "body": "Hi {{contact.first_name}}"}], executionMode="ON_ADD")
    await models.Contact.filter(id=eve.id).update(linkedin_url="https://www.linkedin.com/in/eve-ortiz")
    await models.Contact.filter(name="Dana Diaz").update(linkedin_url="https://www.linkedin.com/in/dana-diaz")
    await world.go_live()
    attempt = await world.only_attempt(row)
    assert (attempt["channel"], attempt["contact"], attempt["address"], attempt["body"], attempt["subject"]) == (
        "LINKEDIN", {"name": "Eve Ortiz"}, "https://www.linkedin.com/in/eve-ortiz", "Hi Eve", None)


async def test_a_planned_row_reviewed_rejected_is_not_planned_any_more(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", row)],
                                              "decision": "REJECTED"})
    seen = await world.row(row)
    assert (seen["execution"]["status"], [(a["status"], a["error"]) for a in seen["attempts"]]) == (
        "NOT_PLANNED", [("CANCELLED", "The row was reviewed REJECTED.")])
    assert await world.at(NINE) == scheduler.Tick(0, [])


async def test_a_row_approved_again_after_a_rejection_is_planned_again(world: World) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    for decision in ("REJECTED", "APPROVED"):
        await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", row)],
                                                  "decision": decision})
    await world.tick()
    assert (await world.row(row))["execution"]["status"] == "AWAITING_EXECUTION"


async def test_a_reply_stops_the_plan_in_its_own_campaign_only(world: World, owner: Person) -> None:
    row = await world.account("Acme", DANA)
    await world.cadence(**CALLS_ON_ADD)
    await world.go_live()
    other = await models.Campaign.create(project=world.project, product_id=world.campaign.product_id, name="Other",
                                         slug="other", goal_key="sales", created_by=owner.user)
    elsewhere = await models.CampaignAccount.create(campaign=other, account_id=row.account_id,
                                                    review_status=ReviewStatus.APPROVED)
    second = World(world.gql, owner, world.project, other, world.clock, world.jobs)
    await second.cadence(**CALLS_ON_ADD)
    await second.go_live()
    await world.ok("logMessage", {"campaignAccountId": gid("CampaignAccount", row), "direction": "INBOUND",
                                  "channel": "PHONE_CALL", "text": "Called us back."})
    assert (await world.row(row))["execution"]["status"] == "COMPLETED"
    assert (await second.row(elsewhere))["execution"]["status"] == "AWAITING_EXECUTION"


async def test_a_retry_due_after_the_end_time_is_never_executed(world: World) -> None:
    row = await world.account("Acme", DANA)
    end = NINE + timedelta(hours=3)
    await world.cadence(**CALLS_ON_ADD, endAt=iso(end))
    await world.go_live()
    await world.at(NINE)
    world.clock.set(end - timedelta(minutes=30))
    retry = (await world.record((await world.only_attempt(row))["id"], "NO_ANSWER"))["nextAttempt"]
    assert retry["dueAt"] == iso(end + timedelta(minutes=30))
    assert await world.at(end + timedelta(minutes=30)) == scheduler.Tick(0, [pk(retry)])
    seen = await world.row(row)
    assert (seen["execution"]["status"], seen["execution"]["attemptsMade"], seen["attempts"][0]["status"]) == (
        "COMPLETED", 1, "CANCELLED")
