"""A test kit for reply-classifier authors (like `outboundql.channels.testing` for channels).

Example:
    from outboundql.classifiers import Reply, ReplyClass
    from outboundql.classifiers.testing import check_classifier, registry_with, sample_replies

    async def test_classifier_satisfies_the_contract():
        answers = await check_classifier(Keywords(), sample_replies())
        assert answers[0].label is ReplyClass.INTERESTED

    def test_coexists_with_builtins():
        assert "keywords" in registry_with(my_plugin_module)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from outboundql.classifiers import Classification, Referral, Reply, ReplyClass, ReplyClassifier
from outboundql.classifiers.registry import ClassifierRegistry, validate_classifier
from outboundql.classifiers.registry import registry_with as _registry_with

__all__ = ["check_classifier", "registry_with", "sample_replies"]


def registry_with(*plugins: object) -> ClassifierRegistry:
    """The built-in classifiers plus ``plugins`` (modules or objects with hook implementations), none installed."""
    return _registry_with(*plugins)


def sample_replies() -> list[Reply]:
    """One reply of each class, in the order of `ReplyClass` (interested, not interested, out of office,
    referral, unsubscribe, bounce, other), e-mails received on 1 March 2027."""
    received = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    texts = (
        "Sounds interesting, can we set up a call next week?",
        "Not interested, thanks.",
        "I am out of the office until 12 March with limited access to email.",
        "Not me: please contact Maria Lopez (maria@acme.example).",
        "Please remove me from your mailing list.",
        "Delivery Status Notification (Failure): address not found.",
        "Who gave you my address?",
    )
    return [Reply(text=text, language="en", channel="email", received_at=received) for text in texts]


async def check_classifier(classifier: object, replies: Sequence[Reply] | None = None) -> list[Classification]:
    """Run the host's registration checks on ``classifier``, classify ``replies`` (default `sample_replies`) and
    check the answers: one `Classification` per reply, a `ReplyClass` label, a confidence between 0 and 1,
    ``returns_on`` only on OUT_OF_OFFICE and ``referral`` (a `Referral`) only on REFERRAL. Returns the answers;
    raises `ClassifierRegistrationError` or `AssertionError` saying what to fix."""
    checked: ReplyClassifier = validate_classifier(classifier, plugin="test")
    replies = list(sample_replies() if replies is None else replies)
    answers = list(await checked.classify(replies))
    if len(answers) != len(replies):
        raise AssertionError(f"classify answered {len(answers)} results for {len(replies)} replies; answer one "
                             "Classification per reply, in the same order")
    for index, answer in enumerate(answers):
        where = f"answer {index} ({replies[index].text[:40]!r})"
        if not isinstance(answer, Classification):
            raise AssertionError(f"{where} is a {type(answer).__name__}, not an outboundql.classifiers.Classification")
        if not isinstance(answer.label, ReplyClass):
            raise AssertionError(f"{where}: label {answer.label!r} is not a ReplyClass")
        confidence = answer.confidence
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not math.isfinite(confidence) or not 0 <= confidence <= 1:
            raise AssertionError(f"{where}: confidence {confidence!r} must be a number between 0 and 1")
        if answer.returns_on is not None and answer.label is not ReplyClass.OUT_OF_OFFICE:
            raise AssertionError(f"{where}: returns_on is only for OUT_OF_OFFICE, not {answer.label.value}")
        if answer.referral is not None and (answer.label is not ReplyClass.REFERRAL
                                            or not isinstance(answer.referral, Referral)):
            raise AssertionError(f"{where}: referral must be a Referral, and only on REFERRAL")
    return answers
