"""Helpers for tests: people with tokens, result checks, global ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.relay import to_base64

from outboundql import models
from outboundql.services.access import Access


@dataclass
class Person:
    user: models.User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def access_for(person: Person) -> Access:
    return await Access.for_user(person.user)


WARM_UP = "{ viewer { id } }"
"""A request that only authenticates (see `warm_up`)."""


async def warm_up(gql: Any, person: Person) -> None:
    """Send one request as ``person`` so the statements counted next are the request's own: a token's first
    request also loads the token and its memberships (two statements) into the authentication cache."""
    data_of(await gql(WARM_UP, as_=person))


def data_of(result: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a result that must have no top-level errors."""
    assert not result.get("errors"), result.get("errors")
    return result["data"]


def global_id(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)
