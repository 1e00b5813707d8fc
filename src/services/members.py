"""A project's members: changing a role, removing a member (or leaving).

The role rules (owner > admin > member > viewer):

* admins manage members and viewers: they change a member's or viewer's role to member or viewer, and remove
  them; only owners change, grant or remove the admin and owner roles;
* anyone may leave a project (remove themselves);
* nothing changes in an archived project (`ProjectArchived`), members included;
* a project always keeps an owner: the last one can neither leave, be removed, nor be demoted.

A change takes effect on the member's next request (their cached access is dropped at the commit): a removed
member's API tokens stop answering for the project at once, and keep working for their other projects.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Conflict, Forbidden, NotFound, ProjectArchived
from outboundql.services import audit, auth_cache
from outboundql.services.access import Access


@dataclass(frozen=True, slots=True)
class ChangeMemberRole:
    project_id: int
    user_id: int | None
    """None: no such user (a malformed id), NOT_FOUND like a user who is not a member."""
    role: Role


@dataclass(frozen=True, slots=True)
class RemoveMember:
    project_id: int
    user_id: int | None


@dataclass(frozen=True, slots=True)
class MemberChanged:
    project: models.Project
    membership: models.Membership


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    project: models.Project
    user_id: int


async def change_member_role(access: Access, cmd: ChangeMemberRole) -> MemberChanged:
    """Give a member another role, under the rules of this module."""
    have = access.require(cmd.project_id, Role.ADMIN, field="project_id")
    async with in_transaction():
        membership = await _membership(cmd.project_id, cmd.user_id)
        if membership.role is not cmd.role:
            _check_manages(have, membership.role, cmd.role)
            if membership.role is Role.OWNER:
                await _keep_an_owner(cmd.project_id, "demote")
            before = audit.snapshot(membership, ["role"])
            membership.role = cmd.role
            await membership.save(update_fields=["role", "updated_at"])
            await audit.record(project_id=cmd.project_id, actor=access.user, action="membership.change_role",
                               row=membership, before={**before, "user_id": membership.user_id},
                               after={**audit.snapshot(membership, ["role"]), "user_id": membership.user_id})
        project = await models.Project.get(id=cmd.project_id)
    if membership.user_id == access.user.id:
        access.roles[cmd.project_id] = cmd.role
    await auth_cache.invalidate_user_access(membership.user_id)
    return MemberChanged(project=project, membership=membership)


async def remove_member(access: Access, cmd: RemoveMember) -> MemberRemoved:
    """Remove a member from the project, or leave it (``user_id`` is the viewer's own)."""
    leaving = cmd.user_id == access.user.id
    have = access.require(cmd.project_id, Role.VIEWER if leaving else Role.ADMIN, field="project_id")
    if cmd.project_id in access.archived:
        raise ProjectArchived()
    async with in_transaction():
        membership = await _membership(cmd.project_id, cmd.user_id)
        if not leaving:
            _check_manages(have, membership.role, None)
        if membership.role is Role.OWNER:
            await _keep_an_owner(cmd.project_id, "leave" if leaving else "remove")
        await audit.record(project_id=cmd.project_id, actor=access.user,
                           action="membership.leave" if leaving else "membership.remove", row=membership,
                           before={"user_id": membership.user_id, "role": membership.role.value})
        await membership.delete()
        project = await models.Project.get(id=cmd.project_id)
    if leaving:
        access.roles.pop(cmd.project_id, None)
    await auth_cache.invalidate_user_access(membership.user_id)
    return MemberRemoved(project=project, user_id=membership.user_id)


async def _membership(project_id: int, user_id: int | None) -> models.Membership:
    """The membership of ``user_id`` in the project (locked for the transaction); NOT_FOUND on ``user_id``."""
    row = None
    if user_id is not None:
        row = await models.Membership.filter(project_id=project_id, user_id=user_id).select_for_update().first()
    if row is None:
        raise NotFound("User", field="user_id")  # not a member here reads as no such user
    return row


def _check_manages(have: Role, current: Role, target: Role | None) -> None:
    """Admins change and remove members and viewers (to member or viewer); owners anything."""
    if have is Role.OWNER:
        return
    for role in (current, target):
        if role is not None and role.rank >= Role.ADMIN.rank:
            raise Forbidden(f"Your role in this project is {have.value}; only an owner can change, grant or remove "
                            f"the {role.value} role.")


async def _keep_an_owner(project_id: int, verb: str) -> None:
    """Conflict when the project would be left without an owner (owners are locked while counted)."""
    owners = await models.Membership.filter(project_id=project_id, role=Role.OWNER).select_for_update().only("id")
    if len(owners) <= 1:
        what = {"demote": "be demoted", "leave": "leave", "remove": "be removed"}[verb]
        raise Conflict(f"The last owner cannot {what}: make another member an owner first (or delete the "
                       "project).", field="user_id")
