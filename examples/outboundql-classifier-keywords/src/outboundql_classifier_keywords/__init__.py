"""A reply classifier that applies a team's own keywords: the first class whose keyword the reply contains."""

from collections.abc import Sequence

from outboundql.classifiers import Classification, Reply, ReplyClass
from outboundql.goals import hookimpl

#: Checked in this order; a keyword matches anywhere in the lower-cased reply.
KEYWORDS: tuple[tuple[ReplyClass, tuple[str, ...]], ...] = (
    (ReplyClass.UNSUBSCRIBE, ("unsubscribe", "remove me", "stop")),
    (ReplyClass.OUT_OF_OFFICE, ("out of office", "on vacation")),
    (ReplyClass.NOT_INTERESTED, ("not interested", "no thanks")),
    (ReplyClass.INTERESTED, ("demo", "call", "pricing")),
)


class Keywords:
    key = "keywords"
    label = "Our keywords"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        return [self._one(reply.text.lower()) for reply in replies]

    def _one(self, text: str) -> Classification:
        for label, keywords in KEYWORDS:
            if any(keyword in text for keyword in keywords):
                return Classification(label, 0.6)
        return Classification(ReplyClass.OTHER, 0.2)


KEYWORDS_CLASSIFIER = Keywords()


@hookimpl
def outboundql_register_classifiers(register):
    register(KEYWORDS_CLASSIFIER)
