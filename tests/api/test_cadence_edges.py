"""Edges of the engine: a goal reached after the plan stopped, a row reviewed back to PENDING, due-time filters
with an offset, merged contacts, and a stalled claim taken again (executed once, its plan advanced once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Step
from outboundql.enums import (
    AccountStatus,
    AttemptOutcome,
    AttemptStatus,
    Channel,
    Direction,
    ExecutionMode,
    ExecutionStatus,
    GoalOutcome,
    ReviewStatus,
)
from outboundql.services import attempts, cadence, campaign_accounts, execution, messages, scheduler
from outboundql.services import contacts as contacts_service
from outboundql.services.clock import FakeClock
from outboundql.settings import Settings
from tests.helpers import Person, access_for, global_id

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NINE)


@pytest.fixture
def settings() -> Settings:
    """Pages of 3, so a cap shows with a few rows."""
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_page_size=3)


async def _live(owner: Person, project: models.Project, campaign: models.Campaign, *contacts: str,
                channel: Channel = Channel.PHONE_CALL) -> tuple[Any, models.CampaignAccount]:
    access = await access_for(owner)
    account = await models.Account.create(project=project, name="Acme")
    for k, name in enumerate(contacts):
        await models.Contact.create(project=project, account=account, name=name, phone=f"+3460000000{k}",
                                    email=f"c{k}@acme.test", is_decision_maker=k == 0)
    row = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED)
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=channel),), execution_mode=ExecutionMode.ON_ADD)))
    await execution.go_live(access, execution.GoLive(campaign.id))
    return access, row


async def test_a_goal_reached_after_a_reply_still_counts(
        owner: Person, project: models.Project, campaign: models.Campaign, jobs: Any) -> None:
    access, row = await _live(owner, project, campaign, "Dana Diaz")
    await scheduler.tick()
    await jobs()
    attempt = await models.OutreachAttempt.get(campaign_account_id=row.id)
    await messages.log_message(access, messages.LogMessage(campaign_account_id=row.id, direction=Direction.INBOUND,
                                                           channel=Channel.EMAIL, text="Call me back."))
    settled = await attempts.record_attempt_result(access, attempts.RecordAttemptResult(
        attempt.id, AttemptOutcome.CONNECTED, goal_achieved=True))
    assert (settled.campaign_account.execution_status, settled.campaign_account.goal_outcome) == (
        ExecutionStatus.COMPLETED, GoalOutcome.ACHIEVED)
    assert settled.next_attempt is None


async def test_a_row_reviewed_back_to_pending_is_not_reached_out_to(
        owner: Person, project: models.Project, campaign: models.Campaign) -> None:
    access, row = await _live(owner, project, campaign, "Dana Diaz")
    await campaign_accounts.review(access, campaign_accounts.ReviewCampaignAccounts(
        campaign_account_ids=(row.id,), decision=ReviewStatus.PENDING))
    assert (await models.CampaignAccount.get(id=row.id)).execution_status is ExecutionStatus.NOT_PLANNED
    assert (await scheduler.tick()).claimed == []
    assert [a.status for a in await models.OutreachAttempt.filter(campaign_account_id=row.id)] == [
        AttemptStatus.CANCELLED]


async def test_due_time_filters_read_an_offset_as_the_instant_it_names(
        owner: Person, project: models.Project, campaign: models.Campaign, gql: Any) -> None:
    await _live(owner, project, campaign, "Dana Diaz")  # due Monday 09:00 UTC
    query = """query($id: ID!, $f: OutreachAttemptFilter) { node(id: $id) { ... on Campaign {
        attempts(filter: $f) { totalCount } } } }"""

    async def count(**flt: str) -> int:
        result = await gql(query, {"id": global_id("Campaign", campaign.id), "f": flt}, as_=owner)
        return int(result["data"]["node"]["attempts"]["totalCount"])

    assert await count(dueBefore="2026-03-02T10:30:00+02:00") == 0  # 08:30 UTC
    assert await count(dueAfter="2026-03-02T10:30:00+02:00") == 1
    assert await count(dueBefore="2026-03-02T11:30:00+02:00") == 1  # 09:30 UTC


async def test_merging_contacts_moves_their_attempts(
        owner: Person, project: models.Project, campaign: models.Campaign) -> None:
    _, row = await _live(owner, project, campaign, "Dana Diaz")
    attempt = await models.OutreachAttempt.get(campaign_account_id=row.id)
    dana = await models.Contact.get(id=attempt.contact_id)
    survivor = await models.Account.create(project=project, name="Acme Inc")
    twin = await models.Contact.create(project=project, account=survivor, name="Dana D.", phone=dana.phone)
    await contacts_service.move_contact(dana, survivor)  # as merging the accounts does: folded into its twin
    assert (await models.OutreachAttempt.get(id=attempt.id)).contact_id == twin.id


async def test_a_stalled_claim_taken_again_advances_the_plan_once(
        owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock) -> None:
    _, row = await _live(owner, project, campaign, "Dana Diaz", "Bob Brown")
    clock.set(NINE)
    stalled, first = await scheduler.claim(clock.now())
    await models.Contact.filter(name="Dana Diaz").update(do_not_contact=True)
    assert (await scheduler.claim(clock.advance(scheduler.lease() + timedelta(seconds=1))))[1] == []  # queued still
    later = clock.advance(scheduler.lease())
    again, second = await scheduler.claim(later)
    assert first == second and stalled != again  # its job never started within twice the lease: claimed again
    await scheduler.execute(second, again, later)
    await scheduler.execute(first, stalled, later)  # the stalled worker wakes up: nothing left for it
    planned = await models.OutreachAttempt.filter(campaign_account_id=row.id).order_by("id")
    assert [(a.status, a.contact_id is not None) for a in planned] == [
        (AttemptStatus.CANCELLED, True), (AttemptStatus.SCHEDULED, True)]
    assert (await models.Contact.get(id=planned[1].contact_id)).name == "Bob Brown"
    assert (await models.Account.get(id=row.account_id)).status is AccountStatus.NEW


async def test_bulk_execution_mutations_refuse_no_ids_and_too_many_as_data(
        owner: Person, project: models.Project, campaign: models.Campaign, gql: Any, settings: Any) -> None:
    _, row = await _live(owner, project, campaign, "Dana Diaz")
    before = [(a.id, a.status) for a in await models.OutreachAttempt.all()]
    too_many = settings.max_bulk_items + 1
    calls = {
        "setCampaignAccountExecution": ("campaignAccountIds", "CampaignAccount", row.id, {"action": "DISABLE"},
                                        "campaign accounts"),
        "approveOutreach": ("attemptIds", "OutreachAttempt", before[0][0], {}, "attempts"),
        "rejectOutreach": ("attemptIds", "OutreachAttempt", before[0][0], {}, "attempts"),
    }
    for name, (ids_field, type_name, pk, extra, noun) in calls.items():
        doc = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) "
               "{ errors { code field message } } }")
        for ids, message in (([], f"Give at least one of the {noun}."),
                             ([global_id(type_name, pk)] * too_many,
                              f"At most {settings.max_bulk_items} {noun} per request.")):
            result = await gql(doc, {"input": {ids_field: ids, **extra}}, as_=owner)
            assert result["data"][name]["errors"] == [
                {"code": "INVALID", "field": f"input.{ids_field}", "message": message}], name
    assert [(a.id, a.status) for a in await models.OutreachAttempt.all()] == before
    assert (await models.CampaignAccount.get(id=row.id)).execution_disabled is False


async def test_a_row_shows_its_most_recent_attempts_up_to_the_limit(
        owner: Person, project: models.Project, campaign: models.Campaign, gql: Any) -> None:
    _, row = await _live(owner, project, campaign, "Dana Diaz")
    first = await models.OutreachAttempt.get(campaign_account_id=row.id)
    for n in range(2, 5):  # history of a few rounds, made directly
        await models.OutreachAttempt.create(
            project=project, campaign=campaign, campaign_account=row, contact_id=first.contact_id,
            channel=first.channel, step=1, attempt_number=n, status=AttemptStatus.CANCELLED, due_at=NINE,
            body="x")
    query = """query($id: ID!, $limit: Int!) { node(id: $id) { ... on CampaignAccount {
        attempts(limit: $limit) { attemptNumber } } } }"""

    async def numbers(limit: int) -> list[int]:
        result = await gql(query, {"id": global_id("CampaignAccount", row.id), "limit": limit}, as_=owner)
        return [a["attemptNumber"] for a in result["data"]["node"]["attempts"]]

    assert await numbers(2) == [4, 3]
    assert await numbers(20) == [4, 3, 2]  # never more than a page (3 here)
    assert await numbers(0) == []
