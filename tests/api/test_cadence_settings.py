"""A campaign's cadence settings through GraphQL: `Campaign.cadence` and `updateCadence` (partial changes,
validation as data on GraphQL paths, rights, audit, events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ExecutionState, Role
from outboundql.services import events
from tests.api.test_service_events import listening
from tests.helpers import Person, data_of, global_id

CADENCE = """
campaignType executionMode startAt endAt manualReview eligibility
steps { channel delayMinutes intent subject body manualReview }
window { startTime endTime days timeZone recipientLocalTime }
retry { maxAttempts intervalMinutes retryOn untilGoalAchieved }
"""
READ = f"""
query($id: ID!) {{ node(id: $id) {{ ... on Campaign {{ cadence {{ {CADENCE} }} }} }} }}
"""
UPDATE = f"""
mutation($input: UpdateCadenceInput!) {{
  updateCadence(input: $input) {{ campaign {{ id cadence {{ {CADENCE} }} }} errors {{ code field message }} }}
}}
"""

DEFAULTS = {
    "campaignType": "ONE_TIME", "executionMode": "MANUAL", "startAt": None, "endAt": None, "manualReview": False,
    "eligibility": "APPROVED_ONLY", "steps": [],
    "window": {"startTime": "09:00", "endTime": "17:00", "days": ["MON", "TUE", "WED", "THU", "FRI"],
               "timeZone": "UTC", "recipientLocalTime": False},
    "retry": {"maxAttempts": 3, "intervalMinutes": 60, "retryOn": ["NO_ANSWER", "BUSY"], "untilGoalAchieved": False},
}

FULL = {
    "campaignType": "FOLLOW_UP",
    "steps": [
        {"channel": "EMAIL", "intent": "Introduce the product", "subject": "Hello {{contact.first_name}}",
         "body": "Hi {{contact.name}}, …"},
        {"channel": "PHONE_CALL", "delayMinutes": 2880, "manualReview": False},
        {"channel": "LINKEDIN", "delayMinutes": 1440, "body": "  Connecting  "},
    ],
    "window": {"startTime": "8:30", "endTime": "18:00", "days": ["FRI", "MON", "MON", "WED"],
               "timeZone": "europe/madrid", "recipientLocalTime": True},
    "retry": {"maxAttempts": 5, "intervalMinutes": 120, "retryOn": ["VOICEMAIL", "NO_ANSWER", "VOICEMAIL"],
              "untilGoalAchieved": True},
    "executionMode": "SCHEDULED", "startAt": "2026-04-01T09:00:00", "endAt": "2026-05-01T09:00:00+02:00",
    "manualReview": True, "eligibility": "ALL",
}
FULL_READ = {
    "campaignType": "FOLLOW_UP",
    "steps": [
        {"channel": "EMAIL", "delayMinutes": 0, "intent": "Introduce the product",
         "subject": "Hello {{contact.first_name}}", "body": "Hi {{contact.name}}, …", "manualReview": None},
        {"channel": "PHONE_CALL", "delayMinutes": 2880, "intent": None, "subject": None, "body": None,
         "manualReview": False},
        {"channel": "LINKEDIN", "delayMinutes": 1440, "intent": None, "subject": None, "body": "Connecting",
         "manualReview": None},
    ],
    "window": {"startTime": "08:30", "endTime": "18:00", "days": ["MON", "WED", "FRI"], "timeZone": "Europe/Madrid",
               "recipientLocalTime": True},
    "retry": {"maxAttempts": 5, "intervalMinutes": 120, "retryOn": ["NO_ANSWER", "VOICEMAIL"],
              "untilGoalAchieved": True},
    "executionMode": "SCHEDULED", "startAt": "2026-04-01T09:00:00+00:00", "endAt": "2026-05-01T07:00:00+00:00",
    "manualReview": True, "eligibility": "ALL",
}


async def update(gql: Any, who: Person, campaign: models.Campaign | str, **changes: Any) -> dict[str, Any]:
    gid = campaign if isinstance(campaign, str) else global_id("Campaign", campaign.id)
    return data_of(await gql(UPDATE, {"input": {"campaignId": gid, **changes}}, as_=who))["updateCadence"]


async def updated(gql: Any, who: Person, campaign: models.Campaign, **changes: Any) -> dict[str, Any]:
    payload = await update(gql, who, campaign, **changes)
    assert payload["errors"] == [], payload["errors"]
    return payload["campaign"]["cadence"]


async def errors(gql: Any, who: Person, campaign: models.Campaign, **changes: Any) -> dict[str, tuple[str, str]]:
    """The payload's errors by field: (code, message); nothing stored."""
    before = (await models.Campaign.get(id=campaign.id)).cadence
    payload = await update(gql, who, campaign, **changes)
    assert payload["campaign"] is None
    assert (await models.Campaign.get(id=campaign.id)).cadence == before
    return {e["field"]: (e["code"], e["message"]) for e in payload["errors"]}


async def read(gql: Any, who: Person, campaign: models.Campaign) -> dict[str, Any]:
    return data_of(await gql(READ, {"id": global_id("Campaign", campaign.id)}, as_=who))["node"]["cadence"]


async def test_a_new_campaign_has_the_default_cadence(gql, owner, campaign) -> None:
    assert campaign.cadence == {}
    assert await read(gql, owner, campaign) == DEFAULTS


async def test_a_full_update_is_stored_and_read_back(gql, owner, campaign) -> None:
    assert await updated(gql, owner, campaign, **FULL) == FULL_READ
    assert await read(gql, owner, campaign) == FULL_READ
    stored = (await models.Campaign.get(id=campaign.id)).cadence
    assert stored["window"] == {"start_time": "08:30", "end_time": "18:00", "days": ["mon", "wed", "fri"],
                                "time_zone": "Europe/Madrid", "recipient_local_time": True}
    assert stored["start_at"] == "2026-04-01T09:00:00+00:00"


async def test_an_update_is_audited_and_published(gql, owner, project, campaign) -> None:
    async with listening(events.campaign_channel(campaign.id)) as received:
        await updated(gql, owner, campaign, manualReview=True, window={"days": ["SAT"]})
    assert received == [{"kind": "campaign_updated", "campaign_id": campaign.id}]
    audits = await models.AuditEvent.filter(project_id=project.id, action="campaign.cadence")
    assert len(audits) == 1 and audits[0].object_type == "Campaign" and audits[0].object_id == campaign.id
    assert audits[0].before == {"cadence": {}}
    assert audits[0].after["cadence"]["manual_review"] is True
    assert audits[0].after["cadence"]["window"]["days"] == ["sat"]

    # the same values again: nothing changes, nothing is audited
    await updated(gql, owner, campaign, manualReview=True, window={"days": ["SAT", "SAT"]})
    assert await models.AuditEvent.filter(action="campaign.cadence").count() == 1


async def test_partial_updates_keep_the_rest(gql, owner, campaign) -> None:
    await updated(gql, owner, campaign, **FULL)

    # a window sub-field, a retry sub-field and a top-level field: everything else stays
    cadence = await updated(gql, owner, campaign, window={"endTime": "20:00"}, retry={"retryOn": []},
                            eligibility="APPROVED_ONLY")
    assert cadence["window"] == {**FULL_READ["window"], "endTime": "20:00"}
    assert cadence["retry"] == {**FULL_READ["retry"], "retryOn": []}
    assert cadence == {**FULL_READ, "window": cadence["window"], "retry": cadence["retry"],
                       "eligibility": "APPROVED_ONLY"}

    # null keeps a value (and an empty window or retry changes nothing) …
    same = await updated(gql, owner, campaign, campaignType=None, steps=None, window={}, retry={"maxAttempts": None},
                         executionMode=None, manualReview=None, eligibility=None)
    assert same == cadence

    # … steps replace the whole list
    one = await updated(gql, owner, campaign, steps=[{"channel": "SMS", "delayMinutes": 5}])
    assert one["steps"] == [{"channel": "SMS", "delayMinutes": 5, "intent": None, "subject": None, "body": None,
                             "manualReview": None}]
    assert await updated(gql, owner, campaign, steps=[]) == {**one, "steps": []}


async def test_null_clears_start_and_end(gql, owner, campaign) -> None:
    await updated(gql, owner, campaign, startAt="2026-04-01T09:00:00Z", endAt="2026-04-02T09:00:00Z",
                  executionMode="ON_ADD")
    cleared = await updated(gql, owner, campaign, startAt=None)
    assert cleared["startAt"] is None and cleared["endAt"] == "2026-04-02T09:00:00+00:00"
    assert (await updated(gql, owner, campaign, endAt=None))["endAt"] is None


async def test_scheduled_needs_a_start(gql, owner, campaign) -> None:
    found = await errors(gql, owner, campaign, executionMode="SCHEDULED")
    assert list(found) == ["input.startAt"]
    code, message = found["input.startAt"]
    assert code == "INVALID" and "SCHEDULED campaign starts at startAt" in message

    await updated(gql, owner, campaign, startAt="2026-04-01T09:00:00Z")
    assert (await updated(gql, owner, campaign, executionMode="SCHEDULED"))["executionMode"] == "SCHEDULED"
    # the start of a scheduled campaign cannot be cleared alone
    assert list(await errors(gql, owner, campaign, startAt=None)) == ["input.startAt"]
    manual = await updated(gql, owner, campaign, startAt=None, executionMode="MANUAL")
    assert manual["startAt"] is None and manual["executionMode"] == "MANUAL"


async def test_end_must_be_after_start(gql, owner, campaign) -> None:
    found = await errors(gql, owner, campaign, startAt="2026-04-01T09:00:00Z", endAt="2026-04-01T11:00:00+02:00")
    assert list(found) == ["input.endAt"] and "must be after startAt" in found["input.endAt"][1]
    await updated(gql, owner, campaign, startAt="2026-04-01T09:00:00Z", endAt="2026-04-02T09:00:00Z")
    assert list(await errors(gql, owner, campaign, startAt="2026-04-03T09:00:00Z")) == ["input.startAt"]


async def test_step_count_by_campaign_type(gql, owner, campaign) -> None:
    email = {"channel": "EMAIL"}
    found = await errors(gql, owner, campaign, steps=[email, email])
    assert list(found) == ["input.steps"] and "ONE_TIME campaign has one step" in found["input.steps"][1]
    await updated(gql, owner, campaign, campaignType="FOLLOW_UP", steps=[email] * 10)
    found = await errors(gql, owner, campaign, steps=[email] * 11)
    assert found == {"input.steps": ("INVALID", "A cadence has at most 10 steps (got 11).")}
    # switching ten steps to ONE_TIME names the campaign type
    assert list(await errors(gql, owner, campaign, campaignType="ONE_TIME")) == ["input.campaignType"]


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"campaignType": "FOLLOW_UP", "steps": [{"channel": "EMAIL"}, {"channel": "EMAIL", "delayMinutes": 43201}]},
     "input.steps[1].delayMinutes", "between 0 and 43200"),
    ({"steps": [{"channel": "EMAIL", "delayMinutes": -1}]}, "input.steps[0].delayMinutes", "between 0 and 43200"),
    ({"steps": [{"channel": "EMAIL", "subject": "x" * 501}]}, "input.steps[0].subject", "at most 500 characters"),
    ({"steps": [{"channel": "PHONE_CALL", "subject": "Hi"}]}, "input.steps[0].subject",
     "only an e-mail step has a subject"),
    ({"steps": [{"channel": "EMAIL", "body": "a\u0000b"}]}, "input.steps[0].body", "NUL"),
    ({"steps": [{"channel": "EMAIL", "intent": "a\u0000b"}]}, "input.steps[0].intent", "NUL"),
    ({"window": {"startTime": "24:00"}}, "input.window.startTime", "HH:MM"),
    ({"window": {"endTime": "5pm"}}, "input.window.endTime", "HH:MM"),
    ({"window": {"days": []}}, "input.window.days", "at least one day"),
    ({"window": {"timeZone": "Mars/Olympus"}}, "input.window.timeZone", "Unknown time zone"),
    ({"window": {"timeZone": ""}}, "input.window.timeZone", "IANA time zone"),
    ({"retry": {"maxAttempts": 0}}, "input.retry.maxAttempts", "between 1 and 5"),
    ({"retry": {"maxAttempts": 6}}, "input.retry.maxAttempts", "between 1 and 5"),
    ({"retry": {"intervalMinutes": 9}}, "input.retry.intervalMinutes", "between 10 and 4320"),
    ({"retry": {"intervalMinutes": 4321}}, "input.retry.intervalMinutes", "between 10 and 4320"),
])
async def test_each_rule_is_an_error_on_its_field(gql, owner, campaign, changes, field, says) -> None:
    found = await errors(gql, owner, campaign, **changes)
    assert list(found) == [field]
    code, message = found[field]
    assert code == "INVALID" and says in message


async def test_every_error_at_once(gql, owner, campaign) -> None:
    found = await errors(gql, owner, campaign, steps=[{"channel": "SMS", "subject": "Hi", "delayMinutes": -3}],
                         window={"startTime": "9", "days": []}, retry={"maxAttempts": 9}, executionMode="SCHEDULED")
    assert set(found) == {"input.steps[0].subject", "input.steps[0].delayMinutes", "input.window.startTime",
                          "input.window.days", "input.retry.maxAttempts", "input.startAt"}


async def test_an_unknown_enum_value_is_refused_before_the_service(gql, owner, campaign) -> None:
    result = await gql(UPDATE, {"input": {"campaignId": global_id("Campaign", campaign.id),
                                          "window": {"days": ["FUNDAY"]}}}, as_=owner)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_live_or_archived_campaign_may_change(gql, owner, campaign) -> None:
    campaign.execution_state = ExecutionState.LIVE
    await campaign.save()
    assert (await updated(gql, owner, campaign, manualReview=True))["manualReview"] is True
    campaign.archived_at = datetime.now(UTC)
    await campaign.save()
    assert (await updated(gql, owner, campaign, manualReview=False))["manualReview"] is False


async def test_a_viewer_is_refused(gql, owner, project, campaign, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await update(gql, viewer, campaign, manualReview=True)
    assert payload["campaign"] is None and [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert (await models.Campaign.get(id=campaign.id)).cadence == {}
    assert await read(gql, viewer, campaign) == DEFAULTS  # reading is fine

    member = await make_user("member@example.com")
    await add_member(member, project, Role.MEMBER)
    assert (await updated(gql, member, campaign, manualReview=True))["manualReview"] is True


async def test_another_projects_campaign_is_not_found(gql, owner, campaign, make_user, make_project) -> None:
    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    payload = await update(gql, stranger, campaign, manualReview=True)
    assert payload["campaign"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.campaignId")]
    missing = await update(gql, stranger, global_id("Campaign", 999_999), manualReview=True)
    assert [(e["code"], e["field"], e["message"]) for e in missing["errors"]] == \
        [(e["code"], e["field"], e["message"]) for e in payload["errors"]]
    wrong_type = await update(gql, owner, global_id("Product", campaign.product_id), manualReview=True)
    assert [(e["code"], e["field"]) for e in wrong_type["errors"]] == [("NOT_FOUND", "input.campaignId")]
    assert (await models.Campaign.get(id=campaign.id)).cadence == {}


async def test_the_schema_names(gql) -> None:
    query = """{
      cadence: __type(name: "Cadence") { fields { name } }
      step: __type(name: "CadenceStep") { fields { name } }
      window: __type(name: "CadenceWindow") { fields { name } }
      retry: __type(name: "RetryPolicy") { fields { name } }
      input: __type(name: "UpdateCadenceInput") { inputFields { name } }
      payload: __type(name: "UpdateCadencePayload") { fields { name } }
      weekday: __type(name: "Weekday") { enumValues { name } }
      eligibility: __type(name: "Eligibility") { enumValues { name } }
      mode: __type(name: "ExecutionMode") { enumValues { name } }
      type: __type(name: "CampaignType") { enumValues { name } }
      outcome: __type(name: "RetryOutcome") { enumValues { name } }
      campaign: __type(name: "Campaign") { fields { name } }
    }"""
    data = data_of(await gql(query))

    def names(key: str, part: str = "fields") -> list[str]:
        return [f["name"] for f in data[key][part]]

    assert names("cadence") == ["campaignType", "steps", "window", "retry", "executionMode", "startAt", "endAt",
                                "manualReview", "eligibility"]
    assert names("step") == ["channel", "delayMinutes", "intent", "subject", "body", "manualReview"]
    assert names("window") == ["startTime", "endTime", "days", "timeZone", "recipientLocalTime"]
    assert names("retry") == ["maxAttempts", "intervalMinutes", "retryOn", "untilGoalAchieved"]
    assert names("input", "inputFields") == ["campaignId", "campaignType", "steps", "window", "retry",
                                             "executionMode", "startAt", "endAt", "manualReview", "eligibility"]
    assert names("payload") == ["campaign", "errors"]
    assert names("weekday", "enumValues") == ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
    assert names("eligibility", "enumValues") == ["APPROVED_ONLY", "ALL"]
    assert names("mode", "enumValues") == ["MANUAL", "SCHEDULED", "ON_ADD"]
    assert names("type", "enumValues") == ["ONE_TIME", "FOLLOW_UP"]
    assert names("outcome", "enumValues") == ["NO_ANSWER", "BUSY", "VOICEMAIL", "FAILED"]
    assert "cadence" in names("campaign")
