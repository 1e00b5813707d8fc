"""The classifier authors' kit: `check_classifier` accepts the built-in and refuses each broken contract."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest

from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.classifiers.registry import ClassifierRegistrationError
from outboundql.classifiers.rules import RULES
from outboundql.classifiers.testing import check_classifier, registry_with, sample_replies


class Answers:
    key = "answers"
    label = "Answers"

    def __init__(self, answer: Any, count: int | None = None) -> None:
        self.answer, self.count = answer, count

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        return [self.answer] * (len(replies) if self.count is None else self.count)


async def test_the_builtin_passes_and_gets_the_samples_right() -> None:
    answers = await check_classifier(RULES)
    assert [a.label for a in answers] == list(ReplyClass)
    assert answers[2].returns_on == date(2027, 3, 13)  # "until 12 March": back the day after
    assert answers[3].referral == Referral(name="Maria Lopez", email="maria@acme.example")
    assert len(sample_replies()) == len(ReplyClass)


@pytest.mark.parametrize(("classifier", "message"), [
    (Answers(Classification(ReplyClass.OTHER, 0.5), count=1), "answered 1 results for 7 replies"),
    (Answers("other"), "is a str, not an outboundql.classifiers.Classification"),
    (Answers(Classification("other", 0.5)), "label 'other' is not a ReplyClass"),  # type: ignore[arg-type]
    (Answers(Classification(ReplyClass.OTHER, 2)), "confidence 2 must be a number between 0 and 1"),
    (Answers(Classification(ReplyClass.OTHER, 0.5, returns_on=date(2027, 1, 1))), "returns_on is only for"),
    (Answers(Classification(ReplyClass.OTHER, 0.5, referral=Referral("A"))), "referral must be a Referral, and only"),
])
async def test_a_broken_answer_is_refused_saying_what_to_fix(classifier: Answers, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        await check_classifier(classifier)


async def test_registration_checks_run_first() -> None:
    broken = Answers(Classification(ReplyClass.OTHER, 0.5))
    broken.key = "Answers"
    with pytest.raises(ClassifierRegistrationError, match="lowercase snake_case"):
        await check_classifier(broken)


def test_registry_with_has_the_builtin() -> None:
    assert "rules" in registry_with()
