"""deleteAccounts and deleteContact: erasure for a data-subject request. Every trace of the person goes (each table is
searched for the erased ids and values afterwards), campaign counters follow, the audit keeps that an erasure
happened but no personal data (earlier events lose their details), and ``suppress`` lists the erased addresses so
they are not contacted again: planning skips a suppressed contact, and a row nobody else can be reached at is
disqualified."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise import Tortoise

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    AttemptStatus,
    Band,
    Channel,
    Direction,
    ExecutionStatus,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    ReviewStatus,
    Role,
    StatusSource,
    SuppressionKind,
)
from outboundql.services import account_merge, campaign_stats, events, suppressions
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step, world  # noqa: F401 (the fixture)
from tests.helpers import Person, access_for, data_of, global_id

DELETE_ACCOUNTS = """
mutation($input: DeleteAccountsInput!) {
  deleteAccounts(input: $input) {
    deletedAccountIds deletedContacts removedCampaignAccounts suppressed errors { code field message }
  }
}
"""

DELETE_CONTACT = """
mutation($input: DeleteContactInput!) {
  deleteContact(input: $input) { deletedContactId suppressed errors { code field message } }
}
"""

UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) { updateContact(input: $input) { contact { id } errors { code } } }
"""

UPDATE_ROW = """
mutation($input: UpdateCampaignAccountInput!) {
  updateCampaignAccount(input: $input) { campaignAccount { id } errors { code } }
}
"""

PERSONAL = ("Dana Diaz", "dana@dana.example", "+34600000001", "info@dana.example", "+34600000009", "Dana Corp",
            "Danielle", "old@dana.example", "Dana Old", "dana.example")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def person_world(gql: Any, owner: Person, project: models.Project, campaign: models.Campaign
                       ) -> dict[str, Any]:
    """An account with two contacts, history, a score, a campaign row with tags, messages and attempts, audit events
    that name them, and an account merged into it; and a bystander account in the same campaign."""
    account = await models.Account.create(project=project, name="Dana Corp", name_key="dana corp",
                                          domain="dana.example", email="info@dana.example", phone="+34600000009")
    dana = await models.Contact.create(project=project, account=account, name="Dana Diaz", email="dana@dana.example",
                                       phone="+34600000001")
    sam = await models.Contact.create(project=project, account=account, name="Sam Sun", email="sam@dana.example")
    await models.AccountStatusChange.create(account=account, to_status=AccountStatus.ENGAGED,
                                            source=StatusSource.MANUAL, note="Dana Diaz called back")
    await models.FitScore.create(project=project, product_id=campaign.product_id, account=account, goal_key="sales",
                                 score=8.5, band=Band.EXCELLENT, scorer="rubric",
                                 justifications=[{"kind": "fit", "criterion": "x", "text": "Dana Corp fits"}])
    row = await models.CampaignAccount.create(campaign=campaign, account=account, review_status=ReviewStatus.APPROVED,
                                              outreach_status=OutreachStatus.RESPONDED, notes="Dana Diaz likes it")
    await models.CampaignAccountTag.create(campaign_account=row, campaign=campaign, tag="hot")
    message = await models.Message.create(project=project, campaign_account=row, direction=Direction.INBOUND,
                                          channel=Channel.EMAIL, status=MessageStatus.SENT,
                                          mode=MessageMode.PASTE_INBOUND, original_text="Hi, Dana Diaz here",
                                          contact=dana)
    attempt = await models.OutreachAttempt.create(
        project=project, campaign=campaign, campaign_account=row, contact=dana, channel=Channel.EMAIL, step=1,
        attempt_number=1, status=AttemptStatus.SCHEDULED, due_at=datetime.now(UTC), address="dana@dana.example",
        body="Hello Dana Diaz")
    await models.ApiUsage.create(project=project, provider="x", model="m", operation="score", account=account,
                                 campaign=campaign)
    # audit events that hold the person's details
    assert data_of(await gql(UPDATE_CONTACT, {"input": {"id": global_id("Contact", dana.id), "title": "Danielle"}},
                             as_=owner))["updateContact"]["errors"] == []
    assert data_of(await gql(UPDATE_ROW, {"input": {"id": global_id("CampaignAccount", row.id),
                                                    "contactId": global_id("Contact", dana.id)}},
                             as_=owner))["updateCampaignAccount"]["errors"] == []
    old = await models.Account.create(project=project, name="Dana Old", name_key="dana old",
                                      email="old@dana.example")
    await account_merge.merge_accounts(await access_for(owner), account_merge.MergeAccounts(account.id, (old.id,)))
    bystander = await models.Account.create(project=project, name="Other Inc", name_key="other")
    other_row = await models.CampaignAccount.create(campaign=campaign, account=bystander,
                                                    review_status=ReviewStatus.APPROVED,
                                                    outreach_status=OutreachStatus.SENT)
    await campaign_stats.recount([campaign.id])
    return {"account": account, "dana": dana, "sam": sam, "row": row, "message": message, "attempt": attempt,
            "old": old, "bystander": bystander, "other_row": other_row}


async def traces(ids: dict[str, set[int]], values: tuple[str, ...]) -> list[str]:
    """Every place in the database that still names an erased id (by a foreign key) or value (anywhere but the
    suppression list)."""
    found = []
    for model in Tortoise.apps["models"].values():
        fk_targets = {name: field.related_model.__name__
                      for name, field in model._meta.fields_map.items() if hasattr(field, "related_model")
                      and field.__class__.__name__ in ("ForeignKeyFieldInstance", "OneToOneFieldInstance")}
        for row in await model.all().values():
            for name, target in fk_targets.items():
                if row.get(f"{name}_id") in ids.get(target, set()):
                    found.append(f"{model.__name__}.{name}_id={row[f'{name}_id']}")
            if model.__name__ in ids and row.get("id") in ids[model.__name__]:
                found.append(f"{model.__name__}#{row['id']}")
            if model is models.Suppression:
                continue
            text = json.dumps(row, default=str)
            found += [f"{model.__name__}#{row.get('id')}: {v}" for v in values if v in text]
    return found


async def test_delete_accounts_erases_every_trace(gql, owner, project, campaign) -> None:
    w = await person_world(gql, owner, project, campaign)
    account, row = w["account"], w["row"]
    assert await traces({"Account": {account.id}}, PERSONAL)  # the check sees them before

    payload = data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", account.id)],
                                                            "suppress": True}}, as_=owner))["deleteAccounts"]

    assert payload == {"deletedAccountIds": [global_id("Account", account.id)], "deletedContacts": 2,
                       "removedCampaignAccounts": 1, "suppressed": 5, "errors": []}
    erased = {"Account": {account.id, w["old"].id}, "Contact": {w["dana"].id, w["sam"].id},
              "CampaignAccount": {row.id}, "Message": {w["message"].id}, "OutreachAttempt": {w["attempt"].id}}
    assert await traces(erased, PERSONAL) == []
    # the bystander stays, the counters follow the rows left
    assert await models.CampaignAccount.filter(id=w["other_row"].id).exists()
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh) == {
        "total_accounts": 1, "scored_accounts": 0, "approved_accounts": 1, "outreached_accounts": 1,
        "responded_accounts": 0, "stale_score_count": 0, **{f"score_bucket_{i}": 0 for i in range(10)}}
    assert await campaign_stats.recount([campaign.id]) == []
    assert await models.ApiUsage.filter(project=project).count() == 1  # the cost stays, unattributed
    # the audit keeps that it happened, with no personal data
    event = await models.AuditEvent.get(action="account.erase")
    assert (event.object_type, event.object_id, event.actor_id) == ("Account", account.id, owner.user.id)
    assert event.after == {"contacts": 2, "campaign_rows": 1, "suppress": True, "suppress_domain": False}
    earlier = await models.AuditEvent.filter(object_type="Contact", object_id=w["dana"].id)
    assert earlier and all(e.before is None and e.after is None for e in earlier)
    # suppression: the e-mails and phones, normalised, from the erasure; not the domain (not asked)
    entries = set(await models.Suppression.filter(project=project).values_list("kind", "value", "source"))
    assert entries == {
        (SuppressionKind.EMAIL, "dana@dana.example", "erasure"), (SuppressionKind.EMAIL, "sam@dana.example", "erasure"),
        (SuppressionKind.EMAIL, "info@dana.example", "erasure"), (SuppressionKind.PHONE, "+34600000001", "erasure"),
        (SuppressionKind.PHONE, "+34600000009", "erasure")}
    hits = await suppressions.suppressed(project.id, emails=["Dana@dana.example", "x@y.example"],
                                         phones=["+34600000001"])
    assert hits.email("dana@dana.example") and not hits.email("x@y.example") and hits.phone("+34600000001")


async def test_suppress_domain_only_when_asked_and_duplicates_ignored(gql, owner, project) -> None:
    first = await models.Account.create(project=project, name="A", domain="acme.example", email="a@acme.example")
    second = await models.Account.create(project=project, name="B", domain="acme.example", email="a@acme.example")
    payload = data_of(await gql(DELETE_ACCOUNTS, {"input": {
        "accountIds": [global_id("Account", first.id), global_id("Account", second.id)], "suppress": True,
        "suppressDomain": True}}, as_=owner))["deleteAccounts"]
    assert payload["suppressed"] == 2
    assert set(await models.Suppression.filter(project=project).values_list("kind", "value")) == {
        (SuppressionKind.EMAIL, "a@acme.example"), (SuppressionKind.DOMAIN, "acme.example")}
    assert (await suppressions.suppressed(project.id, emails=["anyone@acme.example"])).email("anyone@acme.example")


async def test_without_suppress_nothing_is_listed(gql, owner, project) -> None:
    account = await models.Account.create(project=project, name="A", email="a@acme.example")
    data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", account.id)]}}, as_=owner))
    assert not await models.Account.filter(id=account.id).exists()
    assert await models.Suppression.filter(project=project).count() == 0


async def test_tenancy_roles_and_all_or_nothing(gql, owner, project, make_user, make_project, add_member) -> None:
    mine = await models.Account.create(project=project, name="Mine")
    stranger = await make_user("eve@example.com")
    theirs = await models.Account.create(project=await make_project(stranger, "Theirs"), name="Theirs")
    their_contact = await models.Contact.create(project_id=theirs.project_id, account=theirs, name="T")
    answers = []
    for gid in (global_id("Account", theirs.id), global_id("Account", 999_999)):
        payload = data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", mine.id), gid]}},
                                    as_=owner))["deleteAccounts"]
        answers.append(payload["errors"])
    assert answers[0] == answers[1] == [
        {"code": "NOT_FOUND", "field": "input.accountIds[1]", "message": "Account not found."}]
    assert await models.Account.filter(id=mine.id).exists() and await models.Account.filter(id=theirs.id).exists()
    contact_answers = [data_of(await gql(DELETE_CONTACT, {"input": {"contactId": gid}}, as_=owner))[
        "deleteContact"]["errors"] for gid in (global_id("Contact", their_contact.id), global_id("Contact", 999_999))]
    assert contact_answers[0] == contact_answers[1] == [
        {"code": "NOT_FOUND", "field": "input.contactId", "message": "Contact not found."}]
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    refused = data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", mine.id)]}},
                                as_=viewer))["deleteAccounts"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert await models.Account.filter(id=mine.id).exists()


async def test_delete_contact_erases_the_person_only(gql, owner, project, campaign) -> None:
    w = await person_world(gql, owner, project, campaign)
    dana, row = w["dana"], w["row"]
    await models.CampaignAccount.filter(id=row.id).update(execution_status=ExecutionStatus.AWAITING_EXECUTION)
    counters = await campaign_stats.exact(await models.Campaign.get(id=campaign.id))

    payload = data_of(await gql(DELETE_CONTACT, {"input": {"contactId": global_id("Contact", dana.id),
                                                           "suppress": True}}, as_=owner))["deleteContact"]

    assert payload == {"deletedContactId": global_id("Contact", dana.id), "suppressed": 2, "errors": []}
    erased = {"Contact": {dana.id}, "Message": {w["message"].id}, "OutreachAttempt": {w["attempt"].id}}
    assert await traces(erased, ("Dana Diaz", "dana@dana.example", "+34600000001", "Danielle")) == []
    kept = await models.CampaignAccount.get(id=row.id)
    assert (kept.contact_id, kept.contact_snapshot) == (None, None)
    assert kept.execution_status is ExecutionStatus.NOT_PLANNED  # its next attempt was for her: unplanned
    assert await models.Contact.filter(id=w["sam"].id).exists() and await models.Account.filter(
        id=w["account"].id).exists()
    fresh = await models.Campaign.get(id=campaign.id)
    assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == counters == await campaign_stats.exact(fresh)
    event = await models.AuditEvent.get(action="contact.erase")
    assert (event.object_type, event.object_id, event.after) == (
        "Contact", dana.id, {"account_id": w["account"].id, "suppress": True})
    assert set(await models.Suppression.filter(project=project).values_list("value", flat=True)) == {
        "dana@dana.example", "+34600000001"}


async def test_a_suppressed_contact_is_not_planned(world: World, project) -> None:  # noqa: F811
    both = await world.account("Both", {"name": "Gone", "email": "gone@both.example"},
                               {"name": "Kept", "email": "kept@both.example"})
    only = await world.account("Only", {"name": "Alone", "email": "alone@only.example"})
    await suppressions.add(project.id, [suppressions.Entry(SuppressionKind.EMAIL, "Gone@Both.example"),
                                        suppressions.Entry(SuppressionKind.DOMAIN, "only.example")], "manual", None)
    await world.cadence(steps=[email_step()], executionMode="ON_ADD")
    await world.go_live()
    planned = await models.OutreachAttempt.filter(campaign_account_id=both.id)
    assert [a.address for a in planned] == ["kept@both.example"]
    [barred] = await models.OutreachAttempt.filter(campaign_account_id=only.id)  # nothing to send, only why
    assert barred.status is AttemptStatus.CANCELLED and barred.error == (
        "Nobody at Only can be reached by email: alone@only.example (every address at only.example) is on the "
        "project's suppression list.")
    assert (await models.CampaignAccount.get(id=only.id)).execution_status is ExecutionStatus.DISQUALIFIED


async def test_an_address_suppressed_after_planning_is_not_executed(world: World, project) -> None:  # noqa: F811
    row = await world.account("Later", {"name": "First", "email": "first@later.example", "is_decision_maker": True},
                              {"name": "Second", "email": "second@later.example"})
    await world.cadence(steps=[email_step()], executionMode="ON_ADD")
    await world.go_live()
    first = await models.OutreachAttempt.get(campaign_account_id=row.id)
    assert first.address == "first@later.example"
    await suppressions.add(project.id, [suppressions.Entry(SuppressionKind.EMAIL, "first@later.example")], "manual",
                           None)
    await world.at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    first = await models.OutreachAttempt.get(id=first.id)
    assert first.status is AttemptStatus.CANCELLED and "suppression" in (first.error or "")
    nxt = await models.OutreachAttempt.filter(campaign_account_id=row.id).exclude(id=first.id).first()
    assert nxt is not None and nxt.address == "second@later.example"


async def test_live_pages_hear_of_the_erasure_after_the_commit(gql, owner, project, campaign) -> None:
    account = await models.Account.create(project=project, name="Gone")
    await models.CampaignAccount.create(campaign=campaign, account=account)
    accounts = events.get_bus().subscribe(events.account_channel(project.id))
    page = events.get_bus().subscribe(events.campaign_channel(campaign.id))
    heard = asyncio.ensure_future(anext(accounts)), asyncio.ensure_future(anext(page))
    await asyncio.sleep(0)
    data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", account.id)]}}, as_=owner))
    account_event, campaign_event = [await asyncio.wait_for(h, 2) for h in heard]
    await accounts.aclose()
    await page.aclose()
    assert account_event == {"account_id": account.id, "kind": "deleted"}
    assert campaign_event["kind"] == "accounts_changed"


async def test_erasing_an_account_leaves_no_trace_in_the_import_history(gql, owner, project) -> None:
    from outboundql.enums import ImportOrigin
    from outboundql.goals.testing import registry_with
    from outboundql.services import imports

    access = await access_for(owner)
    csv = (b"Company,Website,Contact name,Contact email,Contact phone\n"
           b"Dana Corp,dana.example,Dana Diaz,dana@dana.example,+34 600 000 001\n")

    async def run(**options: Any) -> models.ImportJob:
        started = await imports.start_import(access, registry_with(), imports.StartImport(
            project.id, "people.csv", csv, **options))
        assert started.job is not None, started.errors
        await imports.run_import(started.job.id)
        return await models.ImportJob.get(id=started.job.id)

    first = await run(origin=ImportOrigin.EMAIL, sender="dana@dana.example")
    assert first.created == 1 and not await models.ImportFile.filter(import_job_id=first.id).exists()
    await suppressions.add(project.id, [suppressions.Entry(SuppressionKind.EMAIL, "dana@dana.example", "asked")],
                           "test", owner.user)
    again = await run()  # its row is skipped, the reason naming the address
    assert again.skipped == 1 and "dana@dana.example" in json.dumps(again.row_errors)
    dry = await run(dry_run=True)
    assert not await models.ImportFile.filter(import_job_id=dry.id).exists()
    account = await models.Account.get(project=project, domain="dana.example")

    data_of(await gql(DELETE_ACCOUNTS, {"input": {"accountIds": [global_id("Account", account.id)]}}, as_=owner))

    history = json.dumps([await models.ImportJob.filter(project=project).values(),
                          [bytes(f.content).decode() for f in await models.ImportFile.all()]], default=str)
    assert not [v for v in ("dana@dana.example", "+34600000001", "+34 600 000 001", "Dana Diaz") if v in history]
    assert "[erased]" in history
