"""The built-in rule-based reply classifier (key ``rules``)."""

from __future__ import annotations

from collections.abc import Sequence

from outboundql.classifiers import Classification, Reply, ReplyClass


class RulesClassifier:
    key = "rules"
    label = "Rules (phrase lists)"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        return [Classification(ReplyClass.OTHER, 0.0) for _ in replies]


RULES = RulesClassifier()
