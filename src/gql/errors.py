"""User mistakes as data: the `UserError` type and the extension that fills `errors`."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry.relay.types import GlobalIDValueError
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryContainer, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from tortoise.exceptions import IntegrityError

from outboundql.errors import Issue, OutboundqlError


@strawberry.enum(description="What kind of mistake a `UserError` reports.")
class UserErrorCode(enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"
    PROJECT_ARCHIVED = strawberry.enum_value(
        "PROJECT_ARCHIVED", description="The project is archived (read-only): unarchive it to change it.")


@strawberry.type(description="A problem with a mutation's input, reported as data.")
class UserError:
    code: UserErrorCode
    field: str | None = strawberry.field(
        description="Path into the mutation arguments, e.g. `input.name` or `input.accounts[3].domain`; "
        "null when the whole request is concerned."
    )
    message: str = strawberry.field(description="A sentence for people, saying what to do next.")


_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def graphql_path(field: StrawberryField, path: str | None, names: NameConverter) -> str | None:
    """The GraphQL path of a service's snake-case ``path`` (``accounts[3].saved_filter_id``) under the
    arguments of ``field``: ``input.accounts[3].savedFilterId``. Names come from strawberry's own field
    definitions; a name the arguments do not declare is camel-cased as is. A path that does not start
    with an argument of ``field`` is inside its only argument (every mutation takes one ``input``)."""
    if not path:
        return None
    segments = path.split(".")
    arguments = {a.python_name: a for a in field.arguments}
    head = _SEGMENT.fullmatch(segments[0])
    if head is None or head.group(1) not in arguments:
        only = next(iter(arguments.values())) if len(arguments) == 1 else None
        if only is None or head is None or _input_field(_inner_type(only.type), head.group(1)) is None:
            return ".".join(_camel(s, names) for s in segments)  # not an argument: a name of its own
        segments.insert(0, only.python_name)
    out: list[str] = []
    current: Any = None
    for index, segment in enumerate(segments):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            out.append(segment)
            current = None
            continue
        name, indexes = match.groups()
        found: Any = arguments.get(name) if index == 0 else _input_field(current, name)
        out.append((names.get_graphql_name(found) if found is not None else names.apply_naming_config(name))
                   + indexes)
        current = _inner_type(found.type) if found is not None else None
    return ".".join(out)


def _camel(segment: str, names: NameConverter) -> str:
    match = _SEGMENT.fullmatch(segment)
    return segment if match is None else names.apply_naming_config(match.group(1)) + match.group(2)


def _input_field(type_: Any, python_name: str) -> Any:
    if type_ is None or not has_object_definition(type_):
        return None
    return next((f for f in type_.__strawberry_definition__.fields if f.python_name == python_name), None)


def _inner_type(type_: Any) -> Any:
    while True:
        if isinstance(type_, LazyType):
            type_ = type_.resolve_type()
        elif isinstance(type_, StrawberryContainer):
            type_ = type_.of_type
        else:
            return type_


def to_user_error(issue: Issue, field: StrawberryField | None = None, names: NameConverter | None = None) -> UserError:
    path = graphql_path(field, issue.field, names or NameConverter()) if field is not None else issue.field
    return UserError(code=UserErrorCode[issue.code], field=path, message=brief(issue.message))


_LONG_QUOTE = re.compile(r"""(['"])([^'"\n]{60})[^'"\n]{20,}\1""")
MAX_MESSAGE = 1000


def brief(message: str) -> str:
    """``message`` with each quoted value past 80 characters cut to its first 60 (a message that echoes
    a megabyte of input must not answer with it), and at most `MAX_MESSAGE` characters in all."""
    short = _LONG_QUOTE.sub(lambda m: f"{m[1]}{m[2]}…{m[1]}", message)
    return short if len(short) <= MAX_MESSAGE else short[:MAX_MESSAGE - 1] + "…"


class ErrorsAsData(FieldExtension):
    """Turn a raised `OutboundqlError` into the mutation's payload with ``errors`` filled in."""

    def apply(self, field: Any) -> None:
        self.field = field
        self.payload = field.type

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except OutboundqlError as exc:
            names = info.schema.config.name_converter
            return self.payload(errors=[to_user_error(issue, self.field, names) for issue in exc.issues()])
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


UNEXPECTED = "Unexpected error."


class CodedErrors(MaskErrors):
    """Every error a client sees carries ``extensions.code``. Crashes are masked as "Unexpected error."
    with INTERNAL_SERVER_ERROR (the schema logs their cause); an error that names its own code keeps
    it (`ClientError`, domain errors, the query limits); the others get one by kind:

    * GRAPHQL_PARSE_FAILED: the document is not GraphQL;
    * GRAPHQL_VALIDATION_FAILED: it does not fit the schema (unknown field, wrong argument type…);
    * NOT_FOUND: an id that is not an id of this API at all (as GitHub answers one: like a missing
      object — the id is opaque, a client cannot tell a malformed one from a deleted object);
    * BAD_USER_INPUT: a variable or argument value that does not coerce to its type;
    * BAD_REQUEST: any other client mistake.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=UNEXPECTED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            _give_code(error, "GRAPHQL_VALIDATION_FAILED")

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        for error in getattr(self.execution_context.result, "errors", None) or ():
            _give_code(error, _kind(error))


def _give_code(error: GraphQLError, code: str) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}


def _kind(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if isinstance(original, GlobalIDValueError):
        # strawberry's message quotes the whole value (it may be a megabyte): say it in our words.
        error.message = ("An id in the arguments does not name any object: ids are the opaque `id` strings "
                         "this API returns.")
        return "NOT_FOUND"
    if original is not None and not isinstance(original, GraphQLError):
        return "BAD_REQUEST"
    return "BAD_USER_INPUT"  # a variable that does not coerce (validation errors were coded before)


class ArgumentErrors(FieldExtension):
    """On a query field: a domain error raised by a service names the field's arguments in snake case;
    re-raise it with their GraphQL path (``account_ids`` → ``accountIds``) in ``extensions.field``."""

    def apply(self, field: Any) -> None:
        self.field = field

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except OutboundqlError as exc:
            exc.field = graphql_path(self.field, exc.field, info.schema.config.name_converter)
            raise


def user_errors(info: Any, issues: list[Issue]) -> list[UserError]:
    """``issues`` of one item of a bulk mutation, with GraphQL paths under the mutation's arguments."""
    names = info.schema.config.name_converter
    return [to_user_error(issue, info._field, names) for issue in issues]
