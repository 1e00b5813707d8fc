"""User mistakes as data: the `UserError` type and the extension that fills `errors`."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.relay.types import GlobalIDValueError
from tortoise.exceptions import IntegrityError

from outboundql.errors import Issue, OutboundqlError


@strawberry.enum(description="What kind of mistake a `UserError` reports.")
class UserErrorCode(enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"


@strawberry.type(description="A problem with a mutation's input, reported as data.")
class UserError:
    code: UserErrorCode
    field: str | None = strawberry.field(
        description="Path into the mutation arguments, e.g. `input.name` or `input.accounts[3].domain`; "
        "null when the whole request is concerned."
    )
    message: str = strawberry.field(description="A sentence for people, saying what to do next.")


def to_user_error(issue: Issue) -> UserError:
    return UserError(code=UserErrorCode[issue.code], field=issue.field, message=issue.message)


class ErrorsAsData(FieldExtension):
    """Turn a raised `OutboundqlError` into the mutation's payload with ``errors`` filled in."""

    def apply(self, field: Any) -> None:
        self.payload = field.type

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except OutboundqlError as exc:
            return self.payload(errors=[to_user_error(issue) for issue in exc.issues()])
        except IntegrityError:
            # A concurrent request won a uniqueness race; the transaction was rolled back.
            return self.payload(
                errors=[UserError(code=UserErrorCode.CONFLICT, field=None,
                                  message="This change collides with a concurrent one; read again and retry.")]
            )


class ClientError(Exception):
    """A top-level GraphQL error that is safe to show (bad token, page too large…)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.extensions = {"code": code}


def is_unexpected(error: GraphQLError) -> bool:
    """Mask crashes only: validation errors and our own client errors pass through."""
    original = error.original_error
    if original is None:
        return False
    # A variable that does not coerce (e.g. an unknown enum value) wraps graphql-core's own GraphQLError.
    return not isinstance(original, (ClientError, GlobalIDValueError, OutboundqlError, GraphQLError))
