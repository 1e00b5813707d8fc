"""Invitations: how people join a project.

An admin invites an e-mail address with a role (admins invite members and viewers, owners anyone). The
invitation carries a single-use token that expires (7 days by default): it is returned once to the inviter and,
when the project has an e-mail channel configured, mailed to the address through it. Only its hash is stored.

Whoever holds the token accepts it:

* signed in (an API token), they join as themselves;
* not signed in, with the invitation's confirmation code: an account is made for the invited address and its first
  API token returned, once (how a new person arrives). The code is only ever in the invitation mail, so only who
  reads the invited address's mail has it; the inviter, who also holds the token, never sees it. With the code, an
  address that already has an account is told to sign in (only its own mailbox learns that);
* not signed in without the code (or with a wrong one): nothing is created, and the answer is the same whether or
  not the address has an account: sign in and accept, or (a new account) use the code from the invitation mail.
  Who holds only the token (possibly the inviter) therefore learns nothing about the address, and cannot make an
  account in someone else's name. When the project has no e-mail channel (nothing was mailed), the invitee signs
  in to accept: an operator makes their account (``outboundql create-user``) first.

The code is a signature of the token by the server's signing key (``OUTBOUNDQL_SECRET_KEY``; nothing more is
stored), so every API process must share that key, as for export links.

Inviting answers the same whether or not the address has an account (only a current member of the project is
refused, as the member list shows them anyway), so invitations cannot be used to find out who uses this server.
Inviting an address again replaces its pending invitation (the earlier token stops working).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from outboundql import channels, models
from outboundql.channels import AwaitingResult, Deferred, DeliveryFailed, DeliveryResult
from outboundql.enums import Channel, Role
from outboundql.errors import Collector, Conflict, Forbidden, InvalidInput, NotFound, ProjectArchived
from outboundql.services import audit, auth_cache, channel_configs, fields, normalize, runtime, tokens, users
from outboundql.services.access import Access
from outboundql.services.signing_key import signing_key

TOKEN_PREFIX = "oqi_"
DEFAULT_DAYS = 7
MAX_DAYS = 30
MAX_PENDING = 100
"""Pending invitations one project may have at once (each may send a mail through the project's mailbox)."""

log = logging.getLogger(__name__)


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Delivery(enum.StrEnum):
    """Whether the token was mailed (the inviter has it in any case)."""

    EMAILED = "emailed"
    NOT_CONFIGURED = "not_configured"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InviteMember:
    project_id: int
    email: str
    role: Role = Role.MEMBER
    expires_in_days: int = DEFAULT_DAYS


@dataclass(frozen=True, slots=True)
class AcceptInvitation:
    token: str
    code: str = ""
    """Not signed in: the confirmation code from the invitation mail, which makes the account."""
    name: str = ""
    """For a new account (not signed in): the person's name."""
    language: str | None = None
    """For a new account: a BCP 47 language tag."""


@dataclass(frozen=True, slots=True)
class RevokeInvitation:
    id: int | None


@dataclass(frozen=True, slots=True)
class InvitationCreated:
    invitation: models.Invitation
    token: str
    """The secret to accept with: shown this once."""


@dataclass(frozen=True, slots=True)
class InvitationAccepted:
    invitation: models.Invitation
    project: models.Project
    user: models.User
    api_token: str | None
    """A new account's first API token (shown once); None for a signed-in user."""


@dataclass(frozen=True, slots=True)
class InvitationRevoked:
    invitation: models.Invitation


def status(invitation: models.Invitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirmation_code(token_hash: str) -> str:
    """The code mailed with an invitation (never given to the inviter): ``XXXX-XXXX-XXXX-XXXX``."""
    digest = hmac.new(signing_key(), b"invitation-code:" + token_hash.encode(), hashlib.sha256).digest()
    raw = base64.b32encode(digest[:10]).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _code_matches(given: str, token_hash: str) -> bool:
    plain = "".join(given.split()).replace("-", "").upper()
    expected = confirmation_code(token_hash).replace("-", "").encode()
    return bool(plain) and hmac.compare_digest(plain.encode("utf-8", "replace"), expected)


SIGN_IN_TO_ACCEPT = ("Sign in with your API token to accept this invitation. No account yet? Accept with the "
                     "confirmation code from the invitation mail sent to the invited address (if none came, ask an "
                     "admin of the project to invite you again, or this server's operator for an account).")
"""The answer without sign-in and without the right code: the same whether or not the address has an account."""


async def invite_member(access: Access, cmd: InviteMember) -> InvitationCreated:
    """Invite ``email`` to the project with ``role``; mails the token when the project can send e-mail."""
    have = access.require(cmd.project_id, Role.ADMIN, field="project_id")
    if cmd.role.rank >= Role.ADMIN.rank and have is not Role.OWNER:
        raise Forbidden(f"Your role in this project is {have.value}; only an owner can invite an {cmd.role.value}.",
                        field="role")
    check = Collector()
    email = None
    try:
        email = normalize.normalize_email(fields.storable(cmd.email, "E-mail"))
    except ValueError as exc:
        check.add("email", str(exc))
    else:
        if not email:
            check.add("email", "E-mail is required: the address to invite.")
    if not 1 <= cmd.expires_in_days <= MAX_DAYS:
        check.add("expires_in_days", f"An invitation expires after 1 to {MAX_DAYS} days.")
    check.raise_if_any()
    assert email is not None
    now = runtime.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        project = await models.Project.get(id=cmd.project_id)
        if await models.Membership.filter(project_id=project.id, user__email=email).exists():
            raise Conflict(f"{email} is already a member of this project.", field="email")
        pending = _pending(models.Invitation.filter(project_id=project.id), now)
        replaced = await pending.filter(email=email).select_for_update().only("id")
        if not replaced and await pending.count() >= MAX_PENDING:
            raise Conflict(f"This project has {MAX_PENDING} pending invitations: revoke some, or wait for them to "
                           "be accepted or expire, before inviting more.", field="email")
        for earlier in replaced:
            await models.Invitation.filter(id=earlier.id).update(revoked_at=now)
            await audit.record(project_id=project.id, actor=access.user, action="invitation.revoke", row=earlier,
                               after={"replaced": True})
        invitation = await models.Invitation.create(
            project=project, email=email, role=cmd.role, token_hash=_hash(token), invited_by=access.user,
            created_at=now, expires_at=now + timedelta(days=cmd.expires_in_days))
        await audit.record(project_id=project.id, actor=access.user, action="invitation.create", row=invitation,
                           after={"email": email, "role": cmd.role.value,
                                  "expires_at": invitation.expires_at.isoformat()})
    await _deliver(invitation, project, access.user, token)
    return InvitationCreated(invitation=invitation, token=token)


async def accept_invitation(access: Access | None, cmd: AcceptInvitation) -> InvitationAccepted:
    """Join the invitation's project: as the signed-in user, or (``access`` None, with the mailed code) as a new
    account. Without sign-in and code the answer never depends on whether the address has an account."""
    check = Collector()
    profile = fields.clean({"name": cmd.name, "language": cmd.language, "code": cmd.code},
                           {"name": fields.text(200, label="Name"), "language": normalize.normalize_language,
                            "code": fields.text(100, label="Code")}, check)
    check.raise_if_any()
    given = (cmd.token or "").strip()
    invitation = await models.Invitation.filter(token_hash=_hash(given)).first() if given else None
    if invitation is None:
        raise NotFound("Invitation", field="token")
    now = runtime.now()
    state = status(invitation, now)
    if await models.Project.filter(id=invitation.project_id, archived_at__isnull=False).exists():
        raise ProjectArchived(field="token")
    if state != InvitationStatus.PENDING:
        raise InvalidInput({
            InvitationStatus.ACCEPTED: "This invitation was already used: an invitation works once.",
            InvitationStatus.REVOKED: "This invitation was revoked: ask the project's admins for a new one.",
            InvitationStatus.EXPIRED: "This invitation has expired: ask the project's admins for a new one.",
        }[state], field="token")
    if access is None and not _code_matches(profile["code"] or "", invitation.token_hash):
        raise InvalidInput(SIGN_IN_TO_ACCEPT, field="code")
    api_token = None
    async with in_transaction():
        if access is not None:
            user = access.user
            if await models.Membership.filter(project_id=invitation.project_id, user_id=user.id).exists():
                raise Conflict("You are already a member of this project.", field="token")
        else:
            if await models.User.filter(email=invitation.email).exists():  # told only to who reads its mail
                raise InvalidInput("An account uses this invitation's e-mail address: sign in with one of its API "
                                   "tokens and accept again (the code is not needed then).", field="token")
            user = await users.create_user(invitation.email, profile["name"] or "", profile["language"])
        used = await models.Invitation.filter(id=invitation.id, accepted_at__isnull=True, revoked_at__isnull=True) \
            .update(accepted_at=now, accepted_by_id=user.id)
        if not used:  # accepted (or revoked) by another request meanwhile
            raise InvalidInput("This invitation was already used: an invitation works once.", field="token")
        membership = await models.Membership.create(user=user, project_id=invitation.project_id,
                                                    role=invitation.role)
        await audit.record(project_id=invitation.project_id, actor=user, action="invitation.accept",
                           row=invitation, after={"user_id": user.id, "role": invitation.role.value})
        await audit.record(project_id=invitation.project_id, actor=user, action="membership.create",
                           row=membership, after={"user_id": user.id, "role": invitation.role.value,
                                                  "invitation_id": invitation.id})
        if access is None:
            api_token = (await tokens.create_api_token(user, tokens.CreateApiToken(name="First token"))).secret
        project = await models.Project.get(id=invitation.project_id)
    await invitation.refresh_from_db()
    if access is not None:
        access.roles[project.id] = invitation.role
    await auth_cache.invalidate_user_access(user.id)
    return InvitationAccepted(invitation=invitation, project=project, user=user, api_token=api_token)


async def revoke_invitation(access: Access, cmd: RevokeInvitation) -> InvitationRevoked:
    """Revoke a pending invitation (its token stops working). Idempotent; an accepted one is CONFLICT."""
    invitation = await access.get(models.Invitation, cmd.id, Role.ADMIN, field="id")
    have = access.require(invitation.project_id, Role.ADMIN, field="id")
    if invitation.role.rank >= Role.ADMIN.rank and have is not Role.OWNER:
        raise Forbidden(f"Your role in this project is {have.value}; only an owner can revoke an invitation to the "
                        f"{invitation.role.value} role.", field="id")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted: remove the member instead.", field="id")
    if invitation.revoked_at is None:
        async with in_transaction():
            invitation.revoked_at = runtime.now()
            await invitation.save(update_fields=["revoked_at"])
            await audit.record(project_id=invitation.project_id, actor=access.user, action="invitation.revoke",
                               row=invitation, after={"email": invitation.email})
    return InvitationRevoked(invitation=invitation)


def project_invitations(project_id: int, only_pending: bool = True) -> QuerySet[models.Invitation]:
    """A project's invitations, newest first; by default only those that can still be accepted."""
    query = models.Invitation.filter(project_id=project_id)
    if only_pending:
        query = _pending(query, runtime.now())
    return query.order_by("-created_at", "-id")


def _pending(query: QuerySet[models.Invitation], now: datetime) -> QuerySet[models.Invitation]:
    return query.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


async def _deliver(invitation: models.Invitation, project: models.Project, inviter: models.User, token: str) -> None:
    """Mail the token through the project's e-mail channel, when one is configured (not ``log``); the outcome is
    kept on the invitation. Never raises: the inviter has the token either way."""
    found = await channel_configs.for_delivery(project.id, [Channel.EMAIL.value])
    plugin, config = found[Channel.EMAIL.value]
    if plugin.key == "log":
        return
    expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    who = inviter.name or inviter.email
    endpoint = runtime.settings().public_url.rstrip("/") + "/graphql"
    body = (f"{who} invites you to join the project \"{project.name}\" as {invitation.role.value}.\n\n"
            f"Your invitation token (it works once, until {expires}):\n\n    {token}\n\n"
            f"To accept, send the acceptInvitation mutation with this token to {endpoint}: signed in with your "
            "API token if you already have an account; otherwise without signing in, with the token and this "
            f"confirmation code, to create your account (its first API token comes in the answer):\n\n"
            f"    {confirmation_code(invitation.token_hash)}\n\n"
            "Keep the code to yourself: the token alone does not make an account.\n\n"
            "If you did not expect this invitation, ignore this mail.\n")
    delivery = channels.Delivery(attempt_id=0, delivery_key=f"invitation-{invitation.id}", project_id=project.id,
                        campaign_id=0, channel=Channel.EMAIL.value, address=invitation.email, contact_name=None,
                        account_name=project.name, subject=f"Invitation to join {project.name} on outboundql",
                        body=body, step=0, attempt_number=0)
    try:
        result = await plugin.deliver(delivery, config)
    except Exception as exc:  # a channel plugin's bug must not lose the invitation
        log.exception("Delivering invitation %s failed.", invitation.id)
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = _why(result)
    invitation.delivery = Delivery.FAILED if error else Delivery.EMAILED
    invitation.delivery_error = error[:1000]
    await models.Invitation.filter(id=invitation.id).update(delivery=invitation.delivery,
                                                            delivery_error=invitation.delivery_error)


def _why(result: DeliveryResult) -> str:
    """Why ``result`` is not a sent mail (empty: it is)."""
    if isinstance(result, DeliveryFailed):
        return result.error
    if isinstance(result, Deferred):
        return f"Not sent: {result.reason}"
    if isinstance(result, AwaitingResult):
        return "Handed to the channel, which does not confirm sending."
    return ""
