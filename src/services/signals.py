"""Signals: typed intelligence from conversations, and the people who confirm what a model proposed.

A signal is a short text of a kind the campaign's goal declares (`outboundql.goals.SignalKind`; every goal also
has ``other``). A person who logs a message, records an attempt's result or reports it through a webhook channel
gives signals as they are: they are ``confirmed`` at once. A language model reading a reply or a call's notes
(`outboundql.services.signal_proposals`) proposes them: ``proposed`` until a person confirms or dismisses them
(`decide`), which is audited. Only confirmed signals count: in the campaign's and market's summary by kind
(`confirmed_counts`) and in the stats' "signals captured".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role, SignalStatus
from outboundql.errors import Collector, InvalidInput, NotFound
from outboundql.goals.api import DEFAULT_SIGNAL_KINDS, OTHER_SIGNAL_KIND, SignalKind
from outboundql.services import audit, events, fields, runtime
from outboundql.services.access import Access

#: Signals one message may carry.
MAX_PER_MESSAGE = 20
#: The longest signal text, in characters: a signal is a note, the conversation holds the rest.
MAX_TEXT = 300
#: Signals one confirm or dismiss may decide.
MAX_DECIDED = 500


@dataclass(frozen=True, slots=True)
class SignalIn:
    """A signal as a person or a model gives it: the kind's key and a short text."""

    kind: str
    text: str


def kinds_of(goal_key: str) -> tuple[SignalKind, ...]:
    """The signal kinds of the goal ``goal_key`` (``other`` last); a goal no longer installed has the defaults."""
    goal = runtime.goals().get(goal_key)
    return goal.signal_kinds if goal is not None else (*DEFAULT_SIGNAL_KINDS, OTHER_SIGNAL_KIND)


def clean(items: Iterable[SignalIn], kinds: Sequence[SignalKind], check: Collector, *,
          field: str = "signals") -> list[SignalIn]:
    """``items`` trimmed and de-duplicated, each checked against ``kinds``; what is wrong goes to ``check`` on the
    item's ``kind`` or ``text`` (``signals[2].kind``)."""
    keys = {k.key for k in kinds}
    cleaned: dict[tuple[str, str], SignalIn] = {}
    for index, item in enumerate(items):
        at = f"{field}[{index}]"
        try:
            kind = fields.storable(item.kind or "", "A signal's kind").strip().lower()
        except ValueError as exc:
            check.add(f"{at}.kind", str(exc))
            continue
        try:
            text = fields.storable(item.text or "", "A signal's text").strip()
        except ValueError as exc:
            check.add(f"{at}.text", str(exc))
            continue
        if kind not in keys:
            check.add(f"{at}.kind", f"Unknown signal kind {kind!r}: this campaign's goal has "
                                    f"{', '.join(k.key for k in kinds)}.")
        elif not text:
            check.add(f"{at}.text", "A signal needs its text (a short note of what was said).")
        elif len(text) > MAX_TEXT:
            check.add(f"{at}.text", f"A signal's text must be at most {MAX_TEXT} characters; keep the rest in the "
                                    "message.")
        else:
            cleaned.setdefault((kind, text), SignalIn(kind, text))
    if len(cleaned) > MAX_PER_MESSAGE:
        check.add(field, f"A message may carry at most {MAX_PER_MESSAGE} signals.")
    return list(cleaned.values())


async def add(message: models.Message, campaign_id: int, items: Sequence[SignalIn], *, status: SignalStatus,
              source: str, created_by: models.User | None) -> list[models.Signal]:
    """Store ``items`` as signals of ``message`` (inside the caller's transaction)."""
    rows = [models.Signal(project_id=message.project_id, message_id=message.id,
                          campaign_account_id=message.campaign_account_id, campaign_id=campaign_id, kind=item.kind,
                          text=item.text, status=status, source=source, created_by=created_by)
            for item in items]
    if rows:
        await models.Signal.bulk_create(rows)
    return rows


async def written_with(message_id: int) -> list[SignalIn]:
    """The signals a person gave with message ``message_id`` when it was logged (a retry must repeat them)."""
    rows = await models.Signal.filter(message_id=message_id, source="person").order_by("id").values_list(
        "kind", "text")
    return [SignalIn(str(kind), str(text)) for kind, text in rows]


async def by_message(message_ids: Sequence[int]) -> dict[int, list[models.Signal]]:
    """The signals of each message, oldest first, dismissed ones included (a UI shows them struck through)."""
    found: dict[int, list[models.Signal]] = defaultdict(list)
    if message_ids:
        for signal in await models.Signal.filter(message_id__in=list(message_ids)).order_by("message_id", "id"):
            found[signal.message_id].append(signal)
    return found


@dataclass(frozen=True, slots=True)
class KindCount:
    kind: str
    count: int


async def confirmed_counts(*, campaign_ids: Sequence[int] = (), market_ids: Sequence[int] = ()
                           ) -> dict[int, list[KindCount]]:
    """Confirmed signals by kind, most first, per campaign (``campaign_ids``) or per market (``market_ids``: the
    signals of the market's campaigns) in one grouped query."""
    if campaign_ids:
        rows = await models.Signal.filter(
            campaign_id__in=list(campaign_ids), status=SignalStatus.CONFIRMED,
        ).group_by("campaign_id", "kind").annotate(n=Count("id")).values_list("campaign_id", "kind", "n")
    elif market_ids:
        rows = await models.Signal.filter(
            campaign__market_id__in=list(market_ids), status=SignalStatus.CONFIRMED,
        ).group_by("campaign__market_id", "kind").annotate(n=Count("id")).values_list(
            "campaign__market_id", "kind", "n")
    else:
        return {}
    found: dict[int, list[KindCount]] = defaultdict(list)
    for owner, kind, n in rows:
        found[int(owner)].append(KindCount(str(kind), int(n)))
    for counts in found.values():
        counts.sort(key=lambda c: (-c.count, c.kind))
    return found


# --- decisions --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecideSignals:
    """Confirm (``confirm``) or dismiss signals; a decided signal may be decided again (a person changes their
    mind), a signal already so decided is left as it is."""

    signal_ids: tuple[int, ...]
    confirm: bool


@dataclass(frozen=True, slots=True)
class SignalsDecided:
    signals: list[models.Signal]


async def decide(access: Access, cmd: DecideSignals) -> SignalsDecided:
    status = SignalStatus.CONFIRMED if cmd.confirm else SignalStatus.DISMISSED
    ids = list(dict.fromkeys(cmd.signal_ids))
    if not ids:
        raise InvalidInput("Give at least one signal id.", field="signal_ids")
    if len(ids) > MAX_DECIDED:
        raise InvalidInput(f"At most {MAX_DECIDED} signals at once.", field="signal_ids")
    found = {s.id: s for s in await access.scope(models.Signal.filter(id__in=ids))}
    for index, pk in enumerate(cmd.signal_ids):
        if pk not in found:  # another project's ids read as missing ones
            raise NotFound("Signal", field=f"signal_ids[{index}]")
        access.require(found[pk].project_id, Role.MEMBER, what="Signal", field=f"signal_ids[{index}]")
    changed = [found[i] for i in ids if found[i].status is not status]
    now = runtime.now()
    async with in_transaction():
        for signal in changed:
            before = signal.status.value
            signal.status, signal.decided_by, signal.decided_at = status, access.user, now
            await signal.save(update_fields=["status", "decided_by_id", "decided_at", "updated_at"])
            await audit.record(project_id=signal.project_id, actor=access.user,
                               action="signal.confirm" if cmd.confirm else "signal.dismiss",
                               row=signal, before={"status": before}, after={"status": status.value})
    for campaign_id in sorted({s.campaign_id for s in changed}):
        await events.publish_campaign_event(campaign_id, "accounts_changed")
    return SignalsDecided([found[i] for i in ids])
