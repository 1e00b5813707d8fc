"""What a scorer sees of an account and its contacts: plain frozen data, no ORM objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class AccountSnapshot:
    name: str
    industry: str | None = None
    employee_count: int | None = None
    country: str | None = None
    city: str | None = None
    description: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    status: str = "new"
    contract_end_date: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ContactSnapshot:
    title: str | None = None
    role_kind: str = "buyer"
