"""What every service command shares: the marker of a field that was not given.

A command is a frozen dataclass named after its use case (`CreateCampaign`, `UpdateAccount`…) whose
fields carry the input's own snake-case names with ids already as ints. A partial update marks the
fields it leaves alone with `UNSET` (``None`` is a value: "clear it"); `given` lists the others.

Example:
    @dataclass(frozen=True, slots=True)
    class UpdateCampaign:
        id: int
        name: Maybe[str] = UNSET
        market_id: Maybe[int | None] = UNSET

    given(UpdateCampaign(id=3, market_id=None))   # {"market_id": None}
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Literal, TypeAlias, TypeVar

T = TypeVar("T")


class Unset(enum.Enum):
    """The type of `UNSET`."""

    UNSET = "UNSET"

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Literal[Unset.UNSET] = Unset.UNSET
"""A command field left out of the request."""

Maybe: TypeAlias = T | Literal[Unset.UNSET]


def given(command: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of ``command`` that were given (not `UNSET`), by name, without ``exclude``."""
    return {
        f.name: getattr(command, f.name)
        for f in dataclasses.fields(command)
        if f.name not in exclude and getattr(command, f.name) is not UNSET
    }
