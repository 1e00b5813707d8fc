"""The scorer registry refuses each malformed scorer with an error naming its plugin; the built-ins come through the
public hook; `checked_outcome` makes a plugin's answer safe to store; the testing kit says what to fix."""

from __future__ import annotations

import logging
import types
from collections.abc import Sequence
from typing import Any

import pytest

from outboundql.goals import hookimpl
from outboundql.goals.api import GoalRegistrationError
from outboundql.scoring import Justification
from outboundql.scoring.llm import LlmScorer
from outboundql.scoring.registry import (
    ScorerRegistrationError,
    ScorerRegistry,
    checked_outcome,
    get_scorer,
    registry_with,
)
from outboundql.scoring.scorers import (
    BatchOutcome,
    RubricScorer,
    Scored,
    ScoreFailed,
    ScorerUnavailable,
    ScoringContext,
    ScoringItem,
    UnknownScorer,
)
from outboundql.scoring.testing import check_scorer, sample_items
from outboundql.settings import Settings


class Fake:
    def __init__(self, key: Any = "fake", label: Any = "Fake", description: Any = "Fakes it.", batch_size: Any = 10,
                 answer: Any = None) -> None:
        self.key, self.label, self.description, self.batch_size, self._answer = (
            key, label, description, batch_size, answer)

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> Any:
        if self._answer is not None:
            return self._answer
        return BatchOutcome(scored=[Scored(i.account_id, 6.0, "moderate", ()) for i in items])


class SyncScore(Fake):
    def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> Any:  # type: ignore[override]
        return BatchOutcome()


@pytest.mark.parametrize(("scorer", "message"), [
    (Fake(key="Fake"), "plugin 'acme', scorer 'Fake': the key must be lowercase snake_case"),
    (Fake(key="fake-one"), "the key must be lowercase snake_case"),
    (Fake(key="fake\n"), "the key must be lowercase snake_case"),
    (Fake(key="f" * 33), "at most 32"),
    (Fake(key=None), "scorer None: the key must be lowercase snake_case"),
    (Fake(key="external"), "'external' is reserved"),
    (Fake(label=""), "label must be a non-empty string"),
    (Fake(description=None), "description must be a non-empty string"),
    (Fake(batch_size=0), "batch_size must be an int between 1 and 5000"),
    (Fake(batch_size=True), "batch_size must be an int"),
    (Fake(batch_size="10"), "batch_size must be an int"),
    (SyncScore(), "score must be an async function"),
    (types.SimpleNamespace(key="fake", label="Fake", description="d", batch_size=1), "score must be an async"),
])
def test_each_malformed_scorer_is_refused_naming_the_plugin(scorer: object, message: str) -> None:
    with pytest.raises(ScorerRegistrationError, match=message) as error:
        ScorerRegistry().register(scorer, plugin="acme")
    assert "plugin 'acme'" in str(error.value)
    assert isinstance(error.value, GoalRegistrationError)  # what stops startup on a bad plugin


def test_a_taken_key_is_refused_naming_who_took_it() -> None:
    class Twice:
        @hookimpl
        def outboundql_register_scorers(self, register: Any) -> None:
            register(Fake(key="rubric"))

    with pytest.raises(ScorerRegistrationError, match=r"scorer key 'rubric' is already registered by built-in"):
        registry_with(Twice())


def test_a_hook_that_returns_something_is_refused() -> None:
    class Returns:
        @hookimpl
        def outboundql_register_scorers(self) -> list[Fake]:
            return [Fake()]

    with pytest.raises(ScorerRegistrationError, match="must call register\\(scorer\\) and return None, not list"):
        registry_with(Returns())


def test_the_builtins_come_through_the_hook_and_llm_needs_its_settings() -> None:
    registry = registry_with()
    assert [(e.key, e.source) for e in registry.all()] == [("llm", "built-in"), ("rubric", "built-in")]
    bare = Settings(database_url="sqlite://:memory:", scoring_batch_size=7)
    rubric = get_scorer("rubric", bare, registry)
    assert isinstance(rubric, RubricScorer) and rubric.batch_size == 7
    with pytest.raises(ScorerUnavailable, match="OUTBOUNDQL_LLM_URL and OUTBOUNDQL_LLM_MODEL"):
        get_scorer("llm", bare, registry)
    configured = Settings(database_url="sqlite://:memory:", llm_url="http://127.0.0.1:9/v1", llm_model="m",
                          llm_batch_size=4)
    llm = get_scorer("llm", configured, registry)
    assert isinstance(llm, LlmScorer) and llm.batch_size == 4 and llm.config is not None
    assert registry.all()[0].unavailable_reason(configured) is None
    with pytest.raises(UnknownScorer, match=r"Unknown scorer 'nope'; installed scorers: llm, rubric\."):
        get_scorer("nope", bare, registry)


def test_the_default_falls_back_to_rubric_when_not_installed(caplog: pytest.LogCaptureFixture) -> None:
    registry = registry_with()
    assert registry.default_key(Settings(database_url="sqlite://:memory:", scorer="llm")) == "llm"
    with caplog.at_level(logging.WARNING, logger="outboundql.scoring"):
        assert registry.default_key(Settings(database_url="sqlite://:memory:", scorer="gone")) == "rubric"
    assert "OUTBOUNDQL_SCORER=gone names no installed scorer (installed: llm, rubric)" in caplog.text


def test_checked_outcome_keeps_good_answers_and_fails_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    items = sample_items()  # accounts 1, 2, 3
    reason = Justification("fit", "size", "ok")
    answer = BatchOutcome(scored=[Scored(1, 7.04, "excellent", (reason,)), Scored(1, 3.0, "mismatch", ()),
                                  Scored(2, float("nan"), "x", ()), Scored(42, 5.0, "moderate", ())],
                          failed=[])
    with caplog.at_level(logging.ERROR, logger="outboundql.scoring"):
        checked = checked_outcome(Fake(), items, answer)
    assert checked.scored == [Scored(1, 7.0, "moderate", (reason,))]  # rounded, banded by the host
    assert [(f.account_id, f.error) for f in checked.failed] == [
        (2, "The scorer 'fake' answered no score from 0 to 10 with Justification reasons."),
        (3, "The scorer 'fake' gave no answer for this account.")]
    assert "not in its batch or twice" in caplog.text
    assert [f.account_id for f in checked_outcome(Fake(), items, None).failed] == [1, 2, 3]
    own = checked_outcome(Fake(), items[:1], BatchOutcome(failed=[ScoreFailed(1, "no data")]))
    assert own.failed == [ScoreFailed(1, "no data")]


async def test_the_kit_accepts_a_good_scorer_and_says_what_to_fix_in_a_bad_one() -> None:
    outcome = await check_scorer(Fake())
    assert [s.score for s in outcome.scored] == [6.0, 6.0, 6.0]
    rubric = await check_scorer(RubricScorer())
    assert {s.account_id: s.band for s in rubric.scored}[1] == "excellent"
    with pytest.raises(AssertionError, match=r"not an outboundql\.scoring\.scorers\.BatchOutcome"):
        await check_scorer(Fake(answer=[1, 2, 3]))
    with pytest.raises(AssertionError, match=r"answered accounts \[1\] for items \[1, 2, 3\]"):
        await check_scorer(Fake(answer=BatchOutcome(scored=[Scored(1, 5.0, "moderate", ())])))
    with pytest.raises(AssertionError, match=r"accounts \[1\] are not Scored with a number from 0 to 10"):
        await check_scorer(Fake(answer=BatchOutcome(scored=[Scored(1, 12.0, "x", ())],
                                                    failed=[ScoreFailed(2, "a"), ScoreFailed(3, "b")])))
    with pytest.raises(ScorerRegistrationError, match="label must be a non-empty string"):
        await check_scorer(Fake(label=" "))
