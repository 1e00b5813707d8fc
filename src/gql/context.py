"""The per-request context: who is asking, what they may do, and fresh dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry

from outboundql.goals.registry import GoalRegistry
from outboundql.gql.errors import ClientError
from outboundql.gql.loaders import Loaders
from outboundql.services.access import Access
from outboundql.services.tokens import AuthError, authenticate
from outboundql.settings import Settings

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.websockets import WebSocket


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Any
    settings: Settings
    goals: GoalRegistry
    access_or_none: Access | None = None
    auth_error: str | None = None
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(default_factory=Loaders)  # never shared across requests
    ws_authorization: str | None = None
    """On a websocket: the Authorization of ``connection_init``. A connection outlives token revocation,
    expiry and membership changes, so `recheck` authenticates again on every operation and event."""

    async def recheck(self) -> None:
        """On a websocket, authenticate again and reload roles and dataloaders; a no-op for HTTP requests."""
        if self.ws_authorization is None:
            return
        self.loaders = Loaders()
        try:
            user = await authenticate(self.ws_authorization,
                                      timedelta(seconds=self.settings.token_touch_interval_seconds))
        except AuthError as exc:
            self.access_or_none, self.auth_error = None, str(exc)
            return
        self.access_or_none = await Access.for_user(user)

    @property
    def access(self) -> Access:
        """The viewer's permissions; raises the authentication error when there is no viewer."""
        if self.access_or_none is None:
            raise ClientError(self.auth_error or "Authentication required.", "UNAUTHENTICATED")
        return self.access_or_none


Info: TypeAlias = strawberry.Info[Context, None]
