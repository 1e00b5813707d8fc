"""updateAccountStatuses: per-id results (changed / unchanged / failed), status history, audit,
one transaction for the good ids, tenancy, roles and limits."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.enums import AccountStatus, Role, StatusSource
from outboundql.services import accounts as accounts_service
from tests.helpers import Person, access_for, data_of, global_id

UPDATE = """
mutation($input: UpdateAccountStatusesInput!) {
  updateAccountStatuses(input: $input) {
    results { index id outcome previousStatus account { name status } errors { code field message } }
    changedCount unchangedCount failedCount
    errors { code field message }
  }
}
"""

HISTORY = """
query($id: ID!) { node(id: $id) { ... on Account { status statusHistory { fromStatus toStatus source note
  changedBy { email } } } } }
"""


async def _accounts(person: Person, project: models.Project, n: int, **extra: Any) -> list[models.Account]:
    access = await access_for(person)
    return [(await accounts_service.create_account(
        access, accounts_service.CreateAccount(project_id=project.id, name=f"Account {i}", **extra))).account
            for i in range(n)]


async def _run(gql: Any, person: Person, ids: list[str], status: str, note: str | None = None) -> dict[str, Any]:
    variables: dict[str, Any] = {"input": {"accountIds": ids, "status": status}}
    if note is not None:
        variables["input"]["note"] = note
    return data_of(await gql(UPDATE, variables, as_=person))["updateAccountStatuses"]


def gid(row: models.Account) -> str:
    return global_id("Account", row.id)


async def test_changed_unchanged_and_failed_ids_are_each_answered(gql, owner, project, make_user, make_project
                                                                   ) -> None:
    a, b, c = await _accounts(owner, project, 3)
    await accounts_service.update_account(await access_for(owner),
                                          accounts_service.UpdateAccount(c.id, status=AccountStatus.QUALIFIED))
    bob = await make_user("bob@example.com", "Bob")
    theirs = (await _accounts(bob, await make_project(bob, "Bob's"), 1))[0]
    ids = [gid(a), global_id("Account", 987_654), gid(b), gid(c), gid(theirs), global_id("Product", a.id), gid(a)]

    payload = await _run(gql, owner, ids, "QUALIFIED", note="Met at the fair")

    assert (payload["changedCount"], payload["unchangedCount"], payload["failedCount"]) == (2, 1, 3)
    results = payload["results"]
    assert [(r["index"], r["id"], r["outcome"]) for r in results] == [
        (0, ids[0], "CHANGED"), (1, ids[1], "FAILED"), (2, ids[2], "CHANGED"), (3, ids[3], "UNCHANGED"),
        (4, ids[4], "FAILED"), (5, ids[5], "FAILED"),
    ]  # the repeated id is answered once, at its first position
    assert results[0]["account"] == {"name": "Account 0", "status": "QUALIFIED"}
    assert results[0]["previousStatus"] == "NEW"
    assert results[3]["previousStatus"] == "QUALIFIED" and results[3]["errors"] == []
    for r in (results[1], results[4], results[5]):
        assert r["account"] is None
        assert r["errors"] == [{"code": "NOT_FOUND", "field": f"input.accountIds[{r['index']}]",
                                "message": "Account not found."}]
    assert payload["errors"] == [e for r in results for e in r["errors"]]

    assert (await models.Account.get(id=theirs.id)).status is AccountStatus.NEW
    history = data_of(await gql(HISTORY, {"id": gid(a)}, as_=owner))["node"]
    assert history["status"] == "QUALIFIED"
    assert history["statusHistory"][0] == {"fromStatus": "NEW", "toStatus": "QUALIFIED", "source": "MANUAL",
                                           "note": "Met at the fair", "changedBy": {"email": "owner@example.com"}}
    # the unchanged account got no new history entry
    assert await models.AccountStatusChange.filter(account_id=c.id).count() == 2

    events = await models.AuditEvent.filter(action="account.update_status").order_by("object_id")
    assert [(e.object_type, e.object_id, e.actor_id) for e in events] == [
        ("Account", a.id, owner.user.id), ("Account", b.id, owner.user.id)]
    assert events[0].before == {"status": "new"}
    assert events[0].after == {"status": "qualified", "note": "Met at the fair"}
    assert events[0].project_id == project.id


async def test_any_status_can_be_set_by_hand(gql, owner, project) -> None:
    rows = await _accounts(owner, project, 2, status="customer")
    payload = await _run(gql, owner, [gid(r) for r in rows], "DO_NOT_CONTACT")
    assert payload["changedCount"] == 2 and payload["errors"] == []
    assert {r.status for r in await models.Account.filter(project_id=project.id)} == {AccountStatus.DO_NOT_CONTACT}
    change = await models.AccountStatusChange.filter(account_id=rows[0].id).order_by("-id").first()
    assert change is not None
    assert (change.from_status, change.to_status, change.source, change.note) == (
        AccountStatus.CUSTOMER, AccountStatus.DO_NOT_CONTACT, StatusSource.MANUAL, "")


async def test_limits_and_empty_lists(gql, owner, project) -> None:
    empty = await _run(gql, owner, [], "LOST")
    assert [(e["code"], e["field"]) for e in empty["errors"]] == [("INVALID", "input.accountIds")]
    too_many = await _run(gql, owner, [global_id("Account", i) for i in range(1, 1002)], "LOST")
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [("INVALID", "input.accountIds")]
    assert "1000" in too_many["errors"][0]["message"]
    [row] = await _accounts(owner, project, 1)
    long_note = await _run(gql, owner, [gid(row)], "LOST", note="x" * 2001)
    assert [(e["code"], e["field"]) for e in long_note["errors"]] == [("INVALID", "input.note")]
    assert (await models.Account.get(id=row.id)).status is AccountStatus.NEW


async def test_a_thousand_accounts_at_once(gql, owner, project, count_queries) -> None:
    access = await access_for(owner)
    results = (await accounts_service.bulk_create_accounts(access, accounts_service.BulkCreateAccounts(
        project.id, tuple(accounts_service.NewAccount(name=f"Bulk {i}") for i in range(1000))), max_items=1000)).items
    ids = [gid(r.upserted.account) for r in results if r.upserted]
    with count_queries() as q:
        payload = await _run(gql, owner, ids, "LOST", note="Cleanup")
    assert payload["changedCount"] == 1000 and payload["failedCount"] == 0
    assert len(q) < 30  # bulk writes, not a statement per account
    assert await models.Account.filter(project_id=project.id, status=AccountStatus.LOST).count() == 1000
    assert await models.AuditEvent.filter(action="account.update_status").count() == 1000
    assert await models.AccountStatusChange.filter(to_status=AccountStatus.LOST, note="Cleanup").count() == 1000


async def test_viewer_cannot_change_statuses(gql, owner, project, make_user, add_member) -> None:
    rows = await _accounts(owner, project, 2)
    viewer = await make_user("viewer@example.com", "Vic")
    await add_member(viewer, project, Role.VIEWER)
    payload = await _run(gql, viewer, [gid(r) for r in rows], "LOST")
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert payload["results"] == [] and payload["changedCount"] == 0
    assert {r.status for r in await models.Account.filter(project_id=project.id)} == {AccountStatus.NEW}
    assert not await models.AuditEvent.filter(action="account.update_status").exists()


async def test_member_can_change_statuses(gql, owner, project, make_user, add_member) -> None:
    [row] = await _accounts(owner, project, 1)
    member = await make_user("member@example.com", "Mo")
    await add_member(member, project, Role.MEMBER)
    payload = await _run(gql, member, [gid(row)], "ENGAGED")
    assert payload["changedCount"] == 1 and payload["errors"] == []
    change = await models.AccountStatusChange.filter(account_id=row.id).order_by("-id").first()
    assert change is not None and change.changed_by_id == member.user.id


async def test_only_foreign_ids_change_nothing(gql, owner, project, make_user, make_project) -> None:
    bob = await make_user("bob@example.com", "Bob")
    theirs = await _accounts(bob, await make_project(bob, "Bob's"), 2)
    payload = await _run(gql, owner, [gid(r) for r in theirs], "LOST")
    assert payload["failedCount"] == 2 and payload["changedCount"] == 0
    assert [e["field"] for e in payload["errors"]] == ["input.accountIds[0]", "input.accountIds[1]"]
    assert {r.status for r in await models.Account.filter(id__in=[r.id for r in theirs])} == {AccountStatus.NEW}
    assert not await models.AuditEvent.filter(action="account.update_status").exists()
