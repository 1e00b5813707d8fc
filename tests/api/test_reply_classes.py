"""Replies classified through GraphQL: a received message logged with logMessage is classified by its campaign's
classifier in a job (a test classifier registered through the hook, reading a ``[label]`` tag; the built-in rules
where it says so), the class with its confidence, classifier, return date and referral on the message; the thread's
class follows its latest reply, and the inbox filters and counts by it; a person's correction is kept, audited and
never overwritten; a classifier that raises answers OTHER; outbound messages and drafts are never classified; the
campaign's classifier is chosen with updateCampaign among `classifiers`."""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from dramatiq import Message
from strawberry import relay

from outboundql import models
from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.classifiers.registry import ClassifierRegistry, registry_with
from outboundql.enums import Role
from outboundql.goals import hookimpl
from outboundql.goals.testing import registry_with as goals_with
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import reply_classes, runtime
from outboundql.services.jobs import JobsUnavailable
from tests.api.test_log_message import Setup, make_account, make_campaign
from tests.api.test_log_message import setup as setup  # the fixture
from tests.helpers import Person, access_for, data_of, global_id

LOG = """
mutation($input: LogMessageInput!) {
  logMessage(input: $input) { message { id } errors { code field message } }
}
"""
MESSAGE = """
query($id: ID!) {
  node(id: $id) { ... on Message { direction classification {
    label confidence classifier corrected classifiedAt returnsOn referral { name email phone } } } }
}
"""
CAMPAIGN = """
query($id: ID!, $classes: [ReplyClass!]) {
  node(id: $id) { ... on Campaign { replyClassifier replyClassCounts { label count }
    inbox(first: 10, classifications: $classes) { totalCount edges { node { account { name } } } } } }
}
"""
CORRECT = """
mutation($input: CorrectReplyClassificationInput!) {
  correctReplyClassification(input: $input) {
    message { id classification { label confidence classifier corrected } }
    errors { code field message }
  }
}
"""
UPDATE = """
mutation($input: UpdateCampaignInput!) {
  updateCampaign(input: $input) { campaign { replyClassifier } errors { code field message } }
}
"""
CLASSIFIERS = "{ classifiers { key label isDefault } }"
TAG = re.compile(r"\[(\w+)\]")


class Tags:
    """Reads the class from a ``[label]`` tag in the text (OTHER without one); ``[boom]`` makes it raise."""

    key = "tags"
    label = "Tags (test)"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        out = []
        for reply in replies:
            tag = TAG.search(reply.text)
            if tag and tag.group(1) == "boom":
                raise RuntimeError("the tag classifier broke")
            label = ReplyClass(tag.group(1)) if tag else ReplyClass.OTHER
            out.append(Classification(
                label, 0.9 if tag else 0.2,
                returns_on=date(2027, 3, 12) if label is ReplyClass.OUT_OF_OFFICE else None,
                referral=Referral("Maria Lopez", "maria@acme.example") if label is ReplyClass.REFERRAL else None))
        return out


@hookimpl
def outboundql_register_classifiers(register: Any) -> None:
    register(Tags())


@pytest.fixture
def classifiers() -> ClassifierRegistry:
    return registry_with(types.SimpleNamespace(__name__="tags_plugin",
                                               outboundql_register_classifiers=outboundql_register_classifiers))


async def _use_tags(gql: Any, s: Setup) -> None:
    updated = data_of(await gql(UPDATE, {"input": {"id": global_id("Campaign", s.campaign.id),
                                                   "replyClassifier": "tags"}}, as_=s.owner))["updateCampaign"]
    assert updated == {"campaign": {"replyClassifier": "tags"}, "errors": []}


async def _log(gql: Any, s: Setup, text: str, *, row: models.CampaignAccount | None = None, **fields: Any) -> str:
    logged = data_of(await gql(LOG, {"input": {
        "campaignAccountId": global_id("CampaignAccount", (row or s.row).id), "direction": "INBOUND", "text": text,
        **fields}}, as_=s.owner))["logMessage"]
    assert logged["errors"] == []
    return str(logged["message"]["id"])


async def _classification(gql: Any, s: Setup, message_id: str) -> dict[str, Any] | None:
    node = data_of(await gql(MESSAGE, {"id": message_id}, as_=s.owner))["node"]
    return node["classification"]  # type: ignore[no-any-return]


async def _campaign(gql: Any, s: Setup, classes: list[str] | None = None) -> dict[str, Any]:
    node = data_of(await gql(CAMPAIGN, {"id": global_id("Campaign", s.campaign.id), "classes": classes},
                             as_=s.owner))["node"]
    return node  # type: ignore[no-any-return]


async def test_a_received_reply_is_classified_by_the_campaigns_classifier(gql: Any, setup: Setup, jobs: Any) -> None:
    await _use_tags(gql, setup)
    message_id = await _log(gql, setup, "[out_of_office] Back on 12 March.")
    assert await _classification(gql, setup, message_id) is None  # not yet: the job classifies it
    await jobs()
    found = await _classification(gql, setup, message_id)
    assert found is not None and found.pop("classifiedAt")
    assert found == {"label": "OUT_OF_OFFICE", "confidence": 0.9, "classifier": "tags", "corrected": False,
                     "returnsOn": "2027-03-12", "referral": None}
    referral = await _log(gql, setup, "[referral] Talk to Maria Lopez, maria@acme.example")
    await jobs()
    assert (await _classification(gql, setup, referral) or {})["referral"] == {
        "name": "Maria Lopez", "email": "maria@acme.example", "phone": None}
    campaign = await _campaign(gql, setup)
    assert campaign["replyClassCounts"] == [{"label": "REFERRAL", "count": 1}]  # the thread's latest reply


async def test_outbound_messages_and_drafts_are_never_classified(gql: Any, setup: Setup, jobs: Any,
                                                                stub_broker: Any) -> None:
    sent = await _log(gql, setup, "[interested] Hello", direction="OUTBOUND")
    draft = await _log(gql, setup, "[interested] Hello", direction="OUTBOUND", status="DRAFT")
    assert "classify_replies" not in {m.actor_name for m in _queued(stub_broker)}
    await jobs()
    assert await reply_classes.classify([int(m.id) for m in await models.Message.all()]) == []
    for message_id in (sent, draft):
        assert await _classification(gql, setup, message_id) is None


def _queued(broker: Any) -> list[Message[Any]]:
    return [Message.decode(raw) for raw in list(broker.queues["default"].queue)]


async def test_the_inbox_filters_and_counts_threads_by_their_latest_reply(
        gql: Any, setup: Setup, owner: Person, project: models.Project, jobs: Any) -> None:
    await _use_tags(gql, setup)
    beta = await make_account(owner, project, "Beta")
    gamma = await make_account(owner, project, "Gamma")
    access_rows = {}
    await ca_service.add_accounts(await access_for(owner), goals_with(),
                                  ca_service.AddAccountsToCampaign(setup.campaign.id, [beta.id, gamma.id]))
    for account in (beta, gamma):
        access_rows[account.name] = await models.CampaignAccount.get(campaign_id=setup.campaign.id,
                                                                     account_id=account.id)
    await _log(gql, setup, "[interested] Tell me more")
    await _log(gql, setup, "[not_interested] Actually, no.")  # Acme's latest reply
    await _log(gql, setup, "[interested] Yes please", row=access_rows["Beta"])
    await _log(gql, setup, "no tag at all", row=access_rows["Gamma"])
    await jobs()
    campaign = await _campaign(gql, setup)
    assert campaign["replyClassCounts"] == [{"label": "INTERESTED", "count": 1},
                                            {"label": "NOT_INTERESTED", "count": 1}, {"label": "OTHER", "count": 1}]
    assert campaign["inbox"]["totalCount"] == 3
    interested = await _campaign(gql, setup, ["INTERESTED"])
    assert [e["node"]["account"]["name"] for e in interested["inbox"]["edges"]] == ["Beta"]
    both = await _campaign(gql, setup, ["NOT_INTERESTED", "OTHER"])
    assert sorted(e["node"]["account"]["name"] for e in both["inbox"]["edges"]) == ["Acme", "Gamma"]
    assert (await _campaign(gql, setup, []))["inbox"]["totalCount"] == 0


async def test_a_correction_is_kept_audited_and_never_overwritten(gql: Any, setup: Setup, jobs: Any) -> None:
    await _use_tags(gql, setup)
    message_id = await _log(gql, setup, "[not_interested] Not for us")
    await jobs()
    corrected = data_of(await gql(CORRECT, {"input": {"messageId": message_id, "label": "INTERESTED"}},
                                  as_=setup.owner))["correctReplyClassification"]
    assert corrected == {"message": {"id": message_id, "classification": {
        "label": "INTERESTED", "confidence": 1.0, "classifier": "tags", "corrected": True}}, "errors": []}
    event = await models.AuditEvent.get(action="message.correct_reply_class")
    assert event.before is not None and event.before["label"] == "not_interested"
    assert event.after == {"label": "interested"} and event.actor_id == setup.owner.user.id
    assert await reply_classes.classify([int(global_id_pk(message_id))]) == []  # a later run leaves it
    assert (await _campaign(gql, setup))["replyClassCounts"] == [{"label": "INTERESTED", "count": 1}]


def global_id_pk(gid: str) -> int:
    return int(relay.GlobalID.from_id(gid).node_id)


async def test_corrections_are_refused_with_reasons(gql: Any, setup: Setup, make_user: Any, add_member: Any,
                                                    make_project: Any, jobs: Any) -> None:
    outbound = await _log(gql, setup, "Hello", direction="OUTBOUND")
    refused = data_of(await gql(CORRECT, {"input": {"messageId": outbound, "label": "INTERESTED"}},
                                as_=setup.owner))["correctReplyClassification"]
    assert refused["message"] is None and [e["field"] for e in refused["errors"]] == ["input.messageId"]
    assert refused["errors"][0]["code"] == "INVALID"
    inbound = await _log(gql, setup, "Yes")
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, setup.project, Role.VIEWER)
    by_viewer = data_of(await gql(CORRECT, {"input": {"messageId": inbound, "label": "INTERESTED"}},
                                  as_=viewer))["correctReplyClassification"]
    assert by_viewer["message"] is None and by_viewer["errors"][0]["code"] == "FORBIDDEN"
    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    by_stranger = data_of(await gql(CORRECT, {"input": {"messageId": inbound, "label": "INTERESTED"}},
                                    as_=stranger))["correctReplyClassification"]
    assert by_stranger["message"] is None and by_stranger["errors"][0]["code"] == "NOT_FOUND"
    assert (await models.Message.get(id=global_id_pk(inbound))).reply_class_corrected is False


async def test_a_classifier_that_raises_answers_other_and_nothing_breaks(gql: Any, setup: Setup, jobs: Any) -> None:
    await _use_tags(gql, setup)
    message_id = await _log(gql, setup, "[boom] whatever")
    await jobs()
    found = await _classification(gql, setup, message_id)
    assert found is not None
    assert (found["label"], found["confidence"], found["classifier"]) == ("OTHER", 0.0, "tags")


async def test_the_campaigns_classifier_is_chosen_among_those_installed(gql: Any, setup: Setup, jobs: Any) -> None:
    listed = data_of(await gql(CLASSIFIERS, as_=setup.owner))["classifiers"]
    assert {c["key"]: c["isDefault"] for c in listed} == {"rules": True, "tags": False}  # no LLM configured
    assert (await _campaign(gql, setup))["replyClassifier"] == "rules"
    gid = global_id("Campaign", setup.campaign.id)
    unknown = data_of(await gql(UPDATE, {"input": {"id": gid, "replyClassifier": "oracle"}},
                                as_=setup.owner))["updateCampaign"]
    assert unknown["campaign"] is None
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "input.replyClassifier")]
    assert "rules" in unknown["errors"][0]["message"] and "tags" in unknown["errors"][0]["message"]
    await _use_tags(gql, setup)
    cleared = data_of(await gql(UPDATE, {"input": {"id": gid, "replyClassifier": None}},
                                as_=setup.owner))["updateCampaign"]
    assert cleared == {"campaign": {"replyClassifier": "rules"}, "errors": []}
    message_id = await _log(gql, setup, "Please remove me from your list, I do not want these e-mails.")
    await jobs()
    found = await _classification(gql, setup, message_id)
    assert found is not None and found["classifier"] == "rules"  # the default, built in


async def test_messages_of_another_campaign_use_that_campaigns_classifier(
        gql: Any, setup: Setup, owner: Person, project: models.Project, jobs: Any) -> None:
    await _use_tags(gql, setup)
    other = await make_campaign(owner, project, "Autumn push", accounts=[setup.account])
    other_row = await models.CampaignAccount.get(campaign_id=other.id, account_id=setup.account.id)
    ours = await _log(gql, setup, "[interested] yes")
    theirs = await _log(gql, setup, "[interested] yes", row=other_row)
    await jobs()
    assert (await _classification(gql, setup, ours) or {})["classifier"] == "tags"
    assert (await _classification(gql, setup, theirs) or {})["classifier"] == "rules"


async def test_a_reply_whose_job_was_lost_is_classified_by_a_later_sweep(
        gql: Any, setup: Setup, jobs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await _use_tags(gql, setup)

    async def down(message_ids: Any) -> None:
        raise JobsUnavailable("The job queue is unavailable: ConnectionError")

    monkeypatch.setattr(runtime.jobs(), "classify_replies", down)
    message_id = await _log(gql, setup, "[interested] Sounds good")  # logged all the same
    monkeypatch.undo()
    logged = await models.Message.get(id=global_id_pk(message_id))
    assert logged.reply_class is None
    assert await reply_classes.sweep(logged.created_at + timedelta(minutes=1)) == []  # its job may still come
    assert await reply_classes.sweep(logged.created_at + reply_classes.LATE + timedelta(seconds=1)) == [logged.id]
    await jobs()
    assert (await _classification(gql, setup, message_id) or {})["label"] == "INTERESTED"
    assert await reply_classes.sweep(logged.created_at + timedelta(minutes=5)) == []  # classified: left alone
