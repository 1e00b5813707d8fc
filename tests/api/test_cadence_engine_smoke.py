"""The engine end to end through its services (the GraphQL tests cover each rule): plan, tick, execute, record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import drafting, models
from outboundql.cadence import rules
from outboundql.cadence.settings import Step
from outboundql.enums import AttemptOutcome, AttemptStatus, Channel, ExecutionMode, ExecutionStatus, ReviewStatus
from outboundql.services import attempts, cadence, execution, scheduler
from outboundql.services.clock import FakeClock
from tests.helpers import Person, access_for, global_id

MONDAY_8 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def test_a_call_is_planned_executed_retried_and_completed(
        owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock, jobs: Any) -> None:
    access = await access_for(owner)
    account = await models.Account.create(project=project, name="Acme")
    await models.Contact.create(project=project, account=account, name="Dana Diaz", phone="+34600000001")
    row = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED)
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.PHONE_CALL),), execution_mode=ExecutionMode.ON_ADD)))
    live = await execution.go_live(access, execution.GoLive(campaign.id))
    assert live.planned == 1
    first = await models.OutreachAttempt.get(campaign_account_id=row.id)
    assert first.status is AttemptStatus.SCHEDULED and first.due_at == MONDAY_8 + timedelta(hours=1)
    assert (await scheduler.tick()).claimed == []  # 08:00 UTC: before the 09:00 window
    clock.advance(hours=1)
    assert (await scheduler.tick()).claimed == [first.id]
    await jobs()
    first = await models.OutreachAttempt.get(id=first.id)
    assert first.status is AttemptStatus.AWAITING_RESULT
    settled = await attempts.record_attempt_result(access, attempts.RecordAttemptResult(
        first.id, AttemptOutcome.NO_ANSWER))
    assert settled.next_attempt is not None and settled.next_attempt.attempt_number == 2
    assert settled.next_attempt.due_at == MONDAY_8 + timedelta(hours=2)
    assert settled.campaign_account.execution_status is ExecutionStatus.RESCHEDULED
    clock.advance(hours=1)
    assert (await scheduler.tick()).claimed == [settled.next_attempt.id]
    await jobs()
    done = await attempts.record_attempt_result(access, attempts.RecordAttemptResult(
        settled.next_attempt.id, AttemptOutcome.CONNECTED, goal_achieved=True, notes="Booked a demo."))
    assert done.campaign_account.execution_status is ExecutionStatus.COMPLETED
    assert done.campaign_account.goal_outcome.value == "achieved"
    assert done.campaign_account.attempts_made == 2
    assert await models.Message.filter(campaign_account_id=row.id).count() == 2


async def test_a_goal_outcome_set_by_a_person_ends_the_plan(
        owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock, gql: Any) -> None:
    access = await access_for(owner)
    account = await models.Account.create(project=project, name="Acme")
    await models.Contact.create(project=project, account=account, name="Dana Diaz", email="dana@acme.test")
    row = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED)
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.EMAIL),), execution_mode=ExecutionMode.ON_ADD)))
    await execution.go_live(access, execution.GoLive(campaign.id))
    result = await gql("""mutation($input: UpdateCampaignAccountInput!) { updateCampaignAccount(input: $input) {
        campaignAccount { goalOutcome execution { status nextAttempt { id } } attempts { status error } }
        errors { field message } } }""",
                       {"input": {"id": global_id("CampaignAccount", row.id), "goalOutcome": "LOST"}}, as_=owner)
    assert result["data"]["updateCampaignAccount"] == {"errors": [], "campaignAccount": {
        "goalOutcome": "LOST", "execution": {"status": "COMPLETED", "nextAttempt": None},
        "attempts": [{"status": "CANCELLED", "error": "The goal outcome was set to lost."}]}}


async def test_a_planned_row_reviewed_rejected_is_not_planned_any_more(
        owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock, gql: Any) -> None:
    access = await access_for(owner)
    account = await models.Account.create(project=project, name="Acme")
    await models.Contact.create(project=project, account=account, name="Dana Diaz", email="dana@acme.test")
    row = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED)
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.EMAIL),), execution_mode=ExecutionMode.ON_ADD)))
    await execution.go_live(access, execution.GoLive(campaign.id))
    result = await gql("""mutation($input: ReviewCampaignAccountsInput!) { reviewCampaignAccounts(input: $input) {
        errors { field message } } }""", {"input": {
        "campaignAccountIds": [global_id("CampaignAccount", row.id)], "decision": "REJECTED"}}, as_=owner)
    assert result["data"]["reviewCampaignAccounts"]["errors"] == []
    row = await models.CampaignAccount.get(id=row.id)
    assert (row.execution_status, row.plan_round) == (ExecutionStatus.NOT_PLANNED, 2)
    assert [(a.status, a.error) for a in await models.OutreachAttempt.filter(campaign_account_id=row.id)] == [
        (AttemptStatus.CANCELLED, "The row was reviewed REJECTED.")]


async def test_the_wording_drafted_once_per_step_is_what_drafting_each_row_writes(
        owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock) -> None:
    access = await access_for(owner)
    names = ["Acme", "Bolt {account} & Co", "Odd \ue000account\ue000 name"]  # braces, and the mark itself
    for name in names:
        account = await models.Account.create(project=project, name=name, email=f"hi@{len(name)}.test")
        if name == "Acme":
            await models.Contact.create(project=project, account=account, name="Dana Diaz", email="dana@acme.test")
        await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED)
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.EMAIL),), execution_mode=ExecutionMode.ON_ADD)))
    await execution.go_live(access, execution.GoLive(campaign.id))
    product = await models.Product.get(id=campaign.product_id)
    planned = await models.OutreachAttempt.filter(campaign_id=campaign.id).prefetch_related(
        "campaign_account__account", "contact")
    assert len(planned) == len(names)
    for attempt in planned:
        contact = await attempt.contact if attempt.contact_id else None
        alone = await drafting.TemplateDrafter().draft(drafting.DraftRequest(
            mode=drafting.FIRST, language="en", channel="email", goal_key="sales", goal_label="Sales",
            message_intent="", product_name=product.name, account_name=attempt.campaign_account.account.name,
            contact_name=contact.name if contact else None, sender_name=owner.user.name))
        assert (attempt.subject, attempt.body) == (alone.subject, alone.text)
