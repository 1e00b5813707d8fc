"""Signals: `Message.signals`, `Goal.signalKinds`, `signalSummary` on campaigns and markets, and
`confirmSignals` / `dismissSignals`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.enums import SignalStatus as SignalStatusEnum
from outboundql.gql.base import ProjectNode, lazy_class, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import signals as service

if TYPE_CHECKING:
    from outboundql.gql.messages import Message
    from outboundql.gql.users import User

    SignalStatus = SignalStatusEnum
else:
    SignalStatus = strawberry.enum(
        SignalStatusEnum,
        description="PROPOSED: a language model read it in the conversation and a person has not decided yet; "
        "CONFIRMED: a person wrote or confirmed it (only these count); DISMISSED: a person set it aside.")

MessageRef = Annotated["Message", strawberry.lazy("outboundql.gql.messages")]
UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]


@strawberry.type(description="A kind of signal a goal's conversations are filed under (every goal also has "
                 "`other`).")
class SignalKind:
    key: str = strawberry.field(description="What `SignalInput.kind` takes, e.g. `budget`.")
    label: str
    description: str = strawberry.field(description="What counts as one, for people and for the language model.")


@strawberry.type(description="A short piece of intelligence from a conversation: a budget, a competitor, a move.")
class Signal(ProjectNode):
    id: relay.NodeID[int]
    kind: str = strawberry.field(description="The key of one of the campaign goal's `signalKinds`.")
    text: str
    status: SignalStatus
    source: str = strawberry.field(description="`person`, or the key of the model that proposed it (`llm`).")
    created_at: datetime
    decided_at: datetime | None = strawberry.field(description="When a person confirmed or dismissed it.")
    row: strawberry.Private[models.Signal]
    node_model = models.Signal

    @strawberry.field(description="The message it came from.")
    async def message(self, info: Info) -> MessageRef | None:
        row = await info.context.loaders.message_by_id.load(self.row.message_id)
        return lazy_class(MessageRef).from_model(row) if row else None

    @strawberry.field(description="Who confirmed or dismissed it; null while proposed, and for a person's own.")
    async def decided_by(self, info: Info) -> UserRef | None:
        if self.row.decided_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.decided_by_id)
        return lazy_class(UserRef).from_model(row) if row else None


@strawberry.type(description="How many confirmed signals of one kind.")
class SignalCount:
    kind: str
    count: int


def summary(counts: list[service.KindCount]) -> list[SignalCount]:
    return [SignalCount(kind=c.kind, count=c.count) for c in counts]


@strawberry.input(description="A signal as you give it with a message or a call's result: confirmed as written.")
class SignalInput:
    kind: str = strawberry.field(
        default="other", description="A key of the campaign goal's `signalKinds` (default `other`).")
    text: str = strawberry.field(description="One short note (at most 300 characters), e.g. \"Budget approved for "
                                 "Q3\".")

    def to_value(self) -> service.SignalIn:
        return service.SignalIn(kind=self.kind, text=self.text)


@strawberry.input(description="Signals to confirm or dismiss (at most 500; each of a project you are a member of).")
class DecideSignalsInput:
    signal_ids: list[relay.GlobalID] = strawberry.field(description="Signal ids (`Message.signals { id }`).")

    def to_command(self, confirm: bool) -> service.DecideSignals:
        return service.DecideSignals(
            signal_ids=tuple(pk_of(gid, "Signal", f"signal_ids[{i}]") for i, gid in enumerate(self.signal_ids)),
            confirm=confirm)


@strawberry.type(description="The answer of confirmSignals and dismissSignals: the signals as they are now.")
class DecideSignalsPayload:
    signals: list[Signal] | None = strawberry.field(default=None, description="Null when the request was refused.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SignalMutations:
    @mutation("Confirm signals (the member role): proposed ones become confirmed and count in the summaries and "
              "stats; a dismissed one may be confirmed after all. Audited.")
    async def confirm_signals(self, info: Info, input: DecideSignalsInput) -> DecideSignalsPayload:
        result = await service.decide(info.context.access, input.to_command(confirm=True))
        return DecideSignalsPayload(signals=[Signal.from_model(s) for s in result.signals])

    @mutation("Dismiss signals (the member role): they stay on the message, marked DISMISSED, and count nowhere. "
              "Audited.")
    async def dismiss_signals(self, info: Info, input: DecideSignalsInput) -> DecideSignalsPayload:
        result = await service.decide(info.context.access, input.to_command(confirm=False))
        return DecideSignalsPayload(signals=[Signal.from_model(s) for s in result.signals])
