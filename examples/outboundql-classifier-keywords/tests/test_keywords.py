"""The keywords classifier keeps outboundql's classifier contract and classifies its own keywords."""

import outboundql_classifier_keywords as plugin

from outboundql.classifiers import Reply, ReplyClass
from outboundql.classifiers.testing import check_classifier, registry_with


async def test_it_keeps_the_contract() -> None:
    answers = await check_classifier(plugin.KEYWORDS_CLASSIFIER)
    assert answers[0].label is ReplyClass.INTERESTED  # "set up a call"


def test_it_registers_beside_the_builtin() -> None:
    registry = registry_with(plugin)
    assert "keywords" in registry and "rules" in registry


async def test_the_first_matching_class_wins() -> None:
    answers = await check_classifier(plugin.KEYWORDS_CLASSIFIER, [
        Reply("Please stop, and no thanks to the demo."),
        Reply("Is there a demo?"),
        Reply("Hello"),
    ])
    assert [a.label for a in answers] == [ReplyClass.UNSUBSCRIBE, ReplyClass.INTERESTED, ReplyClass.OTHER]
