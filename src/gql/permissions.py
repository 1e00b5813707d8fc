"""Authentication gate for fields. Authorisation (roles, tenancy) lives in `services.access`."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from outboundql.gql.errors import ClientError


class IsAuthenticated(BasePermission):
    """Requires a valid bearer token; otherwise a top-level error with code UNAUTHENTICATED."""

    message = "Authentication required: send 'Authorization: Bearer <api token>'."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        if context.access_or_none is None:
            raise ClientError(context.auth_error or self.message, "UNAUTHENTICATED")
        return True
