"""API tokens: creation (the secret is returned once), authentication, revocation."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from outboundql import models
from outboundql.errors import InvalidInput, NotFound
from outboundql.services import auth_cache, fields, runtime
from outboundql.services.jobs import JobsUnavailable

TOKEN_PREFIX = "oql_"

log = logging.getLogger(__name__)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CreateApiToken:
    name: str = ""
    expires_in_days: int | None = None
    """1–3650; None never expires."""


@dataclass(frozen=True, slots=True)
class RevokeApiToken:
    id: int


@dataclass(frozen=True, slots=True)
class ApiTokenCreated:
    token: models.ApiToken
    secret: str
    """The bearer token: shown once, never stored."""


@dataclass(frozen=True, slots=True)
class ApiTokenRevoked:
    token: models.ApiToken


async def create_api_token(user: models.User, cmd: CreateApiToken) -> ApiTokenCreated:
    """Create a token for ``user``; the secret is in the result, and nowhere else."""
    if cmd.expires_in_days is not None and not 1 <= cmd.expires_in_days <= 3650:
        raise InvalidInput("Expiry must be between 1 and 3650 days.", field="expires_in_days")
    name = fields.cleaned("name", fields.text(200, label="Token name"), cmd.name) or ""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=cmd.expires_in_days) if cmd.expires_in_days else None
    row = await models.ApiToken.create(
        user=user, name=name, token_hash=hash_token(secret), prefix=secret[:10], expires_at=expires_at
    )
    return ApiTokenCreated(token=row, secret=secret)


class AuthError(Exception):
    """The bearer token is missing, unknown, revoked or expired; the message says which."""


async def authenticate(authorization: str | None, touch_interval: timedelta) -> models.User:
    """Resolve an ``Authorization: Bearer …`` header to its user, or raise `AuthError` (always from the
    database; HTTP requests go through `auth_cache.access_for`)."""
    token = await models.ApiToken.filter(token_hash=token_hash_of(authorization)).select_related("user").first()
    if token is None:
        raise AuthError("Invalid API token.")
    now = datetime.now(UTC)
    check_token(token.expires_at, token.revoked_at, now)
    if token.last_used_at is None or now - token.last_used_at >= touch_interval:
        await schedule_touch(token.id, now)
    return token.user


def token_hash_of(authorization: str | None) -> str:
    """The stored hash of the token an ``Authorization`` header carries; `AuthError` when it carries none."""
    if not authorization:
        raise AuthError("Authentication required: send 'Authorization: Bearer <api token>'.")
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthError("Malformed Authorization header: expected 'Bearer <api token>'.")
    return hash_token(secret.strip())


def check_token(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> None:
    """`AuthError` for a revoked token (said first) or one expired at ``now``."""
    if revoked_at is not None:
        raise AuthError("This API token has been revoked.")
    if expires_at is not None and expires_at <= now:
        raise AuthError("This API token has expired.")


async def schedule_touch(token_id: int, at: datetime) -> bool:
    """Recording use is a background job, so a read request never waits on a write; and it is best
    effort: a job queue that is down (Redis) costs the "last used" time, logged, never the request.
    The token's next request tries again. False: it was not recorded."""
    try:
        await runtime.jobs().touch_token(token_id, at)
    except JobsUnavailable:
        log.warning("API token %s was used, but its last-used time was not recorded (job queue unavailable).",
                    token_id, exc_info=True)
        return False
    return True


async def revoke_api_token(user: models.User, cmd: RevokeApiToken) -> ApiTokenRevoked:
    """Revoke one of ``user``'s own tokens (someone else's is NOT_FOUND). Idempotent."""
    token = await models.ApiToken.filter(id=cmd.id, user_id=user.id).first()
    if token is None:
        raise NotFound("API token", field="id")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await token.save(update_fields=["revoked_at"])
        await auth_cache.invalidate_user_access(user.id)
    return ApiTokenRevoked(token=token)


async def user_tokens(user_id: int, include_revoked: bool = False) -> list[models.ApiToken]:
    """A user's tokens, newest first; revoked ones only when asked."""
    query = models.ApiToken.filter(user_id=user_id)
    if not include_revoked:
        query = query.filter(revoked_at__isnull=True)
    return list(await query.order_by("-created_at", "-id"))


async def tokens_by_id(user: models.User, ids: list[int]) -> dict[int, models.ApiToken]:
    """``user``'s own tokens among ``ids``, by id (anyone else's are left out)."""
    return {t.id: t for t in await models.ApiToken.filter(id__in=ids, user_id=user.id)}
