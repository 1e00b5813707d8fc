"""Teams: invitations, member roles and removal (`services.invitations`, `services.members`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.enums import Role as RoleValue
from outboundql.gql.base import ChangeScope, ProjectNode, lazy_class, mutation, pk_of, pk_or_none
from outboundql.gql.context import Info
from outboundql.gql.enums import Role
from outboundql.gql.errors import ClientError, ErrorsAsData, UserError
from outboundql.services import invitations, members, runtime
from outboundql.services.access import parse_id

if TYPE_CHECKING:
    from outboundql.gql.projects import Project
    from outboundql.gql.users import User

ProjectRef = Annotated["Project", strawberry.lazy("outboundql.gql.projects")]
UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]

InvitationStatus = strawberry.enum(invitations.InvitationStatus, name="InvitationStatus",
                                   description="PENDING (can be accepted), ACCEPTED, REVOKED or EXPIRED.")
InvitationDelivery = strawberry.enum(invitations.Delivery, name="InvitationDelivery",
                                     description="EMAILED through the project's e-mail channel; NOT_CONFIGURED (no "
                                     "e-mail channel: pass the token on yourself); FAILED (see deliveryError).")


@strawberry.type(description="An invitation to join a project with a role. Visible to the project's admins.")
class Invitation(ProjectNode):
    id: relay.NodeID[int]
    email: str = strawberry.field(description="The address invited.")
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    delivery_error: str = strawberry.field(description="Why the mail could not be sent (delivery FAILED).")
    row: strawberry.Private[models.Invitation]
    node_model = models.Invitation

    @classmethod
    async def resolve_nodes(cls, *, info: Any, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Only admins see invitations (they hold e-mail addresses of people who are not members).
        access = info.context.access
        admin_of = [pid for pid, role in access.roles.items() if role.rank >= RoleValue.ADMIN.rank]
        pks = [parse_id(raw) for raw in node_ids]
        wanted = [pk for pk in pks if pk is not None]
        rows = {r.pk: r for r in await models.Invitation.filter(id__in=wanted, project_id__in=admin_of)} \
            if wanted and admin_of else {}
        return [cls.from_model(rows[pk]) if pk in rows else None for pk in pks]

    @strawberry.field(description="PENDING until accepted, revoked or expired.")
    def status(self) -> InvitationStatus:  # type: ignore[valid-type]
        return invitations.status(self.row, runtime.now())

    @strawberry.field(description="Whether the token was mailed.")
    def delivery(self) -> InvitationDelivery:  # type: ignore[valid-type]
        return invitations.Delivery(self.row.delivery)

    @strawberry.field(description="Who invited (null once their account is gone).")
    async def invited_by(self, info: Info) -> UserRef | None:
        return await _user(info, self.row.invited_by_id)  # type: ignore[no-any-return]

    @strawberry.field(description="Who accepted it.")
    async def accepted_by(self, info: Info) -> UserRef | None:
        return await _user(info, self.row.accepted_by_id)  # type: ignore[no-any-return]

    @strawberry.field
    async def project(self, info: Info) -> ProjectRef:
        row = await info.context.loaders.project_by_id.load(self.row.project_id)
        return lazy_class(ProjectRef).from_model(row)  # type: ignore[no-any-return]


async def _user(info: Info, user_id: int | None) -> Any:
    if user_id is None:
        return None
    row = await info.context.loaders.user_by_id.load(user_id)
    return lazy_class(UserRef).from_model(row) if row else None


@strawberry.input
class InviteMemberInput:
    project_id: relay.GlobalID
    email: str = strawberry.field(description="The address to invite; whether it has an account is never told.")
    role: Role = enums.Role.MEMBER
    expires_in_days: int = strawberry.field(default=invitations.DEFAULT_DAYS,
                                            description=f"1–{invitations.MAX_DAYS}; 7 by default.")


@strawberry.type
class InviteMemberPayload:
    invitation: Invitation | None = None
    token: str | None = strawberry.field(default=None, description="The invitation's token, shown only this once: "
                                         "give it to the invitee if it was not mailed (delivery).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AcceptInvitationInput:
    token: str
    code: str = strawberry.field(default="", description="Not signed in: the confirmation code from the invitation "
                                 "mail (never shown to the inviter), which makes your account. Without it, or with a "
                                 "wrong one, the answer asks you to sign in, whether or not the address has an "
                                 "account.")
    name: str = strawberry.field(default="", description="Your name, for a new account (when not signed in).")
    language: str | None = strawberry.field(default=None, description="Your language (BCP 47), for a new account.")


@strawberry.type
class AcceptInvitationPayload:
    project: ProjectRef | None = None
    user: UserRef | None = strawberry.field(default=None, description="Who joined.")
    api_token: str | None = strawberry.field(default=None, description="A new account's first API token (when "
                                             "accepted without signing in), shown only this once.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeInvitationInput:
    id: relay.GlobalID


@strawberry.type
class RevokeInvitationPayload:
    invitation: Invitation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangeMemberRoleInput:
    project_id: relay.GlobalID
    user_id: relay.GlobalID
    role: Role


@strawberry.type
class ChangeMemberRolePayload:
    project: ProjectRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RemoveMemberInput:
    project_id: relay.GlobalID
    user_id: relay.GlobalID = strawberry.field(description="The member to remove; your own id to leave.")


@strawberry.type
class RemoveMemberPayload:
    project: ProjectRef | None = strawberry.field(default=None, description="The project (null when you left it).")
    removed_user_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _project(row: models.Project) -> Any:
    return lazy_class(ProjectRef).from_model(row)


@strawberry.type
class TeamMutations:
    @mutation("Invite an e-mail address to a project with a role (admins invite members and viewers, owners anyone). "
              "The token comes back once in the payload, and is mailed through the project's e-mail channel when one "
              "is configured. Inviting an address again replaces its pending invitation.")
    async def invite_member(self, info: Info, input: InviteMemberInput) -> InviteMemberPayload:
        cmd = invitations.InviteMember(project_id=pk_of(input.project_id, "Project", "project_id"), email=input.email,
                                       role=input.role, expires_in_days=input.expires_in_days)
        result = await invitations.invite_member(info.context.access, cmd)
        return InviteMemberPayload(invitation=Invitation.from_model(result.invitation), token=result.token)

    @strawberry.mutation(extensions=[ErrorsAsData(), ChangeScope()], description=(
        "Accept an invitation with its token (it works once, until it expires). Signed in, you join as yourself. "
        "Not signed in, the confirmation code from the invitation mail makes an account for the invited address and "
        "returns its first API token; without that code nothing is made and the answer (sign in to accept) is the "
        "same whether or not the address has an account."))
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> AcceptInvitationPayload:
        context = info.context
        if context.access_or_none is None and context.request is not None and \
                context.request.headers.get("authorization"):
            raise ClientError(context.auth_error or "Invalid API token.", "UNAUTHENTICATED")  # a bad token is no "none"
        cmd = invitations.AcceptInvitation(token=input.token, code=input.code, name=input.name,
                                           language=input.language)
        result = await invitations.accept_invitation(context.access_or_none, cmd)
        if context.access_or_none is None:  # the rest of the answer is read as the new user
            from outboundql.services.access import Access

            context.access_or_none = await Access.for_user(result.user)
        return AcceptInvitationPayload(project=_project(result.project),
                                       user=lazy_class(UserRef).from_model(result.user), api_token=result.api_token)

    @mutation("Revoke a pending invitation: its token stops working. Idempotent.")
    async def revoke_invitation(self, info: Info, input: RevokeInvitationInput) -> RevokeInvitationPayload:
        cmd = invitations.RevokeInvitation(id=pk_or_none(input.id, "Invitation"))
        result = await invitations.revoke_invitation(info.context.access, cmd)
        return RevokeInvitationPayload(invitation=Invitation.from_model(result.invitation))

    @mutation("Change a member's role. Admins move members and viewers between MEMBER and VIEWER; only owners "
              "grant, change or take the ADMIN and OWNER roles; the last owner cannot be demoted.")
    async def change_member_role(self, info: Info, input: ChangeMemberRoleInput) -> ChangeMemberRolePayload:
        cmd = members.ChangeMemberRole(project_id=pk_of(input.project_id, "Project", "project_id"),
                                       user_id=pk_or_none(input.user_id, "User"), role=input.role)
        result = await members.change_member_role(info.context.access, cmd)
        return ChangeMemberRolePayload(project=_project(result.project))

    @mutation("Remove a member (admins remove members and viewers, owners anyone), or leave (your own id). The last "
              "owner cannot leave. The member's API tokens stop working for this project at once.")
    async def remove_member(self, info: Info, input: RemoveMemberInput) -> RemoveMemberPayload:
        cmd = members.RemoveMember(project_id=pk_of(input.project_id, "Project", "project_id"),
                                   user_id=pk_or_none(input.user_id, "User"))
        result = await members.remove_member(info.context.access, cmd)
        still = result.project.id in info.context.access.roles
        return RemoveMemberPayload(project=_project(result.project) if still else None,
                                   removed_user_id=relay.GlobalID("User", str(result.user_id)))
