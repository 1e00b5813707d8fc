"""`outboundql.cadence.rules`: a change applied to a stored cadence, checked as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from outboundql.cadence.rules import (
    MAX_STEPS,
    CadenceChange,
    RetryChange,
    WindowChange,
    parse_time,
    updated,
    utc,
)
from outboundql.cadence.settings import Cadence, Retry, Step, Window
from outboundql.enums import CampaignType, Channel, Eligibility, ExecutionMode, RetryOutcome, Weekday
from outboundql.errors import InvalidInput

EMAIL = Step(Channel.EMAIL)
CALL = Step(Channel.PHONE_CALL)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def issues(current: Cadence, change: CadenceChange) -> dict[str | None, str]:
    with pytest.raises(InvalidInput) as raised:
        updated(current, change)
    return {issue.field: issue.message for issue in raised.value.issues()}


def test_an_empty_change_keeps_everything() -> None:
    current = Cadence(campaign_type=CampaignType.FOLLOW_UP, steps=(EMAIL, CALL), manual_review=True)
    assert updated(current, CadenceChange()) == current
    assert updated(Cadence(), CadenceChange()) == Cadence()


def test_null_keeps_a_value_but_clears_start_and_end() -> None:
    current = Cadence(campaign_type=CampaignType.FOLLOW_UP, steps=(EMAIL, CALL), start_at=START,
                      end_at=START + timedelta(days=1), execution_mode=ExecutionMode.ON_ADD)
    change = CadenceChange(campaign_type=None, steps=None, window=None, retry=None, execution_mode=None,
                           manual_review=None, eligibility=None, start_at=None, end_at=None)
    assert updated(current, change) == Cadence(campaign_type=CampaignType.FOLLOW_UP, steps=(EMAIL, CALL),
                                               execution_mode=ExecutionMode.ON_ADD)


def test_a_full_change() -> None:
    change = CadenceChange(
        campaign_type=CampaignType.FOLLOW_UP,
        steps=[Step(Channel.EMAIL, 0, " intro ", " Hi {{contact.first_name}} ", " body ", None),
               Step(Channel.PHONE_CALL, 2880, None, None, "", True)],
        window=WindowChange(start_time="8:30", end_time="22:00", days=[Weekday.SAT, Weekday.MON, Weekday.MON],
                            time_zone="europe/berlin", recipient_local_time=True),
        retry=RetryChange(max_attempts=5, interval_minutes=4320,
                          retry_on=[RetryOutcome.VOICEMAIL, RetryOutcome.NO_ANSWER, RetryOutcome.VOICEMAIL],
                          until_goal_achieved=True),
        execution_mode=ExecutionMode.SCHEDULED, start_at=datetime(2026, 3, 2, 9, 0),
        end_at=datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        manual_review=True, eligibility=Eligibility.ALL,
    )
    assert updated(Cadence(), change) == Cadence(
        campaign_type=CampaignType.FOLLOW_UP,
        steps=(Step(Channel.EMAIL, 0, "intro", "Hi {{contact.first_name}}", "body", None),
               Step(Channel.PHONE_CALL, 2880, None, None, None, True)),
        window=Window(time(8, 30), time(22, 0), (Weekday.MON, Weekday.SAT), "Europe/Berlin", True),
        retry=Retry(5, 4320, (RetryOutcome.NO_ANSWER, RetryOutcome.VOICEMAIL), True),
        execution_mode=ExecutionMode.SCHEDULED, start_at=START, end_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        manual_review=True, eligibility=Eligibility.ALL,
    )


def test_window_and_retry_are_partial() -> None:
    current = Cadence(window=Window(time(8, 0), time(18, 0), (Weekday.TUE,), "Asia/Tokyo", True),
                      retry=Retry(4, 30, (RetryOutcome.BUSY,), True))
    result = updated(current, CadenceChange(window=WindowChange(end_time="20:15", time_zone=None),
                                            retry=RetryChange(retry_on=[], max_attempts=None)))
    assert result.window == Window(time(8, 0), time(20, 15), (Weekday.TUE,), "Asia/Tokyo", True)
    assert result.retry == Retry(4, 30, (), True)


def test_steps_replace_the_list() -> None:
    current = Cadence(campaign_type=CampaignType.FOLLOW_UP, steps=(EMAIL, CALL, EMAIL))
    assert updated(current, CadenceChange(steps=[CALL])).steps == (CALL,)
    assert updated(current, CadenceChange(steps=[])).steps == ()


@pytest.mark.parametrize("value, expected", [("09:00", time(9)), ("9:05", time(9, 5)), ("00:00", time(0)),
                                             ("23:59", time(23, 59)), (" 7:30 ", time(7, 30))])
def test_times_of_day(value: str, expected: time) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["24:00", "9", "09:60", "9:5", "09:00:00", "9h00", "", "-1:00", "123:00"])
def test_not_times_of_day(value: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_time(value)


def test_a_long_value_is_not_echoed_whole() -> None:
    with pytest.raises(ValueError) as raised:
        parse_time("9" * 10_000)
    assert len(str(raised.value)) < 100


def test_one_time_has_at_most_one_step() -> None:
    assert updated(Cadence(), CadenceChange(steps=[])).steps == ()  # allowed while configuring
    assert updated(Cadence(), CadenceChange(steps=[CALL])).steps == (CALL,)
    assert "ONE_TIME campaign has one step" in issues(Cadence(), CadenceChange(steps=[EMAIL, CALL]))["steps"]
    # switching a two-step cadence back to ONE_TIME names the field that makes it wrong
    follow_up = Cadence(campaign_type=CampaignType.FOLLOW_UP, steps=(EMAIL, CALL))
    assert set(issues(follow_up, CadenceChange(campaign_type=CampaignType.ONE_TIME))) == {"campaign_type"}
    assert updated(follow_up, CadenceChange(campaign_type=CampaignType.ONE_TIME, steps=[EMAIL])).steps == (EMAIL,)


def test_follow_up_has_at_most_ten_steps() -> None:
    follow_up = CadenceChange(campaign_type=CampaignType.FOLLOW_UP, steps=[EMAIL] * MAX_STEPS)
    assert len(updated(Cadence(), follow_up).steps) == MAX_STEPS
    assert updated(Cadence(), CadenceChange(campaign_type=CampaignType.FOLLOW_UP, steps=[])).steps == ()
    too_many = CadenceChange(campaign_type=CampaignType.FOLLOW_UP, steps=[Step(Channel.EMAIL, -1)] * 11)
    assert issues(Cadence(), too_many) == {"steps": "A cadence has at most 10 steps (got 11)."}  # once, not per step


def test_step_fields() -> None:
    change = CadenceChange(campaign_type=CampaignType.FOLLOW_UP, steps=[
        Step(Channel.EMAIL, 43_200, subject="s" * 500),
        Step(Channel.EMAIL, 43_201, subject="s" * 501),
        Step(Channel.SMS, -1, subject="Hello", body="fine"),
        Step(Channel.LINKEDIN, 0, intent="a\x00b", body="b\x00"),
        Step(Channel.PHONE_CALL, subject="   "),  # a blank subject is none, whatever the channel
    ])
    found = issues(Cadence(), change)
    assert set(found) == {"steps[1].delay_minutes", "steps[1].subject", "steps[2].delay_minutes",
                          "steps[2].subject", "steps[3].intent", "steps[3].body"}
    assert found["steps[1].delay_minutes"].startswith("Step 2: the delay must be between 0 and 43200 minutes")
    assert "at most 500 characters" in found["steps[1].subject"]
    assert found["steps[2].subject"].startswith("Step 3 goes out by sms: only an e-mail step has a subject")
    assert "NUL" in found["steps[3].intent"] and "NUL" in found["steps[3].body"]


def test_window_fields() -> None:
    found = issues(Cadence(), CadenceChange(window=WindowChange(start_time="9am", end_time="24:00", days=[],
                                                                time_zone="Mars/Olympus")))
    assert set(found) == {"window.start_time", "window.end_time", "window.days", "window.time_zone"}
    assert found["window.days"] == "Allow at least one day of the week."
    assert "Unknown time zone 'Mars/Olympus'" in found["window.time_zone"]
    assert set(issues(Cadence(), CadenceChange(window=WindowChange(time_zone="  ")))) == {"window.time_zone"}


def test_retry_fields() -> None:
    for value in (0, 6):
        assert "between 1 and 5" in issues(Cadence(), CadenceChange(
            retry=RetryChange(max_attempts=value)))["retry.max_attempts"]
    for value in (9, 4321):
        assert "between 10 and 4320" in issues(Cadence(), CadenceChange(
            retry=RetryChange(interval_minutes=value)))["retry.interval_minutes"]
    assert updated(Cadence(), CadenceChange(retry=RetryChange(max_attempts=1, interval_minutes=10))).retry == \
        Retry(1, 10)


def test_scheduled_needs_a_start() -> None:
    scheduled = CadenceChange(execution_mode=ExecutionMode.SCHEDULED)
    assert "SCHEDULED campaign starts at startAt" in issues(Cadence(), scheduled)["start_at"]
    assert updated(Cadence(start_at=START), scheduled).start_at == START  # stored earlier
    assert updated(Cadence(), CadenceChange(execution_mode=ExecutionMode.SCHEDULED, start_at=START)).start_at == START
    # clearing the start of a scheduled campaign
    assert set(issues(Cadence(execution_mode=ExecutionMode.SCHEDULED, start_at=START),
                      CadenceChange(start_at=None))) == {"start_at"}
    assert updated(Cadence(execution_mode=ExecutionMode.SCHEDULED, start_at=START),
                   CadenceChange(start_at=None, execution_mode=ExecutionMode.MANUAL)).start_at is None


def test_end_after_start() -> None:
    assert set(issues(Cadence(), CadenceChange(start_at=START, end_at=START))) == {"end_at"}
    assert set(issues(Cadence(start_at=START), CadenceChange(end_at=START - timedelta(minutes=1)))) == {"end_at"}
    # moving the start past the stored end names the start
    assert set(issues(Cadence(start_at=START, end_at=START + timedelta(hours=1)),
                      CadenceChange(start_at=START + timedelta(hours=2)))) == {"start_at"}
    assert updated(Cadence(), CadenceChange(end_at=START)).end_at == START  # an end alone is fine
    # the same instant in another offset is not after it
    same = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert set(issues(Cadence(start_at=START), CadenceChange(end_at=same))) == {"end_at"}


def test_datetimes_are_stored_in_utc() -> None:
    assert utc(None) is None
    assert utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    converted = utc(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))))
    assert converted == datetime(2026, 1, 1, 17, tzinfo=UTC) and converted.tzinfo is UTC
    stored = updated(Cadence(), CadenceChange(start_at=datetime(2026, 1, 1, 12))).stored()
    assert stored["start_at"] == "2026-01-01T12:00:00+00:00"
    assert Cadence.from_stored(stored).start_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_every_issue_at_once() -> None:
    change = CadenceChange(steps=[Step(Channel.EMAIL, -5)], window=WindowChange(days=[]),
                           retry=RetryChange(max_attempts=9), execution_mode=ExecutionMode.SCHEDULED)
    assert set(issues(Cadence(), change)) == {"steps[0].delay_minutes", "window.days", "retry.max_attempts",
                                              "start_at"}
