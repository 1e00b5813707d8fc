"""Teams through GraphQL: invitations (single use, expiring, mailed, never telling who has an account), member
roles and removal (owner > admin > member > viewer, an owner always left), the viewer's own settings.

The role and tenancy tables (`_authz.MUTATIONS`) cover every team mutation for viewers, members and other
projects; this module covers what only admins and owners may do, and every rule of the flows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import Role
from outboundql.services.clock import FakeClock
from tests.helpers import Person, data_of, global_id
from tests.smtp_sink import smtp_server

INVITE = """
mutation($input: InviteMemberInput!) {
  inviteMember(input: $input) {
    invitation { id email role status delivery deliveryError expiresAt invitedBy { email } }
    token errors { code field message }
  }
}"""
ACCEPT = """
mutation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    project { slug viewerRole } user { email name language } apiToken errors { code field message }
  }
}"""
REVOKE = """
mutation($input: RevokeInvitationInput!) {
  revokeInvitation(input: $input) { invitation { id status revokedAt } errors { code field message } }
}"""
INVITATIONS = """
query($slug: String!, $closed: Boolean!) {
  project(slug: $slug) { invitations(includeClosed: $closed) { email role status acceptedBy { email } } }
}"""
CHANGE_ROLE = """
mutation($input: ChangeMemberRoleInput!) {
  changeMemberRole(input: $input) { project { members { role user { email } } } errors { code field message } }
}"""
REMOVE = """
mutation($input: RemoveMemberInput!) {
  removeMember(input: $input) { project { slug } removedUserId errors { code field message } }
}"""
UPDATE_VIEWER = """
mutation($input: UpdateViewerInput!) {
  updateViewer(input: $input) { user { name language } errors { code field message } }
}"""
PROJECT = "query($slug: String!) { project(slug: $slug) { slug viewerRole members { role user { email } } } }"

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def people(make_user: Any, add_member: Any, project: models.Project) -> Any:
    """``await people(Role.ADMIN, ...)``: one person per role, members of ``project``."""

    async def make(*roles: Role) -> list[Person]:
        made = []
        for index, role in enumerate(roles):
            person = await make_user(f"{role.value}{index}@example.com", f"A {role.value}")
            await add_member(person, project, role)
            made.append(person)
        return made

    return make


async def invite(gql: Any, project: models.Project, by: Person, email: str, role: str = "MEMBER",
                 **extra: Any) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id), "email": email, "role": role, **extra}}
    return data_of(await gql(INVITE, variables, as_=by))["inviteMember"]


async def accept(gql: Any, token: str, as_: Person | None = None, **extra: Any) -> dict[str, Any]:
    return data_of(await gql(ACCEPT, {"input": {"token": token, **extra}}, as_=as_))["acceptInvitation"]


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


# --- invitations ---------------------------------------------------------------------------------


async def test_inviting_never_tells_whether_an_address_has_an_account(gql, owner, project, make_user) -> None:
    await make_user("known@example.com", "Known")
    known = await invite(gql, project, owner, "known@example.com")
    unknown = await invite(gql, project, owner, "Unknown@Example.com")
    for payload, email in ((known, "known@example.com"), (unknown, "unknown@example.com")):
        assert payload["errors"] == []
        assert payload["token"].startswith("oqi_")
        invitation = payload["invitation"]
        assert {k: invitation[k] for k in ("email", "role", "status", "delivery", "deliveryError")} == {
            "email": email, "role": "MEMBER", "status": "PENDING", "delivery": "NOT_CONFIGURED", "deliveryError": ""}
        assert invitation["invitedBy"] == {"email": "owner@example.com"}
        assert invitation["expiresAt"] == (START + timedelta(days=7)).isoformat()
    assert not await models.Membership.filter(project_id=project.id, user__email="known@example.com").exists()


async def test_an_existing_user_accepts_signed_in_once(gql, owner, project, make_user) -> None:
    invitee = await make_user("invitee@example.com", "Ivy")
    sent = await invite(gql, project, owner, "invitee@example.com", "VIEWER")
    assert data_of(await gql(PROJECT, {"slug": project.slug}, as_=invitee))["project"] is None

    accepted = await accept(gql, sent["token"], as_=invitee)
    assert accepted["errors"] == []
    assert accepted["project"] == {"slug": project.slug, "viewerRole": "VIEWER"}
    assert accepted["apiToken"] is None
    assert data_of(await gql(PROJECT, {"slug": project.slug}, as_=invitee))["project"]["viewerRole"] == "VIEWER"

    again = await accept(gql, sent["token"], as_=await make_user("other@example.com"))
    assert codes(again) == [("INVALID", "input.token")]
    assert "already used" in again["errors"][0]["message"]
    listed = data_of(await gql(INVITATIONS, {"slug": project.slug, "closed": True}, as_=owner))
    assert listed["project"]["invitations"] == [
        {"email": "invitee@example.com", "role": "VIEWER", "status": "ACCEPTED",
         "acceptedBy": {"email": "invitee@example.com"}}]


async def test_without_the_code_the_answer_never_tells_whether_an_address_has_an_account(
        gql, owner, project, make_user) -> None:
    """Who holds only the token (the inviter has it too) gets one answer for both addresses, and nothing is made."""
    await make_user("taken@example.com")
    taken = await invite(gql, project, owner, "taken@example.com")
    free = await invite(gql, project, owner, "free@example.com")
    users = await models.User.all().count()
    for extra in ({}, {"name": "Impostor", "language": "en"}, {"code": "AAAA-BBBB-CCCC-DDDD"}):
        answers = [await accept(gql, sent["token"], **extra) for sent in (taken, free)]
        assert answers[0] == answers[1]  # every field, code and word
        assert answers[0]["project"] is None and answers[0]["user"] is None and answers[0]["apiToken"] is None
        assert codes(answers[0]) == [("INVALID", "input.code")]
        assert answers[0]["errors"][0]["message"].startswith("Sign in with your API token to accept")
    assert await models.User.all().count() == users
    listed = data_of(await gql(INVITATIONS, {"slug": project.slug, "closed": False}, as_=owner))
    assert [i["status"] for i in listed["project"]["invitations"]] == ["PENDING", "PENDING"]
    bad_token = await gql(ACCEPT, {"input": {"token": free["token"]}}, headers={"Authorization": "Bearer oql_nope"})
    assert [e["extensions"]["code"] for e in bad_token["errors"]] == ["UNAUTHENTICATED"]


async def test_an_invitation_expires(gql, owner, project, make_user, clock: FakeClock) -> None:
    invitee = await make_user("late@example.com")
    sent = await invite(gql, project, owner, "late@example.com", expiresInDays=1)
    clock.advance(days=1, seconds=1)
    late = await accept(gql, sent["token"], as_=invitee)
    assert codes(late) == [("INVALID", "input.token")]
    assert "expired" in late["errors"][0]["message"]
    assert data_of(await gql(INVITATIONS, {"slug": project.slug, "closed": False}, as_=owner))["project"] == {
        "invitations": []}
    closed = data_of(await gql(INVITATIONS, {"slug": project.slug, "closed": True}, as_=owner))
    assert [i["status"] for i in closed["project"]["invitations"]] == ["EXPIRED"]
    for days in (0, 31):
        assert codes(await invite(gql, project, owner, "x@example.com", expiresInDays=days)) == [
            ("INVALID", "input.expiresInDays")]


async def test_revoking_and_inviting_again_end_earlier_tokens(gql, owner, project, make_user) -> None:
    invitee = await make_user("twice@example.com")
    first = await invite(gql, project, owner, "twice@example.com")
    second = await invite(gql, project, owner, "twice@example.com", "VIEWER")
    assert codes(await accept(gql, first["token"], as_=invitee)) == [("INVALID", "input.token")]
    revoked = data_of(await gql(REVOKE, {"input": {"id": second["invitation"]["id"]}}, as_=owner))["revokeInvitation"]
    assert revoked["errors"] == [] and revoked["invitation"]["status"] == "REVOKED"
    refused = await accept(gql, second["token"], as_=invitee)
    assert "revoked" in refused["errors"][0]["message"]
    assert not await models.Membership.filter(user_id=invitee.user.id).exists()


async def test_who_may_invite(gql, owner, project, people, make_user) -> None:
    admin, member = await people(Role.ADMIN, Role.MEMBER)
    for role in ("VIEWER", "MEMBER"):
        assert (await invite(gql, project, admin, f"{role}@new.example", role))["errors"] == []
    for role in ("ADMIN", "OWNER"):
        refused = await invite(gql, project, admin, f"{role}@new.example", role)
        assert codes(refused) == [("FORBIDDEN", "input.role")] and refused["token"] is None
        assert (await invite(gql, project, owner, f"{role}@new.example", role))["errors"] == []
    assert codes(await invite(gql, project, member, "m@new.example")) == [("FORBIDDEN", None)]
    assert codes(await invite(gql, project, owner, "admin0@example.com")) == [("CONFLICT", "input.email")]
    assert codes(await invite(gql, project, owner, "not an address")) == [("INVALID", "input.email")]
    owner_invitation = await models.Invitation.get(email="owner@new.example")
    refused = data_of(await gql(REVOKE, {"input": {"id": global_id("Invitation", owner_invitation.id)}},
                                as_=admin))["revokeInvitation"]
    assert codes(refused) == [("FORBIDDEN", "input.id")]
    node = "query($id: ID!) { node(id: $id) { ... on Invitation { email } } }"
    gid = global_id("Invitation", owner_invitation.id)
    assert data_of(await gql(node, {"id": gid}, as_=admin))["node"] == {"email": "owner@new.example"}
    assert data_of(await gql(node, {"id": gid}, as_=member))["node"] is None  # addresses are for admins
    listed = await gql(INVITATIONS, {"slug": project.slug, "closed": False}, as_=member)
    assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]


CONFIGURE = "mutation($input: ConfigureChannelInput!) { configureChannel(input: $input) { errors { message } } }"


async def mail_invitations(gql: Any, owner: Person, project: models.Project, port: int) -> None:
    settings = {"host": "127.0.0.1", "port": port, "security": "none", "fromAddress": "team@acme.example",
                "fromName": "Acme"}
    done = data_of(await gql(CONFIGURE, {"input": {"projectId": global_id("Project", project.id), "key": "email",
                                                   "kind": "EMAIL", "settings": settings}}, as_=owner))
    assert done["configureChannel"]["errors"] == []


def mailed_code(mail: Any) -> str:
    found = re.search(r"\b([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})\b", mail.get_content())
    assert found, mail.get_content()
    return found.group(1)


async def test_the_invitation_is_mailed_with_a_code_that_makes_a_new_persons_account(gql, owner, project) -> None:
    async with smtp_server() as sink:
        await mail_invitations(gql, owner, project, sink.port)
        sent = await invite(gql, project, owner, "mailed@example.com", "VIEWER")
    assert sent["errors"] == [] and sent["invitation"]["delivery"] == "EMAILED"
    assert sink.envelopes == [("team@acme.example", ["mailed@example.com"])]
    mail = sink.mails[0]
    assert project.name in str(mail["Subject"])
    assert sent["token"] in mail.get_content()
    assert "acceptInvitation" in mail.get_content()
    code = mailed_code(mail)
    assert code not in str(sent)  # the inviter never sees it

    accepted = await accept(gql, sent["token"], code=code.lower().replace("-", " "), name="Fresh Face",
                            language="pt-br")
    assert accepted["errors"] == []
    assert accepted["user"] == {"email": "mailed@example.com", "name": "Fresh Face", "language": "pt-BR"}
    assert accepted["project"] == {"slug": project.slug, "viewerRole": "VIEWER"}
    newcomer = Person(await models.User.get(email="mailed@example.com"), accepted["apiToken"])
    assert data_of(await gql(PROJECT, {"slug": project.slug}, as_=newcomer))["project"]["viewerRole"] == "VIEWER"
    again = await accept(gql, sent["token"], code=code)
    assert codes(again) == [("INVALID", "input.token")] and "already used" in again["errors"][0]["message"]


async def test_with_the_code_an_address_with_an_account_is_told_to_sign_in(gql, owner, project, make_user) -> None:
    """Only who reads the address's mail has the code, so only they learn that it has an account."""
    invitee = await make_user("taken@example.com")
    async with smtp_server() as sink:
        await mail_invitations(gql, owner, project, sink.port)
        sent = await invite(gql, project, owner, "taken@example.com")
    refused = await accept(gql, sent["token"], code=mailed_code(sink.mails[0]))
    assert codes(refused) == [("INVALID", "input.token")] and "sign in" in refused["errors"][0]["message"]
    assert refused["apiToken"] is None
    assert not await models.Membership.filter(project_id=project.id, user_id=invitee.user.id).exists()
    assert (await accept(gql, sent["token"], as_=invitee))["project"]["viewerRole"] == "MEMBER"


async def test_an_unreachable_mail_server_leaves_the_token_with_the_inviter(gql, owner, project) -> None:
    from tests.smtp_sink import free_port

    settings = {"host": "127.0.0.1", "port": free_port(), "security": "none", "fromAddress": "team@acme.example"}
    await gql(CONFIGURE, {"input": {"projectId": global_id("Project", project.id), "key": "email", "kind": "EMAIL",
                                    "settings": settings}}, as_=owner)
    sent = await invite(gql, project, owner, "unlucky@example.com")
    assert sent["errors"] == [] and sent["token"]
    assert sent["invitation"]["delivery"] == "FAILED" and sent["invitation"]["deliveryError"]


# --- roles and removal ---------------------------------------------------------------------------


async def change(gql: Any, project: models.Project, by: Person, who: Person, role: str) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id), "userId": global_id("User", who.user.id),
                           "role": role}}
    return data_of(await gql(CHANGE_ROLE, variables, as_=by))["changeMemberRole"]


async def remove(gql: Any, project: models.Project, by: Person, who: Person) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id), "userId": global_id("User", who.user.id)}}
    return data_of(await gql(REMOVE, variables, as_=by))["removeMember"]


async def role_of(project: models.Project, person: Person) -> str | None:
    row = await models.Membership.filter(project_id=project.id, user_id=person.user.id).first()
    return row.role.value if row else None


async def test_admins_manage_members_and_viewers_only(gql, owner, project, people) -> None:
    admin, other_admin, member, viewer = await people(Role.ADMIN, Role.ADMIN, Role.MEMBER, Role.VIEWER)
    assert (await change(gql, project, admin, member, "VIEWER"))["errors"] == []
    assert (await change(gql, project, admin, viewer, "MEMBER"))["errors"] == []
    assert (await role_of(project, member), await role_of(project, viewer)) == ("viewer", "member")
    for who, role in ((member, "ADMIN"), (member, "OWNER"), (other_admin, "MEMBER"), (owner, "ADMIN")):
        refused = await change(gql, project, admin, who, role)
        assert codes(refused) == [("FORBIDDEN", None)], (who.user.email, role)
    assert codes(await remove(gql, project, admin, other_admin)) == [("FORBIDDEN", None)]
    assert codes(await remove(gql, project, admin, owner)) == [("FORBIDDEN", None)]
    assert codes(await change(gql, project, viewer, member, "MEMBER")) == [("FORBIDDEN", None)]
    assert codes(await change(gql, project, member, viewer, "VIEWER")) == [("FORBIDDEN", None)]
    assert (await role_of(project, other_admin), await role_of(project, owner)) == ("admin", "owner")


async def test_owners_change_anyone_but_an_owner_always_remains(gql, owner, project, people) -> None:
    admin, member = await people(Role.ADMIN, Role.MEMBER)
    refused = await change(gql, project, owner, owner, "ADMIN")
    assert codes(refused) == [("CONFLICT", "input.userId")] and "last owner" in refused["errors"][0]["message"]
    assert codes(await remove(gql, project, owner, owner)) == [("CONFLICT", "input.userId")]
    assert (await change(gql, project, owner, member, "OWNER"))["errors"] == []
    assert (await change(gql, project, owner, admin, "VIEWER"))["errors"] == []
    # Two owners now: one may step down, then the other is the last again.
    assert (await change(gql, project, member, owner, "ADMIN"))["errors"] == []
    assert codes(await change(gql, project, owner, member, "ADMIN")) == [("FORBIDDEN", None)]
    assert codes(await remove(gql, project, member, member)) == [("CONFLICT", "input.userId")]
    assert (await role_of(project, member), await role_of(project, owner)) == ("owner", "admin")
    events = await models.AuditEvent.filter(project_id=project.id, action="membership.change_role").order_by("id")
    assert [(e.before, e.after) for e in events][-1] == (
        {"role": "owner", "user_id": owner.user.id}, {"role": "admin", "user_id": owner.user.id})


async def test_a_removed_members_tokens_stop_working_for_that_project_at_once(
    gql, owner, project, people, make_project
) -> None:
    (member,) = await people(Role.MEMBER)
    elsewhere = await make_project(member, "Elsewhere")
    create = """mutation($input: CreateProductInput!) { createProduct(input: $input) { errors { code field } } }"""
    own = {"input": {"projectId": global_id("Project", project.id), "name": "Before"}}
    assert data_of(await gql(create, own, as_=member))["createProduct"]["errors"] == []

    removed = await remove(gql, project, owner, member)
    assert removed["errors"] == [] and removed["removedUserId"] == global_id("User", member.user.id)
    assert removed["project"] == {"slug": project.slug}

    assert data_of(await gql(PROJECT, {"slug": project.slug}, as_=member))["project"] is None
    after = data_of(await gql(create, {"input": {"projectId": global_id("Project", project.id), "name": "After"}},
                              as_=member))["createProduct"]
    assert after["errors"] == [{"code": "NOT_FOUND", "field": "input.projectId"}]
    assert data_of(await gql(PROJECT, {"slug": elsewhere.slug}, as_=member))["project"]["viewerRole"] == "OWNER"


async def test_a_member_leaves(gql, owner, project, people) -> None:
    (viewer,) = await people(Role.VIEWER)
    left = await remove(gql, project, viewer, viewer)
    assert left["errors"] == [] and left["project"] is None
    assert await role_of(project, viewer) is None
    event = await models.AuditEvent.get(project_id=project.id, action="membership.leave")
    assert event.actor_id == viewer.user.id


# --- the viewer ------------------------------------------------------------------------------------


async def test_update_viewer_sets_name_and_a_valid_language(gql, owner) -> None:
    done = data_of(await gql(UPDATE_VIEWER, {"input": {"name": "Olivia O.", "language": "zh_hant"}},
                             as_=owner))["updateViewer"]
    assert done == {"user": {"name": "Olivia O.", "language": "zh-Hant"}, "errors": []}
    refused = data_of(await gql(UPDATE_VIEWER, {"input": {"language": "klingon-42"}}, as_=owner))["updateViewer"]
    assert codes(refused) == [("INVALID", "input.language")] and refused["user"] is None
    cleared = data_of(await gql(UPDATE_VIEWER, {"input": {"language": None}}, as_=owner))["updateViewer"]
    assert cleared["user"] == {"name": "Olivia O.", "language": None}
    assert data_of(await gql("{ viewer { name language } }", as_=owner))["viewer"] == {
        "name": "Olivia O.", "language": None}
