"""The window: the earliest allowed instant at or after a given one, in a zone, across weekends, midnight and the
days the clocks change. Every expectation is an exact UTC instant."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from outboundql.cadence.settings import Window
from outboundql.cadence.windows import is_open, next_allowed
from outboundql.enums import Weekday

ALL_DAYS = tuple(Weekday)
UTC_ZONE = ZoneInfo("UTC")
MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = Window()  # 09:00–17:00, Monday to Friday
FRIDAY_NIGHT = Window(start_time=time(22, 0), end_time=time(2, 0), days=(Weekday.FRI,))
NIGHTS = Window(start_time=time(22, 0), end_time=time(6, 0), days=ALL_DAYS)


def utc(day: str, clock: str = "00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


def window(start: str, end: str, *days: Weekday) -> Window:
    return Window(start_time=time.fromisoformat(start), end_time=time.fromisoformat(end), days=days or ALL_DAYS)


# --- hours and days (2026-06-01 is a Monday) -----------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc("2026-06-01", "10:00"), utc("2026-06-01", "10:00")),  # inside
        (utc("2026-06-01", "09:00"), utc("2026-06-01", "09:00")),  # the start is inside
        (utc("2026-06-01", "08:00"), utc("2026-06-01", "09:00")),  # before
        (utc("2026-06-01", "16:59"), utc("2026-06-01", "16:59")),
        (utc("2026-06-01", "17:00"), utc("2026-06-02", "09:00")),  # the end is outside
        (utc("2026-06-01", "23:30"), utc("2026-06-02", "09:00")),  # after
        (utc("2026-06-05", "17:00"), utc("2026-06-08", "09:00")),  # Friday evening: Monday
        (utc("2026-06-06", "12:00"), utc("2026-06-08", "09:00")),  # Saturday
        (utc("2026-06-07", "23:59"), utc("2026-06-08", "09:00")),  # Sunday night
    ],
)
def test_office_hours_in_utc(at: datetime, expected: datetime) -> None:
    assert next_allowed(at, OFFICE, UTC_ZONE) == expected
    assert is_open(at, OFFICE, UTC_ZONE) is (at == expected)


def test_microseconds_are_kept() -> None:
    at = utc("2026-06-01", "10:00") + timedelta(microseconds=7)
    assert next_allowed(at, OFFICE, UTC_ZONE) == at


def test_result_is_utc_whatever_the_zone_of_the_argument() -> None:
    at = datetime(2026, 6, 1, 8, 0, tzinfo=MADRID)  # 06:00 UTC, before 09:00 Madrid
    result = next_allowed(at, OFFICE, MADRID)
    assert result == utc("2026-06-01", "07:00")
    assert result.tzinfo is UTC


def test_window_read_in_the_zone() -> None:
    # 06:00 UTC is 08:00 in Madrid (summer time, +2): the window opens at 09:00 local = 07:00 UTC.
    assert next_allowed(utc("2026-06-01", "06:00"), OFFICE, MADRID) == utc("2026-06-01", "07:00")
    # 15:30 UTC is 17:30 in Madrid: closed until Tuesday 09:00 local.
    assert next_allowed(utc("2026-06-01", "15:30"), OFFICE, MADRID) == utc("2026-06-02", "07:00")


def test_local_day_differs_from_the_utc_day() -> None:
    # Tuesday 02:00 UTC is Monday 22:00 in New York (-4): next is Tuesday 09:00 local = 13:00 UTC.
    assert next_allowed(utc("2026-06-02", "02:00"), OFFICE, NEW_YORK) == utc("2026-06-02", "13:00")
    # Saturday 03:00 UTC is still Friday 23:00 in New York: Monday 09:00 local.
    assert next_allowed(utc("2026-06-06", "03:00"), OFFICE, NEW_YORK) == utc("2026-06-08", "13:00")
    # Monday 03:00 UTC is Sunday 23:00 in New York: Monday 09:00 local.
    assert next_allowed(utc("2026-06-08", "03:00"), OFFICE, NEW_YORK) == utc("2026-06-08", "13:00")


def test_single_allowed_day_a_week_ahead() -> None:
    mondays = window("09:00", "17:00", Weekday.MON)
    assert next_allowed(utc("2026-06-01", "17:00"), mondays, UTC_ZONE) == utc("2026-06-08", "09:00")
    assert next_allowed(utc("2026-06-07", "23:00"), mondays, UTC_ZONE) == utc("2026-06-08", "09:00")


# --- crossing midnight (2026-06-05 is a Friday) --------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc("2026-06-05", "21:00"), utc("2026-06-05", "22:00")),  # Friday before it opens
        (utc("2026-06-05", "22:00"), utc("2026-06-05", "22:00")),
        (utc("2026-06-05", "23:30"), utc("2026-06-05", "23:30")),  # Friday half
        (utc("2026-06-06", "00:00"), utc("2026-06-06", "00:00")),  # Saturday half, though Saturday is not allowed
        (utc("2026-06-06", "01:59"), utc("2026-06-06", "01:59")),
        (utc("2026-06-06", "02:00"), utc("2026-06-12", "22:00")),  # closed: next Friday
        (utc("2026-06-05", "01:00"), utc("2026-06-05", "22:00")),  # Friday early: Thursday's night is not allowed
        (utc("2026-06-04", "23:00"), utc("2026-06-05", "22:00")),  # Thursday night
    ],
)
def test_friday_night_reaches_into_saturday(at: datetime, expected: datetime) -> None:
    assert next_allowed(at, FRIDAY_NIGHT, UTC_ZONE) == expected
    assert is_open(at, FRIDAY_NIGHT, UTC_ZONE) is (at == expected)


def test_monday_early_hours_belong_to_sunday() -> None:
    sunday_night = window("22:00", "02:00", Weekday.SUN)
    monday_night = window("22:00", "02:00", Weekday.MON)
    at = utc("2026-06-08", "01:00")  # Monday 01:00
    assert next_allowed(at, sunday_night, UTC_ZONE) == at
    assert next_allowed(at, monday_night, UTC_ZONE) == utc("2026-06-08", "22:00")


def test_crossing_midnight_in_a_zone() -> None:
    # Friday 22:00–02:00 in New York (-4) is Saturday 02:00–06:00 UTC.
    assert next_allowed(utc("2026-06-05", "20:00"), FRIDAY_NIGHT, NEW_YORK) == utc("2026-06-06", "02:00")
    assert next_allowed(utc("2026-06-06", "05:59"), FRIDAY_NIGHT, NEW_YORK) == utc("2026-06-06", "05:59")
    assert next_allowed(utc("2026-06-06", "06:00"), FRIDAY_NIGHT, NEW_YORK) == utc("2026-06-13", "02:00")


# --- whole day ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc("2026-06-05", "23:59"), utc("2026-06-06", "00:00")),
        (utc("2026-06-06", "00:00"), utc("2026-06-06", "00:00")),
        (utc("2026-06-07", "23:59"), utc("2026-06-07", "23:59")),
        (utc("2026-06-08", "00:00"), utc("2026-06-13", "00:00")),
    ],
)
def test_whole_weekend_days(at: datetime, expected: datetime) -> None:
    assert next_allowed(at, window("00:00", "00:00", Weekday.SAT, Weekday.SUN), UTC_ZONE) == expected


def test_whole_day_from_its_start_time() -> None:
    monday_from_nine = window("09:00", "09:00", Weekday.MON)
    assert next_allowed(utc("2026-06-01", "08:59"), monday_from_nine, UTC_ZONE) == utc("2026-06-01", "09:00")
    assert next_allowed(utc("2026-06-02", "08:59"), monday_from_nine, UTC_ZONE) == utc("2026-06-02", "08:59")
    assert next_allowed(utc("2026-06-02", "09:00"), monday_from_nine, UTC_ZONE) == utc("2026-06-08", "09:00")


@pytest.mark.parametrize("zone", [MADRID, NEW_YORK])
def test_every_day_whole_day_is_always_open_even_when_the_clocks_change(zone: ZoneInfo) -> None:
    always = window("00:00", "00:00")
    for start in (utc("2026-03-07"), utc("2026-03-28"), utc("2026-10-24"), utc("2026-10-31")):
        for quarter in range(4 * 72):
            at = start + timedelta(minutes=15 * quarter)
            assert next_allowed(at, always, zone) == at


# --- daylight saving time: Europe/Madrid (2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00) -----


def test_madrid_start_in_the_spring_gap_opens_when_the_clocks_jump() -> None:
    # 02:30 does not exist on 2026-03-29: the window opens at 03:00 CEST = 01:00 UTC.
    at = utc("2026-03-29", "00:00")  # 01:00 CET
    assert next_allowed(at, window("02:30", "06:00"), MADRID) == utc("2026-03-29", "01:00")
    assert not is_open(utc("2026-03-29", "00:59"), window("02:30", "06:00"), MADRID)
    assert is_open(utc("2026-03-29", "01:00"), window("02:30", "06:00"), MADRID)
    # The next day is ordinary again: 02:30 CEST = 00:30 UTC.
    assert next_allowed(utc("2026-03-29", "04:00"), window("02:30", "06:00"), MADRID) == utc("2026-03-30", "00:30")


def test_madrid_end_in_the_spring_gap_closes_when_the_clocks_jump() -> None:
    late = window("00:00", "02:30", Weekday.SUN)  # 23:00 UTC (Saturday) to 01:00 UTC: two real hours
    assert next_allowed(utc("2026-03-28", "22:59"), late, MADRID) == utc("2026-03-28", "23:00")
    assert is_open(utc("2026-03-29", "00:59"), late, MADRID)
    assert next_allowed(utc("2026-03-29", "01:00"), late, MADRID) == utc("2026-04-04", "22:00")


def test_madrid_window_emptied_by_the_gap_waits_a_week() -> None:
    inside_gap = window("02:10", "02:50", Weekday.SUN)
    # Saturday: the Sunday window falls wholly in the gap, so the next is 2026-04-05 02:10 CEST = 00:10 UTC.
    assert next_allowed(utc("2026-03-28", "12:00"), inside_gap, MADRID) == utc("2026-04-05", "00:10")


def test_madrid_night_across_spring_forward_is_seven_hours() -> None:
    # Saturday 22:00 CET = 21:00 UTC to Sunday 06:00 CEST = 04:00 UTC.
    assert next_allowed(utc("2026-03-28", "20:00"), NIGHTS, MADRID) == utc("2026-03-28", "21:00")
    assert is_open(utc("2026-03-29", "03:59"), NIGHTS, MADRID)
    assert next_allowed(utc("2026-03-29", "04:00"), NIGHTS, MADRID) == utc("2026-03-29", "20:00")


def test_madrid_night_across_fall_back_is_nine_hours() -> None:
    # Saturday 22:00 CEST = 20:00 UTC to Sunday 06:00 CET = 05:00 UTC.
    assert next_allowed(utc("2026-10-24", "19:00"), NIGHTS, MADRID) == utc("2026-10-24", "20:00")
    assert is_open(utc("2026-10-25", "04:59"), NIGHTS, MADRID)
    assert next_allowed(utc("2026-10-25", "05:00"), NIGHTS, MADRID) == utc("2026-10-25", "21:00")


def test_madrid_start_in_the_fall_overlap_is_its_first_occurrence() -> None:
    early = window("02:30", "04:00")
    # 00:00 UTC is 02:00 CEST: 02:30 happens first at 02:30 CEST = 00:30 UTC.
    assert next_allowed(utc("2026-10-25", "00:00"), early, MADRID) == utc("2026-10-25", "00:30")
    # 01:00 UTC is 02:00 CET (the second 02:00): open until 04:00 CET = 03:00 UTC.
    assert is_open(utc("2026-10-25", "01:00"), early, MADRID)
    assert next_allowed(utc("2026-10-25", "03:00"), early, MADRID) == utc("2026-10-26", "01:30")


def test_madrid_end_in_the_fall_overlap_is_its_first_occurrence() -> None:
    evening = window("20:00", "02:30", Weekday.SAT)  # Saturday 18:00 UTC to Sunday 02:30 CEST = 00:30 UTC
    assert is_open(utc("2026-10-25", "00:29"), evening, MADRID)
    assert next_allowed(utc("2026-10-25", "00:30"), evening, MADRID) == utc("2026-10-31", "19:00")


# --- daylight saving time: America/New_York (2026-03-08 02:00 → 03:00; 2026-11-01 02:00 → 01:00) ---


def test_new_york_start_in_the_spring_gap_opens_when_the_clocks_jump() -> None:
    # 02:15 does not exist on 2026-03-08: the window opens at 03:00 EDT = 07:00 UTC.
    assert next_allowed(utc("2026-03-08", "06:00"), window("02:15", "05:00"), NEW_YORK) == utc("2026-03-08", "07:00")


def test_new_york_night_across_spring_forward() -> None:
    nights = window("21:00", "09:00", Weekday.SAT)  # Saturday 21:00 EST = 02:00 UTC to 09:00 EDT = 13:00 UTC
    assert next_allowed(utc("2026-03-08", "01:00"), nights, NEW_YORK) == utc("2026-03-08", "02:00")
    assert is_open(utc("2026-03-08", "12:59"), nights, NEW_YORK)
    assert next_allowed(utc("2026-03-08", "13:00"), nights, NEW_YORK) == utc("2026-03-15", "01:00")


def test_new_york_night_across_fall_back_is_nine_hours() -> None:
    # Saturday 22:00 EDT = 02:00 UTC to Sunday 06:00 EST = 11:00 UTC.
    assert next_allowed(utc("2026-11-01", "01:00"), NIGHTS, NEW_YORK) == utc("2026-11-01", "02:00")
    assert is_open(utc("2026-11-01", "10:59"), NIGHTS, NEW_YORK)
    assert next_allowed(utc("2026-11-01", "11:00"), NIGHTS, NEW_YORK) == utc("2026-11-02", "03:00")


def test_new_york_start_in_the_fall_overlap_is_its_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01: first at 01:30 EDT = 05:30 UTC.
    assert next_allowed(utc("2026-11-01", "04:00"), window("01:30", "03:00"), NEW_YORK) == utc("2026-11-01", "05:30")


# --- other changes: half-hour shifts and a skipped day ------------------------------------------------


def test_half_hour_spring_forward() -> None:
    # Lord Howe moves from +10:30 to +11 at 02:00 on 2026-10-04: 02:10 does not exist; it opens at 02:30 local.
    zone = ZoneInfo("Australia/Lord_Howe")
    assert next_allowed(utc("2026-10-03", "12:00"), window("02:10", "05:00"), zone) == utc("2026-10-03", "15:30")


def test_day_skipped_by_samoa() -> None:
    # Samoa went from -10 to +14 at the end of 2011-12-29: Friday 2011-12-30 never happened there.
    apia = ZoneInfo("Pacific/Apia")
    fridays = window("09:00", "17:00", Weekday.FRI)
    assert next_allowed(utc("2011-12-29", "12:00"), fridays, apia) == utc("2012-01-05", "19:00")
    # A whole-day Friday and Saturday window opens when Saturday begins, 2011-12-31 00:00 +14.
    weekend = window("00:00", "00:00", Weekday.FRI, Weekday.SAT)
    assert next_allowed(utc("2011-12-29", "12:00"), weekend, apia) == utc("2011-12-30", "10:00")


# --- refusals ---------------------------------------------------------------------------------------


def test_no_allowed_day_is_refused() -> None:
    with pytest.raises(ValueError, match="no allowed day"):
        next_allowed(utc("2026-06-01"), Window(days=()), UTC_ZONE)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2026, 6, 1, 10, 0), OFFICE, UTC_ZONE)
