"""A small world for the cadence engine's GraphQL tests: the documents, and `World`, which drives one campaign
through the real HTTP app (``gql``), a `FakeClock`, the scheduler's tick and the queued execute jobs.

Test modules override the ``clock`` fixture with ``FakeClock(MONDAY_8)`` (or another instant) and build a world
with the ``world`` fixture below (import it into the module: ``from tests.api.cadence_world import world``).
Accounts and contacts are made directly in the database unless a test is about the GraphQL that makes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from strawberry.relay import from_base64

from outboundql import models
from outboundql.enums import ReviewStatus
from outboundql.services import scheduler
from outboundql.services.clock import FakeClock
from tests.helpers import Person, data_of, global_id

MONDAY_8 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Monday 2 March 2026, 08:00 UTC: an hour before the default window (09:00–17:00 UTC, Monday to Friday)."""

ATTEMPT = """
id channel step attemptNumber status dueAt claimedAt executedAt subject body address outcome goalAchieved notes
error contact { name } message { id direction channel subject originalText outcome }
"""
EXECUTION = f"status attemptsMade maxAttempts nextAttempt {{ {ATTEMPT} }}"

CAMPAIGN = f"""
query($id: ID!, $filter: OutreachAttemptFilter) {{
  node(id: $id) {{
    ... on Campaign {{
      executionState liveAt outreachStartedAt outreachedAccounts
      executionCounts {{ status count }}
      goalOutcomeCounts {{ outcome count }}
      attempts(filter: $filter) {{ totalCount edges {{ node {{ {ATTEMPT} campaignAccount {{ id }} }} }} }}
    }}
  }}
}}
"""

ROW = f"""
query($id: ID!) {{
  node(id: $id) {{
    ... on CampaignAccount {{
      goalOutcome outreachStatus
      execution {{ {EXECUTION} }}
      attempts {{ {ATTEMPT} }}
    }}
  }}
}}
"""

EXECUTION_PAYLOAD = """
campaign { executionState liveAt outreachStartedAt } planned errors { code field message }
"""
MUTATIONS: dict[str, str] = {
    "goLive": f"mutation($input: CampaignExecutionInput!) {{ goLive(input: $input) {{ {EXECUTION_PAYLOAD} }} }}",
    "pauseCampaign": f"mutation($input: CampaignExecutionInput!) {{ pauseCampaign(input: $input) {{ "
                     f"{EXECUTION_PAYLOAD} }} }}",
    "resumeCampaign": f"mutation($input: CampaignExecutionInput!) {{ resumeCampaign(input: $input) {{ "
                      f"{EXECUTION_PAYLOAD} }} }}",
    "startOutreach": f"mutation($input: CampaignExecutionInput!) {{ startOutreach(input: $input) {{ "
                     f"{EXECUTION_PAYLOAD} }} }}",
    "executeApproved": f"""mutation($input: CampaignExecutionInput!) {{ executeApproved(input: $input) {{
        campaign {{ executionState }} attempts {{ {ATTEMPT} }} errors {{ code field message }} }} }}""",
    "setCampaignAccountExecution": f"""mutation($input: SetCampaignAccountExecutionInput!) {{
        setCampaignAccountExecution(input: $input) {{
          campaignAccounts {{ id execution {{ {EXECUTION} }} }} errors {{ code field message }} }} }}""",
    "approveOutreach": f"""mutation($input: ApproveOutreachInput!) {{ approveOutreach(input: $input) {{
        attempts {{ {ATTEMPT} }} errors {{ code field message }} }} }}""",
    "rejectOutreach": f"""mutation($input: RejectOutreachInput!) {{ rejectOutreach(input: $input) {{
        attempts {{ {ATTEMPT} }} errors {{ code field message }} }} }}""",
    "recordAttemptResult": f"""mutation($input: RecordAttemptResultInput!) {{ recordAttemptResult(input: $input) {{
        attempt {{ {ATTEMPT} }} campaignAccount {{ id goalOutcome execution {{ {EXECUTION} }} }}
        nextAttempt {{ {ATTEMPT} }} errors {{ code field message }} }} }}""",
    "updateCadence": """mutation($input: UpdateCadenceInput!) {
        updateCadence(input: $input) { campaign { id } errors { code field message } } }""",
    "archiveCampaign": """mutation($input: CampaignIdInput!) {
        archiveCampaign(input: $input) { campaign { executionState archivedAt } errors { code field message } } }""",
    "unarchiveCampaign": """mutation($input: CampaignIdInput!) {
        unarchiveCampaign(input: $input) { campaign { executionState archivedAt } errors { code field message } } }""",
    "addAccountsToCampaign": """mutation($input: AddAccountsToCampaignInput!) {
        addAccountsToCampaign(input: $input) { added errors { code field message } } }""",
    "reviewCampaignAccounts": """mutation($input: ReviewCampaignAccountsInput!) {
        reviewCampaignAccounts(input: $input) { changedCount errors { code field message } } }""",
    "logMessage": """mutation($input: LogMessageInput!) {
        logMessage(input: $input) { message { id } errors { code field message } } }""",
    "createAccount": """mutation($input: CreateAccountInput!) {
        createAccount(input: $input) { account { id timeZone } errors { code field message } } }""",
    "createContact": """mutation($input: CreateContactInput!) {
        createContact(input: $input) { contact { id timeZone } errors { code field message } } }""",
    "updateAccount": """mutation($input: UpdateAccountInput!) {
        updateAccount(input: $input) { account { id status timeZone } errors { code field message } } }""",
    "updateContact": """mutation($input: UpdateContactInput!) {
        updateContact(input: $input) { contact { id doNotContact } errors { code field message } } }""",
}


def iso(at: datetime) -> str:
    """How GraphQL shows an instant: ISO 8601 in UTC."""
    return at.astimezone(UTC).isoformat()


def counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    """``executionCounts`` / ``goalOutcomeCounts`` as {status or outcome: count}."""
    return {next(v for k, v in e.items() if k != "count"): e["count"] for e in entries}


def gid(type_name: str, row: Any) -> str:
    return global_id(type_name, row if isinstance(row, int) else row.id)


def pk(node: dict[str, Any]) -> int:
    """The database id of a node read through GraphQL."""
    return int(from_base64(node["id"])[1])


class World:
    """One campaign driven through GraphQL by its owner."""

    def __init__(self, gql: Any, owner: Person, project: models.Project, campaign: models.Campaign,
                 clock: FakeClock, jobs: Any) -> None:
        self.gql, self.owner, self.project, self.campaign = gql, owner, project, campaign
        self.clock, self.jobs = clock, jobs

    @property
    def gid(self) -> str:
        return gid("Campaign", self.campaign)

    # --- mutations ------------------------------------------------------------------------------------

    async def call(self, name: str, input: dict[str, Any], *, as_: Person | None = None) -> dict[str, Any]:
        """The payload of mutation ``name`` (no top-level errors allowed; errors as data are returned)."""
        return data_of(await self.gql(MUTATIONS[name], {"input": input}, as_=as_ or self.owner))[name]

    async def ok(self, name: str, input: dict[str, Any], *, as_: Person | None = None) -> dict[str, Any]:
        """The payload of mutation ``name``, which must succeed."""
        payload = await self.call(name, input, as_=as_)
        assert payload["errors"] == [], payload["errors"]
        return payload

    async def cadence(self, **changes: Any) -> None:
        await self.ok("updateCadence", {"campaignId": self.gid, **changes})

    async def go_live(self) -> dict[str, Any]:
        return await self.ok("goLive", {"campaignId": self.gid})

    async def campaign_call(self, name: str, *, as_: Person | None = None) -> dict[str, Any]:
        return await self.call(name, {"campaignId": self.gid}, as_=as_)

    async def record(self, attempt: str, outcome: str, *, as_: Person | None = None,
                     **fields: Any) -> dict[str, Any]:
        return await self.call("recordAttemptResult", {"attemptId": attempt, "outcome": outcome, **fields}, as_=as_)

    async def row_action(self, rows: list[models.CampaignAccount], action: str) -> dict[str, Any]:
        return await self.ok("setCampaignAccountExecution", {
            "campaignAccountIds": [gid("CampaignAccount", r) for r in rows], "action": action})

    # --- time ------------------------------------------------------------------------------------------

    async def tick(self) -> scheduler.Tick:
        """One scheduler tick at the clock's time, then the execute jobs it queued."""
        done = await scheduler.tick()
        await self.jobs()
        return done

    async def at(self, when: datetime) -> scheduler.Tick:
        """Move the clock to ``when`` and tick."""
        self.clock.set(when)
        return await self.tick()

    # --- data ------------------------------------------------------------------------------------------

    async def account(self, name: str, *contacts: dict[str, Any], review: ReviewStatus = ReviewStatus.APPROVED,
                      **fields: Any) -> models.CampaignAccount:
        """An account with ``contacts`` (model fields), in the campaign with that review status: its row."""
        account = await models.Account.create(project=self.project, name=name, name_key=name.lower(), **fields)
        for contact in contacts:
            await models.Contact.create(project=self.project, account=account, **contact)
        return await models.CampaignAccount.create(campaign=self.campaign, account=account, review_status=review)

    async def contact(self, name: str) -> models.Contact:
        return await models.Contact.get(project_id=self.project.id, name=name)

    # --- reads -----------------------------------------------------------------------------------------

    async def view(self, **filter: Any) -> dict[str, Any]:
        """The campaign's execution state, counts and attempts (by due time then id), ``filter`` applied."""
        node = data_of(await self.gql(CAMPAIGN, {"id": self.gid, "filter": filter or None}, as_=self.owner))["node"]
        node["attempts"] = [e["node"] for e in node["attempts"]["edges"]]
        return node

    async def attempts(self, **filter: Any) -> list[dict[str, Any]]:
        return list((await self.view(**filter))["attempts"])

    async def row(self, row: models.CampaignAccount) -> dict[str, Any]:
        """The row's goal outcome, execution and attempts (newest first)."""
        return data_of(await self.gql(ROW, {"id": gid("CampaignAccount", row)}, as_=self.owner))["node"]

    async def only_attempt(self, row: models.CampaignAccount) -> dict[str, Any]:
        """The row's single pending attempt (its nextAttempt), which must exist."""
        execution = (await self.row(row))["execution"]
        assert execution["nextAttempt"] is not None, execution
        return dict(execution["nextAttempt"])


@pytest.fixture
def world(gql: Any, owner: Person, project: models.Project, campaign: models.Campaign, clock: FakeClock,
          jobs: Any) -> World:
    return World(gql, owner, project, campaign, clock, jobs)


def call_step(**fields: Any) -> dict[str, Any]:
    return {"channel": "PHONE_CALL", **fields}


def email_step(**fields: Any) -> dict[str, Any]:
    return {"channel": "EMAIL", **fields}


def error(code: str, field: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}
