"""The LLM drafter and translator, over the shared OpenAI-compatible client.

Not wired yet: the shared client (``outboundql.llm``) is being built on another branch. Until it is
merged, `drafter` and `translator` answer None, so drafts come from the template drafter and
"type and translate" answers that translation is unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from outboundql.drafting import Drafter, Usage
    from outboundql.settings import Settings


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    usage: Sequence[Usage] = ()


class Translator(Protocol):
    name: str

    async def translate(self, text: str, *, source: str | None, target: str) -> Translation: ...


def drafter(settings: Settings) -> Drafter | None:
    """The LLM drafter when an LLM is configured; None until then."""
    return None


def translator(settings: Settings) -> Translator | None:
    """The LLM translator when an LLM is configured; None until then."""
    return None
