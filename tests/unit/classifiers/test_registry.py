"""The classifier registry refuses each malformed classifier with an error naming its plugin; `classify_with`
turns a broken classifier into OTHER (confidence 0) for every reply and never raises."""

from __future__ import annotations

import logging
import types
from collections.abc import Sequence
from typing import Any

import pytest

from outboundql.classifiers import Classification, Reply, ReplyClass
from outboundql.classifiers.registry import ClassifierRegistrationError, ClassifierRegistry, classify_with


class Fake:
    def __init__(self, key: Any = "fake", label: Any = "Fake", answers: Any = None, error: Exception | None = None):
        self.key, self.label, self._answers, self._error = key, label, answers, error

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        if self._error is not None:
            raise self._error
        if self._answers is not None:
            return self._answers  # type: ignore[no-any-return]
        return [Classification(ReplyClass.INTERESTED, 0.9) for _ in replies]


class SyncClassify(Fake):
    def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:  # type: ignore[override]
        return []


@pytest.mark.parametrize(("classifier", "message"), [
    (Fake(key="Fake"), "plugin 'acme', classifier 'Fake': the key must be lowercase snake_case"),
    (Fake(key="fake-one"), "the key must be lowercase snake_case"),
    (Fake(key="fake\n"), "the key must be lowercase snake_case"),
    (Fake(key=None), "classifier None: the key must be lowercase snake_case"),
    (Fake(label=""), "label must be a non-empty string"),
    (Fake(label=None), "label must be a non-empty string"),
    (SyncClassify(), "classify must be an async function"),
    (types.SimpleNamespace(key="fake", label="Fake"), "classify must be an async function"),
])
def test_each_malformed_classifier_is_refused_naming_the_plugin(classifier: object, message: str) -> None:
    with pytest.raises(ClassifierRegistrationError, match=message) as error:
        ClassifierRegistry().register(classifier, plugin="acme")
    assert "plugin 'acme'" in str(error.value)


def test_a_taken_key_is_refused_naming_who_took_it() -> None:
    registry = ClassifierRegistry()
    registry.register(Fake(), source="acme-classifiers 1.0", plugin="acme")
    with pytest.raises(ClassifierRegistrationError,
                       match=r"plugin 'other': classifier key 'fake' is already registered by acme-classifiers 1\.0"):
        registry.register(Fake(), plugin="other")
    assert len(registry) == 1 and registry.source("fake") == "acme-classifiers 1.0"


REPLIES = [Reply("yes"), Reply("no")]


async def test_classify_with_passes_good_answers_through() -> None:
    answers = await classify_with(Fake(), REPLIES)
    assert [a.label for a in answers] == [ReplyClass.INTERESTED, ReplyClass.INTERESTED]


@pytest.mark.parametrize(("broken", "logged"), [
    (Fake(error=RuntimeError("model offline")), "failed on 2 replies"),
    (Fake(answers=[Classification(ReplyClass.INTERESTED, 0.9)]), "answered 1 results for 2 replies"),
    (Fake(answers=[Classification(ReplyClass.INTERESTED, 0.9)] * 3), "answered 3 results for 2 replies"),
    (Fake(answers=["interested", "other"]), "not a Classification"),
    (Fake(answers=[Classification("interested", 0.9)] * 2), "not a Classification"),  # type: ignore[arg-type]
    (Fake(answers=[Classification(ReplyClass.OTHER, 1.5)] * 2), "not a Classification"),
    (Fake(answers=[Classification(ReplyClass.OTHER, float("nan"))] * 2), "not a Classification"),
])
async def test_classify_with_answers_other_for_a_broken_classifier(
        broken: Fake, logged: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="outboundql.classifiers"):
        answers = await classify_with(broken, REPLIES)
    assert answers == [Classification(ReplyClass.OTHER, 0.0), Classification(ReplyClass.OTHER, 0.0)]
    assert logged in caplog.text and "'fake'" in caplog.text


async def test_classify_with_no_replies_does_not_call_the_classifier() -> None:
    assert await classify_with(Fake(error=AssertionError("called")), []) == []
