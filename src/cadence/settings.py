"""A campaign's cadence settings as values: what `Campaign.cadence` stores (``stored()``), read back with
``from_stored()``; an empty dict is the defaults. Validation of a change lives in `outboundql.cadence.rules`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from outboundql.enums import CampaignType, Channel, Eligibility, ExecutionMode, RetryOutcome, Weekday

WORKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a cadence: its channel, how long after the previous step (or the start) it goes out, and
    optional templates of what it says (else the drafter writes it)."""

    channel: Channel
    delay_minutes: int = 0
    intent: str | None = None
    subject: str | None = None
    body: str | None = None
    manual_review: bool | None = None
    """None: the campaign's ``manual_review``."""


@dataclass(frozen=True, slots=True)
class Window:
    """Allowed hours and days. ``end < start`` crosses midnight (the day named is the day the window opens);
    ``end == start`` is the whole day."""

    start_time: time = time(9, 0)
    end_time: time = time(17, 0)
    days: tuple[Weekday, ...] = WORKDAYS
    time_zone: str = "UTC"
    recipient_local_time: bool = False
    """Apply the window in the contact's, else the account's, time zone, else one of the account's country."""


@dataclass(frozen=True, slots=True)
class Retry:
    max_attempts: int = 3
    interval_minutes: int = 60
    retry_on: tuple[RetryOutcome, ...] = (RetryOutcome.NO_ANSWER, RetryOutcome.BUSY)
    until_goal_achieved: bool = False
    """Retry a connected call whose goal was not achieved (within ``max_attempts``)."""


@dataclass(frozen=True, slots=True)
class Cadence:
    campaign_type: CampaignType = CampaignType.ONE_TIME
    steps: tuple[Step, ...] = ()
    window: Window = field(default_factory=Window)
    retry: Retry = field(default_factory=Retry)
    execution_mode: ExecutionMode = ExecutionMode.MANUAL
    start_at: datetime | None = None
    end_at: datetime | None = None
    manual_review: bool = False
    eligibility: Eligibility = Eligibility.APPROVED_ONLY

    def reviews(self, step: Step) -> bool:
        """Whether attempts of ``step`` wait for a person's approval."""
        return self.manual_review if step.manual_review is None else step.manual_review

    def step(self, number: int) -> Step | None:
        """Step ``number`` (1-based), or None past the last."""
        return self.steps[number - 1] if 1 <= number <= len(self.steps) else None

    def stored(self) -> dict[str, Any]:
        return {
            "campaign_type": self.campaign_type.value,
            "steps": [{"channel": s.channel.value, "delay_minutes": s.delay_minutes, "intent": s.intent,
                       "subject": s.subject, "body": s.body, "manual_review": s.manual_review} for s in self.steps],
            "window": {"start_time": self.window.start_time.strftime("%H:%M"),
                       "end_time": self.window.end_time.strftime("%H:%M"),
                       "days": [d.value for d in self.window.days], "time_zone": self.window.time_zone,
                       "recipient_local_time": self.window.recipient_local_time},
            "retry": {"max_attempts": self.retry.max_attempts, "interval_minutes": self.retry.interval_minutes,
                      "retry_on": [o.value for o in self.retry.retry_on],
                      "until_goal_achieved": self.retry.until_goal_achieved},
            "execution_mode": self.execution_mode.value,
            "start_at": self.start_at.isoformat() if self.start_at else None,
            "end_at": self.end_at.isoformat() if self.end_at else None,
            "manual_review": self.manual_review,
            "eligibility": self.eligibility.value,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> Cadence:
        data = data or {}
        default = cls()
        window = data.get("window") or {}
        retry = data.get("retry") or {}
        return cls(
            campaign_type=CampaignType(data.get("campaign_type", default.campaign_type)),
            steps=tuple(Step(channel=Channel(s["channel"]), delay_minutes=int(s.get("delay_minutes") or 0),
                             intent=s.get("intent"), subject=s.get("subject"), body=s.get("body"),
                             manual_review=s.get("manual_review")) for s in data.get("steps") or ()),
            window=Window(
                start_time=time.fromisoformat(window.get("start_time", "09:00")),
                end_time=time.fromisoformat(window.get("end_time", "17:00")),
                days=tuple(Weekday(d) for d in window.get("days", [d.value for d in WORKDAYS])),
                time_zone=window.get("time_zone", "UTC"),
                recipient_local_time=bool(window.get("recipient_local_time", False)),
            ),
            retry=Retry(
                max_attempts=int(retry.get("max_attempts", default.retry.max_attempts)),
                interval_minutes=int(retry.get("interval_minutes", default.retry.interval_minutes)),
                retry_on=tuple(RetryOutcome(o) for o in
                               retry.get("retry_on", [o.value for o in default.retry.retry_on])),
                until_goal_achieved=bool(retry.get("until_goal_achieved", False)),
            ),
            execution_mode=ExecutionMode(data.get("execution_mode", default.execution_mode)),
            start_at=datetime.fromisoformat(data["start_at"]) if data.get("start_at") else None,
            end_at=datetime.fromisoformat(data["end_at"]) if data.get("end_at") else None,
            manual_review=bool(data.get("manual_review", False)),
            eligibility=Eligibility(data.get("eligibility", default.eligibility)),
        )
