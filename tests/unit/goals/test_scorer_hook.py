"""The ``outboundql_register_scorers`` hook: built-ins through the public hook, extra plugins beside them, and a
malformed registration refused with an error naming its plugin. (Each validation rule is tested in
tests/unit/scoring/test_scorer_registry.py.)"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

import pytest

from outboundql.goals import GoalRegistrationError, hookimpl
from outboundql.scoring.llm import LlmScorer
from outboundql.scoring.registry import ScorerRegistrationError, registry_with
from outboundql.scoring.scorers import BatchOutcome, RubricScorer, ScoringContext, ScoringItem


class Constant:
    key = "constant"
    label = "Constant"
    description = "Five for everyone."
    batch_size = 50

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        return BatchOutcome()


def test_hook_outboundql_register_scorers() -> None:
    @hookimpl
    def outboundql_register_scorers(register: Any) -> None:
        register(Constant())

    registry = registry_with(types.SimpleNamespace(__name__="constant_plugin",
                                                   outboundql_register_scorers=outboundql_register_scorers))
    assert [s.key for s in registry.all()] == ["constant", "llm", "rubric"]
    assert isinstance(registry.get("rubric"), RubricScorer) and isinstance(registry.get("llm"), LlmScorer)
    assert registry.source("rubric") == registry.source("llm") == "built-in"
    assert isinstance(registry.get("constant"), Constant)


def test_returning_something_is_refused() -> None:
    @hookimpl
    def outboundql_register_scorers(register: Any) -> list[object]:
        return [Constant()]

    with pytest.raises(ScorerRegistrationError, match="must call register\\(scorer\\) and return None"):
        registry_with(types.SimpleNamespace(outboundql_register_scorers=outboundql_register_scorers))


def test_a_scorer_error_is_a_goal_registration_error() -> None:
    assert issubclass(ScorerRegistrationError, GoalRegistrationError)
