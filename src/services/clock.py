"""The one clock time-based behaviour reads (the scheduler, due times, windows): injected through the runtime,
so tests move time instead of sleeping. SQL never reads the database's own ``now()``; the time is passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that stands still until moved: ``advance(minutes=90)`` or ``set(instant)``."""

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        self.at += delta if delta is not None else timedelta(**units)
        return self.at

    def set(self, at: datetime) -> datetime:
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)
        return self.at
