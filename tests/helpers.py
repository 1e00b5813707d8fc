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


def data_of(result: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` of a result that must have no top-level errors."""
    assert not result.get("errors"), result.get("errors")
    return result["data"]


def global_id(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)
