"""What replies say: `Message.classification`, `correctReplyClassification`, the `classifiers` query, and the
counts by class of a campaign's threads."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import classifiers, models
from outboundql.gql.base import lazy_class, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import reply_classes as service

if TYPE_CHECKING:
    from outboundql.gql.messages import Message

    ReplyClass = classifiers.ReplyClass
else:
    ReplyClass = strawberry.enum(
        classifiers.ReplyClass,
        description="What a reply says: INTERESTED (wants to talk, asks for more), NOT_INTERESTED (declines), "
        "OUT_OF_OFFICE (an automatic absence reply), REFERRAL (points to someone else), UNSUBSCRIBE (asks never "
        "to be contacted again), BOUNCE (a delivery failure notice), OTHER (anything else, or not told).")

MessageRef = Annotated["Message", strawberry.lazy("outboundql.gql.messages")]


@strawberry.type(description="The person a referral names, each part as written in the reply.")
class ReferredPerson:
    name: str | None
    email: str | None
    phone: str | None


@strawberry.type(description="The class of a received message, as its campaign's classifier read it or a person "
                 "corrected it.")
class ReplyClassification:
    label: ReplyClass
    confidence: float = strawberry.field(description="0 to 1; 1 for a person's correction, 0 when the classifier "
                                         "could not tell (label OTHER).")
    classifier: str = strawberry.field(description="The key of the classifier that classified it (see "
                                       "`classifiers`).")
    corrected: bool = strawberry.field(description="A person set the label (correctReplyClassification).")
    classified_at: datetime
    returns_on: date | None = strawberry.field(description="OUT_OF_OFFICE: the day the reply says they are back, "
                                               "when it says so.")
    referral: ReferredPerson | None = strawberry.field(description="REFERRAL: the person the reply points to, when "
                                                       "it names one.")

    @classmethod
    def of(cls, row: models.Message) -> ReplyClassification | None:
        if row.reply_class is None:
            return None
        referral = row.referral or None
        return cls(label=row.reply_class, confidence=float(row.reply_class_confidence or 0.0),
                   classifier=row.classifier or "", corrected=row.reply_class_corrected,
                   classified_at=row.classified_at or row.created_at, returns_on=row.returns_on,
                   referral=None if referral is None else ReferredPerson(
                       name=referral.get("name"), email=referral.get("email"), phone=referral.get("phone")))


@strawberry.type(description="A reply classifier a campaign may use (`updateCampaign(input: {replyClassifier})`).")
class Classifier:
    key: str
    label: str
    is_default: bool = strawberry.field(description="What a campaign that names none classifies with: the language "
                                        "model when one is configured, else the built-in rules.")


@strawberry.type(description="How many of a campaign's threads are of one class (that of their latest "
                 "classified reply).")
class ReplyClassCount:
    label: ReplyClass
    count: int


@strawberry.input(description="The class a person reads in a received message.")
class CorrectReplyClassificationInput:
    message_id: relay.GlobalID
    label: ReplyClass

    def to_command(self) -> service.CorrectReplyClass:
        return service.CorrectReplyClass(message_id=pk_of(self.message_id, "Message", "message_id"),
                                         label=classifiers.ReplyClass(self.label))


@strawberry.type(description="The answer of correctReplyClassification.")
class CorrectReplyClassificationPayload:
    message: MessageRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReplyClassQueries:
    @strawberry.field(description="The reply classifiers installed, by key.")
    def classifiers(self, info: Info) -> list[Classifier]:
        default = service.default_key()
        return [Classifier(key=c.key, label=c.label, is_default=c.key == default) for c in service.available()]


@strawberry.type
class ReplyClassMutations:
    @mutation("Set the class of a received message as you read it (the member role): kept as a correction "
              "(confidence 1) that no classifier overwrites, audited with the class before it; the thread's class "
              "follows when it is its latest reply.")
    async def correct_reply_classification(self, info: Info, input: CorrectReplyClassificationInput
                                           ) -> CorrectReplyClassificationPayload:
        result = await service.correct_reply_class(info.context.access, input.to_command())
        return CorrectReplyClassificationPayload(message=lazy_class(MessageRef).from_model(result.message))
