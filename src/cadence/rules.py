"""Validation of a change to a campaign's cadence: the stored `Cadence` and a `CadenceChange` give the new
`Cadence`, or `InvalidInput` with every issue at once on snake-case field paths (``steps[1].delay_minutes``,
``window.start_time``, ``retry.max_attempts``).

What a change means:

* a field left out (`UNSET`) keeps its value, and so does a null one, except ``start_at`` and ``end_at``,
  which a null clears;
* ``steps`` replaces the whole list; each step is given whole (a null ``manual_review`` on a step follows the
  campaign's, a null or blank intent, subject or body is none);
* ``window`` and ``retry`` are partial: the sub-fields given replace, the others keep their value.

Rules: a ``one_time`` campaign has at most one step and a ``follow_up`` one at most `MAX_STEPS` (no step is
allowed while configuring; going live needs one); a delay is 0–`MAX_DELAY_MINUTES`; only an e-mail step has a
subject; times of day are ``"HH:MM"`` (24 h, ``"9:00"`` is read as ``"09:00"``); days are at least one,
stored once each in week order; the time zone is an IANA name; ``retry_on`` outcomes are stored once each;
``scheduled`` needs ``start_at``; ``end_at`` is after ``start_at``; a datetime without an offset is UTC and
every datetime is stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import TypeVar

from outboundql.cadence.settings import Cadence, Retry, Step, Window
from outboundql.cadence.timezones import normalize_time_zone
from outboundql.enums import CampaignType, Channel, Eligibility, ExecutionMode, RetryOutcome, Weekday
from outboundql.errors import Collector
from outboundql.services import fields
from outboundql.services.commands import UNSET, Maybe

T = TypeVar("T")

MAX_STEPS = 10
MAX_DELAY_MINUTES = 43_200  # 30 days
MAX_SUBJECT = 500
MAX_ATTEMPTS = (1, 5)
INTERVAL_MINUTES = (10, 4_320)  # 10 minutes to 3 days

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_subject = fields.text(MAX_SUBJECT, label="Subject")
_intent = fields.long_text(label="Intent")
_body = fields.long_text(label="Body")


@dataclass(frozen=True, slots=True)
class WindowChange:
    """The window's sub-fields to replace (`UNSET` or null: keep). Times are ``"HH:MM"`` strings."""

    start_time: Maybe[str | None] = UNSET
    end_time: Maybe[str | None] = UNSET
    days: Maybe[Sequence[Weekday] | None] = UNSET
    time_zone: Maybe[str | None] = UNSET
    recipient_local_time: Maybe[bool | None] = UNSET


@dataclass(frozen=True, slots=True)
class RetryChange:
    """The retry policy's sub-fields to replace (`UNSET` or null: keep)."""

    max_attempts: Maybe[int | None] = UNSET
    interval_minutes: Maybe[int | None] = UNSET
    retry_on: Maybe[Sequence[RetryOutcome] | None] = UNSET
    until_goal_achieved: Maybe[bool | None] = UNSET


@dataclass(frozen=True, slots=True)
class CadenceChange:
    """What to change in a cadence (`UNSET`: keep; null: keep, except ``start_at``/``end_at``: clear).
    ``steps`` are raw: `updated` cleans them."""

    campaign_type: Maybe[CampaignType | None] = UNSET
    steps: Maybe[Sequence[Step] | None] = UNSET
    window: Maybe[WindowChange | None] = UNSET
    retry: Maybe[RetryChange | None] = UNSET
    execution_mode: Maybe[ExecutionMode | None] = UNSET
    start_at: Maybe[datetime | None] = UNSET
    end_at: Maybe[datetime | None] = UNSET
    manual_review: Maybe[bool | None] = UNSET
    eligibility: Maybe[Eligibility | None] = UNSET


def updated(current: Cadence, change: CadenceChange) -> Cadence:
    """``current`` with ``change`` applied and checked as a whole; `InvalidInput` with every issue."""
    check = Collector()
    steps_in, window_in, retry_in = _given(change.steps), _given(change.window), _given(change.retry)
    steps = current.steps if steps_in is None else clean_steps(steps_in, check)
    window = current.window if window_in is None else _window(current.window, window_in, check)
    retry = current.retry if retry_in is None else _retry(current.retry, retry_in, check)
    start_at = current.start_at if change.start_at is UNSET else utc(change.start_at)
    end_at = current.end_at if change.end_at is UNSET else utc(change.end_at)
    cadence = Cadence(
        campaign_type=_value(change.campaign_type, current.campaign_type),
        steps=steps, window=window, retry=retry,
        execution_mode=_value(change.execution_mode, current.execution_mode),
        start_at=start_at, end_at=end_at,
        manual_review=_value(change.manual_review, current.manual_review),
        eligibility=_value(change.eligibility, current.eligibility),
    )
    _check_whole(cadence, change, check)
    check.raise_if_any()
    return cadence


def clean_steps(steps: Sequence[Step], check: Collector) -> tuple[Step, ...]:
    """Each step cleaned, its issues on ``steps[i].<field>``; more than `MAX_STEPS` is one issue on ``steps``."""
    if len(steps) > MAX_STEPS:
        check.add("steps", f"A cadence has at most {MAX_STEPS} steps (got {len(steps)}).")
        return tuple(steps)
    return tuple(_step(index, step, check) for index, step in enumerate(steps))


def _step(index: int, step: Step, check: Collector) -> Step:
    prefix = f"steps[{index}]."
    if not 0 <= step.delay_minutes <= MAX_DELAY_MINUTES:
        check.add(prefix + "delay_minutes", f"Step {index + 1}: the delay must be between 0 and "
                  f"{MAX_DELAY_MINUTES} minutes (30 days); got {step.delay_minutes}.")
    texts = fields.clean({"intent": step.intent, "subject": step.subject, "body": step.body},
                         {"intent": _intent, "subject": _subject, "body": _body}, check, prefix=prefix)
    subject = texts.get("subject")
    if subject and step.channel is not Channel.EMAIL:
        check.add(prefix + "subject", f"Step {index + 1} goes out by {step.channel.value}: only an e-mail step "
                  "has a subject. Remove it, or make the step an EMAIL step.")
    return replace(step, intent=texts.get("intent") or None, subject=subject or None, body=texts.get("body") or None)


def _window(current: Window, change: WindowChange, check: Collector) -> Window:
    start_time = _time(_given(change.start_time), "window.start_time", current.start_time, check)
    end_time = _time(_given(change.end_time), "window.end_time", current.end_time, check)
    days, days_in = current.days, _given(change.days)
    if days_in is not None:
        days = tuple(day for day in Weekday if day in set(days_in))
        if not days:
            check.add("window.days", "Allow at least one day of the week.")
    time_zone, zone_in = current.time_zone, _given(change.time_zone)
    if zone_in is not None:
        try:
            time_zone = normalize_time_zone(zone_in) or ""
        except ValueError as exc:
            check.add("window.time_zone", str(exc))
        if not time_zone:
            time_zone = current.time_zone
            check.add("window.time_zone", "Give an IANA time zone name such as Europe/Madrid or America/New_York "
                      "(or leave timeZone out to keep the current one).")
    return Window(start_time=start_time, end_time=end_time, days=days, time_zone=time_zone,
                  recipient_local_time=_value(change.recipient_local_time, current.recipient_local_time))


def parse_time(value: str) -> time:
    """``"HH:MM"`` (or ``"H:MM"``), 24 h, as a time; ValueError otherwise."""
    match = _TIME.fullmatch(value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise ValueError(f"{shown!r} is not a time of day: use \"HH:MM\" from 00:00 to 23:59, e.g. \"09:30\".")
    return time(int(match[1]), int(match[2]))


def _time(value: str | None, field: str, current: time, check: Collector) -> time:
    if value is None:
        return current
    try:
        return parse_time(value)
    except ValueError as exc:
        check.add(field, str(exc))
        return current


def _retry(current: Retry, change: RetryChange, check: Collector) -> Retry:
    max_attempts = _value(change.max_attempts, current.max_attempts)
    if not MAX_ATTEMPTS[0] <= max_attempts <= MAX_ATTEMPTS[1]:
        check.add("retry.max_attempts", f"Max attempts must be between {MAX_ATTEMPTS[0]} and {MAX_ATTEMPTS[1]} "
                  f"(got {max_attempts}).")
    interval = _value(change.interval_minutes, current.interval_minutes)
    if not INTERVAL_MINUTES[0] <= interval <= INTERVAL_MINUTES[1]:
        check.add("retry.interval_minutes", f"The retry interval must be between {INTERVAL_MINUTES[0]} and "
                  f"{INTERVAL_MINUTES[1]} minutes (3 days); got {interval}.")
    retry_on, retry_on_in = current.retry_on, _given(change.retry_on)
    if retry_on_in is not None:
        retry_on = tuple(outcome for outcome in RetryOutcome if outcome in set(retry_on_in))
    return Retry(max_attempts=max_attempts, interval_minutes=interval, retry_on=retry_on,
                 until_goal_achieved=_value(change.until_goal_achieved, current.until_goal_achieved))


def _check_whole(cadence: Cadence, change: CadenceChange, check: Collector) -> None:
    """The rules between fields, each reported on the field given (else the one that makes it wrong)."""
    steps_field = "campaign_type" if _given(change.steps) is None else "steps"
    if (cadence.campaign_type is CampaignType.ONE_TIME and len(cadence.steps) > 1
            and len(cadence.steps) <= MAX_STEPS):
        check.add(steps_field, f"A ONE_TIME campaign has one step (got {len(cadence.steps)}); keep one, or make "
                  "it a FOLLOW_UP campaign.")
    if cadence.execution_mode is ExecutionMode.SCHEDULED and cadence.start_at is None:
        check.add("start_at", "A SCHEDULED campaign starts at startAt: give one, or choose MANUAL or ON_ADD.")
    if cadence.start_at is not None and cadence.end_at is not None and cadence.end_at <= cadence.start_at:
        field = "end_at" if change.end_at is not UNSET or change.start_at is UNSET else "start_at"
        check.add(field, f"endAt ({cadence.end_at.isoformat()}) must be after startAt "
                  f"({cadence.start_at.isoformat()}).")


def utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; one without an offset is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _given(value: Maybe[T | None]) -> T | None:
    """A change's field as its value, None when it keeps the current one (left out or null)."""
    return None if value is UNSET else value


def _value(value: Maybe[T | None], current: T) -> T:
    return current if value is UNSET or value is None else value
