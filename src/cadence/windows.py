"""When a campaign may reach out: the earliest instant at or after a given one that falls inside its window
(allowed hours on allowed days, read in a time zone). Wall times come from zoneinfo, so days on which the clocks
change have their real length: a boundary inside a spring-forward gap moves to the instant the clocks jump, and
one inside a fall-back overlap is its first occurrence."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from outboundql.cadence.settings import Window
from outboundql.enums import Weekday

_DAY = timedelta(days=1)
_FIRST_CANDIDATE = -1
"""A window that crosses midnight (or a whole-day one) may have opened on the local day before."""
_LAST_CANDIDATE = 14
"""A week and a day suffice whenever a window has an allowed day; the extra week only serves a window emptied by a
spring-forward gap (both boundaries inside it) on its single allowed day."""


def next_allowed(at: datetime, window: Window, zone: ZoneInfo) -> datetime:
    """The earliest instant ``>= at`` inside ``window`` read in ``zone``, in UTC.

    ``at`` must be timezone-aware. The window opens at ``start_time`` on each allowed day and closes at
    ``end_time`` the same day, or the next day when ``end_time < start_time``, or at ``start_time`` the next day
    when they are equal (the whole day). Raises ValueError when the window has no allowed day."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("next_allowed needs a timezone-aware datetime.")
    allowed = _weekdays(window.days)
    if not allowed:
        raise ValueError("The window has no allowed day.")
    at = at.astimezone(UTC)
    start = window.start_time.replace(tzinfo=None)
    end = window.end_time.replace(tzinfo=None)
    closes_next_day = end <= start
    today = at.astimezone(zone).date()
    for offset in range(_FIRST_CANDIDATE, _LAST_CANDIDATE + 1):
        day = today + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        closes = _instant(day + _DAY if closes_next_day else day, end, zone)
        if at >= closes:
            continue
        opens = _instant(day, start, zone)
        if opens < closes:
            return max(opens, at)
    raise ValueError("The window is never open.")  # pragma: no cover - only a window emptied on every allowed day


def is_open(at: datetime, window: Window, zone: ZoneInfo) -> bool:
    """Whether ``at`` (timezone-aware) falls inside ``window`` read in ``zone``."""
    return next_allowed(at, window, zone) == at


@lru_cache(maxsize=256)
def _weekdays(days: tuple[Weekday, ...]) -> frozenset[int]:
    return frozenset(day.number for day in days)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the wall time ``at`` on ``day`` in ``zone``: its first occurrence when the clocks go back,
    the moment they jump when it falls in a spring-forward gap."""
    wall = datetime.combine(day, at)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the offset before a change
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # In a gap, fold=0 reads the wall time with the offset before the jump (an instant after it) and fold=1 with
    # the offset after (an instant before it): the jump lies between them, at the first second whose wall time
    # reaches ``wall``. Transitions fall on whole seconds.
    before = math.floor(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    after = math.ceil(instant.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)
