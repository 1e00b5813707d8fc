"""Reading execution through GraphQL: attempts as nodes and on their campaign, a campaign account's execution
and history, counts per shown status and goal outcome, the campaign-accounts filters, and query counts.
Rows and attempts are made directly with the models: this module reads only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slugify import slugify

from outboundql import models
from outboundql.cadence.settings import Cadence, Retry, Step
from outboundql.enums import (
    AttemptOutcome,
    AttemptStatus,
    Channel,
    Direction,
    ExecutionState,
    ExecutionStatus,
    GoalOutcome,
    MessageMode,
    MessageStatus,
)
from tests.helpers import Person, data_of, global_id, warm_up

T0 = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename
    ... on OutreachAttempt {
      id channel step attemptNumber status dueAt executedAt claimedAt subject body address outcome goalAchieved
      notes error createdAt
      message { id subject }
      contact { name }
      campaignAccount { id account { name } }
      campaign { name }
    }
  }
}
"""

CAMPAIGN = """
query($id: ID!, $filter: OutreachAttemptFilter, $first: Int, $after: String) {
  node(id: $id) {
    ... on Campaign {
      executionState liveAt outreachStartedAt
      executionCounts { status count }
      goalOutcomeCounts { outcome count }
      attempts(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id status channel step dueAt } }
      }
    }
  }
}
"""

ROWS = """
query($id: ID!, $filter: CampaignAccountFilter, $first: Int) {
  node(id: $id) {
    ... on Campaign {
      accounts(filter: $filter, first: $first, orderBy: { field: NAME, direction: ASC }) {
        totalCount
        edges { node {
          id goalOutcome
          account { name }
          execution { status attemptsMade maxAttempts nextAttempt { id dueAt channel subject body status } }
          attempts { id status step attemptNumber }
        } }
      }
    }
  }
}
"""

CAMPAIGNS_COUNTS = """
query($slug: String!, $first: Int!) {
  project(slug: $slug) {
    campaigns(first: $first) {
      edges { node { name executionState executionCounts { status count } goalOutcomeCounts { outcome count } } }
    }
  }
}
"""


async def add_row(campaign: models.Campaign, name: str, **fields: Any) -> models.CampaignAccount:
    account = await models.Account.create(project_id=campaign.project_id, name=name, name_key=name.lower())
    return await models.CampaignAccount.create(campaign=campaign, account=account, **fields)


async def add_attempt(row: models.CampaignAccount, *, status: AttemptStatus = AttemptStatus.SCHEDULED,
                      due: datetime = T0, channel: Channel = Channel.EMAIL, step: int = 1, number: int = 1,
                      **fields: Any) -> models.OutreachAttempt:
    campaign = await models.Campaign.get(id=row.campaign_id)
    return await models.OutreachAttempt.create(
        project_id=campaign.project_id, campaign_id=row.campaign_id, campaign_account=row, channel=channel, step=step,
        attempt_number=number, status=status, due_at=due, **fields)


async def make_campaign(owner: Person, product: models.Product, name: str, **fields: Any) -> models.Campaign:
    return await models.Campaign.create(project_id=product.project_id, product=product, name=name,
                                        slug=slugify(name), goal_key="sales", created_by=owner.user, **fields)


def counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {next(v for k, v in e.items() if k != "count"): e["count"] for e in entries}


async def test_an_attempt_is_a_node_with_its_message_contact_row_and_campaign(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    row = await add_row(campaign, "Acme")
    contact = await models.Contact.create(project_id=campaign.project_id, account_id=row.account_id, name="Dana",
                                          email="dana@acme.example")
    message = await models.Message.create(
        project_id=campaign.project_id, campaign_account=row, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
        status=MessageStatus.SENT, mode=MessageMode.LOG_SENT, subject="Hello Dana", original_text="Hi", sent_at=T0)
    attempt = await add_attempt(
        row, status=AttemptStatus.DONE, contact=contact, message=message, subject="Hello Dana", body="Hi",
        address="dana@acme.example", outcome=AttemptOutcome.SENT, goal_achieved=False, notes="fine",
        executed_at=T0 + timedelta(minutes=1), claimed_at=T0, step=2, number=3)

    node = data_of(await gql(NODE, {"id": global_id("OutreachAttempt", attempt.id)}, as_=owner))["node"]

    assert node["__typename"] == "OutreachAttempt"
    assert node["id"] == global_id("OutreachAttempt", attempt.id)
    assert (node["channel"], node["step"], node["attemptNumber"], node["status"]) == ("EMAIL", 2, 3, "DONE")
    assert node["dueAt"].startswith("2031-03-04T09:00:00") and node["claimedAt"].startswith("2031-03-04T09:00:00")
    assert node["executedAt"].startswith("2031-03-04T09:01:00")
    assert (node["subject"], node["body"], node["address"]) == ("Hello Dana", "Hi", "dana@acme.example")
    assert (node["outcome"], node["goalAchieved"], node["notes"], node["error"]) == ("SENT", False, "fine", None)
    assert node["message"] == {"id": global_id("Message", message.id), "subject": "Hello Dana"}
    assert node["contact"] == {"name": "Dana"}
    assert node["campaignAccount"] == {"id": global_id("CampaignAccount", row.id), "account": {"name": "Acme"}}
    assert node["campaign"] == {"name": "Camp"}


async def test_a_planned_attempt_has_no_message_contact_or_outcome(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    attempt = await add_attempt(await add_row(campaign, "Acme"), status=AttemptStatus.AWAITING_APPROVAL)
    node = data_of(await gql(NODE, {"id": global_id("OutreachAttempt", attempt.id)}, as_=owner))["node"]
    assert node["status"] == "AWAITING_APPROVAL"
    assert (node["message"], node["contact"], node["outcome"], node["goalAchieved"], node["executedAt"]) == (
        None, None, None, None, None)


async def test_another_projects_attempt_reads_as_null(
    gql: Any, owner: Person, make_user: Any, make_project: Any, campaign: models.Campaign
) -> None:
    attempt = await add_attempt(await add_row(campaign, "Acme"))
    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    gid = global_id("OutreachAttempt", attempt.id)

    assert data_of(await gql(NODE, {"id": gid}, as_=stranger)) == {"node": None}
    nodes = data_of(await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [gid]}, as_=stranger))
    assert nodes == {"nodes": [None]}
    missing = global_id("OutreachAttempt", attempt.id + 1000)
    assert data_of(await gql(NODE, {"id": missing}, as_=owner)) == {"node": None}
    # A campaign of another project is null too, and so are its attempts.
    other = data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id)}, as_=stranger))
    assert other == {"node": None}


async def seed_paused_campaign(campaign: models.Campaign) -> dict[str, models.CampaignAccount]:
    campaign.execution_state = ExecutionState.PAUSED
    campaign.live_at = T0
    await campaign.save()
    return {
        "active": await add_row(campaign, "A active", execution_status=ExecutionStatus.AWAITING_EXECUTION),
        "active_disabled": await add_row(campaign, "B active disabled",
                                         execution_status=ExecutionStatus.RESCHEDULED, execution_disabled=True),
        "completed_disabled": await add_row(campaign, "C completed disabled",
                                            execution_status=ExecutionStatus.COMPLETED, execution_disabled=True,
                                            goal_outcome=GoalOutcome.ACHIEVED),
        "not_planned": await add_row(campaign, "D not planned"),
        "not_planned_disabled": await add_row(campaign, "E not planned disabled", execution_disabled=True),
        "max_retries": await add_row(campaign, "F max retries", execution_status=ExecutionStatus.MAX_RETRIES,
                                     goal_outcome=GoalOutcome.LOST),
        "approval": await add_row(campaign, "G approval", execution_status=ExecutionStatus.AWAITING_APPROVAL),
    }


async def test_counts_show_disabled_rows_and_a_paused_campaign(
    gql: Any, owner: Person, product: models.Product, campaign: models.Campaign
) -> None:
    await seed_paused_campaign(campaign)
    live = await make_campaign(owner, product, "Live one", execution_state=ExecutionState.LIVE)
    await add_row(live, "Live active", execution_status=ExecutionStatus.AWAITING_EXECUTION)
    await add_row(live, "Live disabled", execution_status=ExecutionStatus.EXECUTING, execution_disabled=True)
    await add_row(live, "Live done", execution_status=ExecutionStatus.COMPLETED, goal_outcome=GoalOutcome.ACHIEVED)
    empty = await make_campaign(owner, product, "Empty")

    paused = data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id)}, as_=owner))["node"]
    assert paused["executionState"] == "PAUSED" and paused["liveAt"].startswith("2031-03-04T09:00:00")
    assert paused["outreachStartedAt"] is None
    # One entry per shown status that has rows, in the value set's order.
    assert paused["executionCounts"] == [
        {"status": "NOT_PLANNED", "count": 1},
        {"status": "COMPLETED", "count": 1},
        {"status": "MAX_RETRIES", "count": 1},
        {"status": "DISABLED", "count": 2},
        {"status": "CAMPAIGN_PAUSED", "count": 2},
    ]
    assert paused["goalOutcomeCounts"] == [
        {"outcome": "OPEN", "count": 5}, {"outcome": "ACHIEVED", "count": 1}, {"outcome": "LOST", "count": 1}]

    page = data_of(await gql(CAMPAIGNS_COUNTS, {"slug": (await campaign.project).slug, "first": 10}, as_=owner))
    by_name = {e["node"]["name"]: e["node"] for e in page["project"]["campaigns"]["edges"]}
    assert counts(by_name["Live one"]["executionCounts"]) == {"AWAITING_EXECUTION": 1, "COMPLETED": 1, "DISABLED": 1}
    assert counts(by_name["Live one"]["goalOutcomeCounts"]) == {"OPEN": 2, "ACHIEVED": 1}
    assert by_name["Empty"]["executionState"] == "NOT_LIVE"
    assert (by_name["Empty"]["executionCounts"], by_name["Empty"]["goalOutcomeCounts"]) == ([], [])
    assert counts(by_name["Camp"]["executionCounts"]) == counts(paused["executionCounts"])
    assert empty.execution_state is ExecutionState.NOT_LIVE


async def row_names(gql: Any, owner: Person, campaign: models.Campaign, flt: dict[str, Any]) -> list[str]:
    data = data_of(await gql(ROWS, {"id": global_id("Campaign", campaign.id), "filter": flt}, as_=owner))
    return [e["node"]["account"]["name"] for e in data["node"]["accounts"]["edges"]]


async def test_campaign_accounts_filter_by_shown_status_and_goal_outcome(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    await seed_paused_campaign(campaign)

    assert await row_names(gql, owner, campaign, {"executionStatuses": ["DISABLED"]}) == [
        "B active disabled", "E not planned disabled"]
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["CAMPAIGN_PAUSED"]}) == [
        "A active", "G approval"]
    # A stored status matches only the rows that show it: active rows of a paused campaign show CAMPAIGN_PAUSED.
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["AWAITING_EXECUTION", "RESCHEDULED"]}) == []
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["NOT_PLANNED"]}) == ["D not planned"]
    # A final status shows over the flag.
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["COMPLETED", "MAX_RETRIES"]}) == [
        "C completed disabled", "F max retries"]
    assert await row_names(gql, owner, campaign, {"goalOutcomes": ["ACHIEVED", "LOST"]}) == [
        "C completed disabled", "F max retries"]
    assert await row_names(gql, owner, campaign, {"goalOutcomes": ["OPEN"], "executionStatuses": ["DISABLED"]}) == [
        "B active disabled", "E not planned disabled"]

    campaign.execution_state = ExecutionState.LIVE
    await campaign.save()
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["CAMPAIGN_PAUSED"]}) == []
    assert await row_names(gql, owner, campaign, {"executionStatuses": ["AWAITING_EXECUTION", "RESCHEDULED"]}) == [
        "A active"]
    data = data_of(await gql(ROWS, {"id": global_id("Campaign", campaign.id), "filter": {}}, as_=owner))
    shown = {e["node"]["account"]["name"]: e["node"]["execution"]["status"] for e in data["node"]["accounts"]["edges"]}
    assert shown == {"A active": "AWAITING_EXECUTION", "B active disabled": "DISABLED",
                     "C completed disabled": "COMPLETED", "D not planned": "NOT_PLANNED",
                     "E not planned disabled": "DISABLED", "F max retries": "MAX_RETRIES",
                     "G approval": "AWAITING_APPROVAL"}


async def test_execution_shows_attempts_made_allowed_and_the_next_attempt(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    campaign.cadence = Cadence(steps=(Step(Channel.EMAIL), Step(Channel.PHONE_CALL, delay_minutes=60)),
                               retry=Retry(max_attempts=4)).stored()
    await campaign.save()
    row = await add_row(campaign, "Acme", execution_status=ExecutionStatus.RESCHEDULED, attempts_made=2)
    idle = await add_row(campaign, "Idle")
    await add_attempt(row, status=AttemptStatus.DONE, due=T0, number=1)
    await add_attempt(row, status=AttemptStatus.CANCELLED, due=T0 + timedelta(hours=1), number=2)
    later = await add_attempt(row, status=AttemptStatus.SCHEDULED, due=T0 + timedelta(hours=5), step=2)
    soonest = await add_attempt(row, status=AttemptStatus.AWAITING_APPROVAL, due=T0 + timedelta(hours=2), number=2,
                                channel=Channel.PHONE_CALL, subject=None, body="Call Dana")
    await add_attempt(row, status=AttemptStatus.REJECTED, due=T0 - timedelta(hours=1), number=3)

    data = data_of(await gql(ROWS, {"id": global_id("Campaign", campaign.id)}, as_=owner))
    nodes = {e["node"]["account"]["name"]: e["node"] for e in data["node"]["accounts"]["edges"]}
    acme = nodes["Acme"]
    assert acme["goalOutcome"] == "OPEN"
    execution = acme["execution"]
    assert (execution["status"], execution["attemptsMade"], execution["maxAttempts"]) == ("RESCHEDULED", 2, 8)
    assert execution["nextAttempt"] == {"id": global_id("OutreachAttempt", soonest.id), "channel": "PHONE_CALL",
                                        "dueAt": execution["nextAttempt"]["dueAt"], "subject": None,
                                        "body": "Call Dana", "status": "AWAITING_APPROVAL"}
    assert execution["nextAttempt"]["dueAt"].startswith("2031-03-04T11:00:00")
    # The history: every attempt, newest first.
    assert [a["status"] for a in acme["attempts"]] == [
        "REJECTED", "AWAITING_APPROVAL", "SCHEDULED", "CANCELLED", "DONE"]
    assert acme["attempts"][2]["id"] == global_id("OutreachAttempt", later.id)

    assert nodes["Idle"]["execution"] == {"status": "NOT_PLANNED", "attemptsMade": 0, "maxAttempts": 8,
                                          "nextAttempt": None}
    assert nodes["Idle"]["attempts"] == []
    assert idle.execution_status is ExecutionStatus.NOT_PLANNED

    # A cadence with no step yet allows one run of retries.
    campaign.cadence = {}
    await campaign.save()
    data = data_of(await gql(ROWS, {"id": global_id("Campaign", campaign.id)}, as_=owner))
    assert {e["node"]["execution"]["maxAttempts"] for e in data["node"]["accounts"]["edges"]} == {3}


async def attempt_ids(gql: Any, owner: Person, campaign: models.Campaign, flt: dict[str, Any] | None,
                      **page: Any) -> list[str]:
    data = data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id), "filter": flt, **page}, as_=owner))
    return [e["node"]["id"] for e in data["node"]["attempts"]["edges"]]


async def test_the_attempts_connection_filters_and_orders_by_due_time(
    gql: Any, owner: Person, product: models.Product, campaign: models.Campaign
) -> None:
    a, b = await add_row(campaign, "Alpha"), await add_row(campaign, "Beta")
    a1 = await add_attempt(a, status=AttemptStatus.AWAITING_APPROVAL, due=T0 + timedelta(hours=2))
    a2 = await add_attempt(a, status=AttemptStatus.SCHEDULED, due=T0, step=2, channel=Channel.PHONE_CALL)
    b1 = await add_attempt(b, status=AttemptStatus.AWAITING_APPROVAL, due=T0 + timedelta(hours=2))
    b2 = await add_attempt(b, status=AttemptStatus.DONE, due=T0 + timedelta(hours=1), channel=Channel.LINKEDIN)
    other = await make_campaign(owner, product, "Other")
    await add_attempt(await add_row(other, "Gamma"), status=AttemptStatus.AWAITING_APPROVAL)

    def gid(attempt: models.OutreachAttempt) -> str:
        return global_id("OutreachAttempt", attempt.id)

    # Due time, then id; only this campaign's attempts.
    assert await attempt_ids(gql, owner, campaign, None) == [gid(a2), gid(b2), gid(a1), gid(b1)]
    # The review queue.
    assert await attempt_ids(gql, owner, campaign, {"statuses": ["AWAITING_APPROVAL"]}) == [gid(a1), gid(b1)]
    assert await attempt_ids(gql, owner, campaign, {"channels": ["PHONE_CALL", "LINKEDIN"]}) == [gid(a2), gid(b2)]
    assert await attempt_ids(gql, owner, campaign, {"step": 2}) == [gid(a2)]
    assert await attempt_ids(gql, owner, campaign, {"campaignAccountIds": [global_id("CampaignAccount", b.id)]}) == [
        gid(b2), gid(b1)]
    # An id of another type, or of no row, matches nothing.
    assert await attempt_ids(gql, owner, campaign, {"campaignAccountIds": [global_id("Account", a.account_id)]}) == []
    window = {"dueAfter": (T0 + timedelta(hours=1)).isoformat(), "dueBefore": (T0 + timedelta(hours=2)).isoformat()}
    assert await attempt_ids(gql, owner, campaign, window) == [gid(b2)]
    assert await attempt_ids(gql, owner, campaign, {"statuses": ["AWAITING_APPROVAL"], "campaignAccountIds": [
        global_id("CampaignAccount", a.id)]}) == [gid(a1)]

    data = data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id), "first": 3}, as_=owner))
    attempts = data["node"]["attempts"]
    assert attempts["totalCount"] == 4 and attempts["pageInfo"]["hasNextPage"] is True
    rest = await attempt_ids(gql, owner, campaign, None, after=attempts["pageInfo"]["endCursor"])
    assert rest == [gid(b1)]


async def test_too_many_campaign_account_ids_in_the_attempts_filter_is_an_error(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    ids = [global_id("CampaignAccount", i) for i in range(1, 1002)]
    result = await gql(CAMPAIGN, {"id": global_id("Campaign", campaign.id), "filter": {"campaignAccountIds": ids}},
                       as_=owner)
    [error] = result["errors"]
    assert error["extensions"]["code"] == "INVALID"
    assert error["extensions"]["field"] == "filter.campaignAccountIds"


@pytest.fixture
def selects(gql: Any, owner: Person, count_queries: Any) -> Any:
    async def run(query: str, variables: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        await warm_up(gql, owner)
        with count_queries() as counter:
            data = data_of(await gql(query, variables, as_=owner))
        return counter.selects, data

    return run


async def seed_rows(campaign: models.Campaign, n: int) -> None:
    for i in range(n):
        row = await add_row(campaign, f"Row {i:03d}", execution_status=ExecutionStatus.AWAITING_EXECUTION,
                            execution_disabled=i % 5 == 0, attempts_made=1,
                            goal_outcome=GoalOutcome.ACHIEVED if i % 7 == 0 else GoalOutcome.OPEN)
        await add_attempt(row, status=AttemptStatus.DONE, due=T0)
        await add_attempt(row, status=AttemptStatus.SCHEDULED, due=T0 + timedelta(hours=i % 3 + 1), number=2)


# the campaign node, the page, its count, accounts, the rows' campaigns, next attempts, histories (authentication:
# cached)
MAX_ROW_SELECTS = 7
# project, the page, its count, the grouped counts (authentication: cached)
MAX_CAMPAIGN_SELECTS = 5


async def test_a_page_of_rows_with_execution_costs_a_bounded_number_of_selects(
    owner: Person, product: models.Product, campaign: models.Campaign, selects: Any
) -> None:
    small = await make_campaign(owner, product, "Small")
    await seed_rows(small, 5)
    await seed_rows(campaign, 50)

    small_count, small_data = await selects(ROWS, {"id": global_id("Campaign", small.id), "first": 5})
    big_count, big_data = await selects(ROWS, {"id": global_id("Campaign", campaign.id), "first": 50})

    edges = big_data["node"]["accounts"]["edges"]
    assert len(edges) == 50 and len(small_data["node"]["accounts"]["edges"]) == 5
    assert all(len(e["node"]["attempts"]) == 2 and e["node"]["execution"]["nextAttempt"] for e in edges)
    assert big_count == small_count
    assert big_count <= MAX_ROW_SELECTS


async def test_a_page_of_campaigns_with_counts_costs_a_bounded_number_of_selects(
    owner: Person, project: models.Project, product: models.Product, make_project: Any, selects: Any
) -> None:
    small = await make_project(owner, "Small")
    small_product = await models.Product.create(project=small, name="Gadget", slug="gadget", created_by=owner.user)
    await seed_rows(await make_campaign(owner, small_product, "Only"), 3)
    for i in range(12):
        await seed_rows(await make_campaign(owner, product, f"Campaign {i}",
                                            execution_state=ExecutionState.PAUSED if i % 2 else ExecutionState.LIVE), 3)

    small_count, small_data = await selects(CAMPAIGNS_COUNTS, {"slug": small.slug, "first": 10})
    big_count, big_data = await selects(CAMPAIGNS_COUNTS, {"slug": project.slug, "first": 12})

    assert len(small_data["project"]["campaigns"]["edges"]) == 1
    nodes = [e["node"] for e in big_data["project"]["campaigns"]["edges"]]
    assert len(nodes) == 12
    for node in nodes:
        active = "CAMPAIGN_PAUSED" if node["executionState"] == "PAUSED" else "AWAITING_EXECUTION"
        assert counts(node["executionCounts"]) == {"DISABLED": 1, active: 2}
        assert counts(node["goalOutcomeCounts"]) == {"OPEN": 2, "ACHIEVED": 1}
    assert big_count == small_count
    assert big_count <= MAX_CAMPAIGN_SELECTS


# --- the mutations are wired (their behaviour is tested with the engine) ---------------------------------------

EXECUTION_MUTATION = """
mutation($i: CampaignExecutionInput!) {
  goLive(input: $i) { campaign { id executionState } planned errors { code field message } }
  pauseCampaign(input: $i) { campaign { id } errors { code field } }
  resumeCampaign(input: $i) { campaign { id } errors { code field } }
  startOutreach(input: $i) { campaign { id } planned errors { code field } }
  executeApproved(input: $i) { campaign { id } attempts { id } errors { code field } }
}
"""

ROW_MUTATIONS = """
mutation($rows: SetCampaignAccountExecutionInput!, $approve: ApproveOutreachInput!, $reject: RejectOutreachInput!,
         $record: RecordAttemptResultInput!) {
  setCampaignAccountExecution(input: $rows) {
    campaignAccounts { id execution { status } } errors { code field message }
  }
  approveOutreach(input: $approve) { attempts { id } errors { code field message } }
  rejectOutreach(input: $reject) { attempts { id } errors { code field message } }
  recordAttemptResult(input: $record) {
    attempt { id } campaignAccount { id } nextAttempt { id } errors { code field message }
  }
}
"""


async def test_the_campaign_execution_mutations_answer_errors_as_data(
    gql: Any, owner: Person, campaign: models.Campaign
) -> None:
    data = data_of(await gql(EXECUTION_MUTATION, {"i": {"campaignId": global_id("Campaign", campaign.id)}}, as_=owner))

    went = data["goLive"]
    assert went["campaign"] is None and went["planned"] == 0
    assert {(e["code"], e["field"]) for e in went["errors"]} == {("INVALID", "input.campaignId")}
    assert any("no step" in e["message"] for e in went["errors"])
    for name in ("pauseCampaign", "resumeCampaign", "startOutreach"):
        assert data[name]["campaign"] is None and data[name]["errors"], name
    assert data["executeApproved"] == {"campaign": {"id": global_id("Campaign", campaign.id)}, "attempts": [],
                                       "errors": []}
    assert (await models.Campaign.get(id=campaign.id)).execution_state is ExecutionState.NOT_LIVE

    wrong = data_of(await gql(EXECUTION_MUTATION, {"i": {"campaignId": global_id("Product", campaign.product_id)}},
                              as_=owner))
    assert wrong["goLive"]["errors"] == [{"code": "NOT_FOUND", "field": "input.campaignId",
                                          "message": "Campaign not found."}]


async def test_the_row_and_attempt_mutations_are_wired(gql: Any, owner: Person, campaign: models.Campaign) -> None:
    row = await add_row(campaign, "Acme", execution_status=ExecutionStatus.AWAITING_EXECUTION)
    scheduled = await add_attempt(row, status=AttemptStatus.SCHEDULED)
    gid = global_id("OutreachAttempt", scheduled.id)

    data = data_of(await gql(ROW_MUTATIONS, {
        "rows": {"campaignAccountIds": [global_id("CampaignAccount", row.id)], "action": "DISABLE"},
        "approve": {"attemptIds": [gid], "edits": [{"attemptId": global_id("OutreachAttempt", scheduled.id + 99)}]},
        "reject": {"attemptIds": [gid]},
        "record": {"attemptId": gid, "outcome": "SENT"},
    }, as_=owner))

    assert data["setCampaignAccountExecution"] == {
        "campaignAccounts": [{"id": global_id("CampaignAccount", row.id), "execution": {"status": "DISABLED"}}],
        "errors": []}
    # An edit names one of the attempts approved; any other id is NOT_FOUND.
    assert data["approveOutreach"]["attempts"] is None
    assert [(e["code"], e["field"]) for e in data["approveOutreach"]["errors"]] == [
        ("NOT_FOUND", "input.edits[0].attemptId")]
    assert [(e["code"], e["field"]) for e in data["rejectOutreach"]["errors"]] == [("INVALID", "input.attemptIds[0]")]
    recorded = data["recordAttemptResult"]
    assert (recorded["attempt"], recorded["campaignAccount"], recorded["nextAttempt"]) == (None, None, None)
    assert [e["field"] for e in recorded["errors"]] == ["input.attemptId"]
    assert (await models.OutreachAttempt.get(id=scheduled.id)).status is AttemptStatus.SCHEDULED

    missing = data_of(await gql(ROW_MUTATIONS, {
        "rows": {"campaignAccountIds": [global_id("Campaign", campaign.id)], "action": "ENABLE"},
        "approve": {"attemptIds": [global_id("Message", 1)]},
        "reject": {"attemptIds": [gid, global_id("OutreachAttempt", scheduled.id + 99)]},
        "record": {"attemptId": global_id("OutreachAttempt", scheduled.id + 99), "outcome": "SENT"},
    }, as_=owner))
    assert [(e["code"], e["field"]) for e in missing["setCampaignAccountExecution"]["errors"]] == [
        ("NOT_FOUND", "input.campaignAccountIds[0]")]
    assert [(e["code"], e["field"]) for e in missing["approveOutreach"]["errors"]] == [
        ("NOT_FOUND", "input.attemptIds[0]")]
    assert [(e["code"], e["field"]) for e in missing["rejectOutreach"]["errors"]] == [
        ("NOT_FOUND", "input.attemptIds[1]")]
    assert [(e["code"], e["field"]) for e in missing["recordAttemptResult"]["errors"]] == [
        ("NOT_FOUND", "input.attemptId")]
