"""The built-in scorers (``rubric``, ``llm``), registered through the public hook exactly like a third party's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from outboundql.goals import hookimpl
from outboundql.scoring.llm import LlmScorer
from outboundql.scoring.scorers import RubricScorer

if TYPE_CHECKING:
    from outboundql.scoring.registry import RegisterScorer


@hookimpl
def outboundql_register_scorers(register: RegisterScorer) -> None:
    register(RubricScorer())
    register(LlmScorer(None))  # configured per run from OUTBOUNDQL_LLM_*; unavailable until they are set
