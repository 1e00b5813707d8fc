"""Windows through GraphQL: when attempts fall due and are executed — a window across midnight (the day named is
the day it opens), across the daylight-saving changes of Europe/Madrid (2026-03-29 and 2026-10-25), in the
recipient's time zone (contact > account > account's country > the window's), and the window checked again at
execution. Instants are UTC; the comments give the wall time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.services import scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, call_step, gid, iso, pk
from tests.api.cadence_world import world as world  # the fixture

DANA = {"name": "Dana Diaz", "phone": "+34600000001"}


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def live_at(world: World, when: datetime, window: dict[str, Any], **cadence: Any) -> models.CampaignAccount:
    """Acme (Dana) in an ON_ADD calling campaign with ``window``, gone live at ``when``."""
    row = await world.account("Acme", DANA)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD", window=window, **cadence)
    world.clock.set(when)
    await world.go_live()
    return row


async def executes_at(world: World, row: models.CampaignAccount, due: datetime) -> dict[str, Any]:
    """The row's next attempt is due at ``due``: a tick a second before claims nothing, one at ``due`` executes
    it. The executed attempt."""
    attempt = await world.only_attempt(row)
    assert attempt["dueAt"] == iso(due)
    assert await world.at(due - timedelta(seconds=1)) == scheduler.Tick(0, [])
    assert (await world.at(due)).claimed == [pk(attempt)]
    executed = await world.only_attempt(row)
    assert (executed["status"], executed["executedAt"]) == ("AWAITING_RESULT", iso(due))
    return executed


async def no_answer_at(world: World, attempt: dict[str, Any], when: datetime) -> dict[str, Any]:
    """NO_ANSWER recorded at ``when``: the retry."""
    world.clock.set(when)
    payload = await world.record(attempt["id"], "NO_ANSWER")
    assert payload["errors"] == []
    return dict(payload["nextAttempt"])


# --- across midnight -----------------------------------------------------------------------------------------

FRIDAY_NIGHT = {"startTime": "22:00", "endTime": "02:00", "days": ["FRI"], "timeZone": "UTC"}


@pytest.mark.parametrize(("live", "due"), [
    (utc(2026, 3, 6, 12, 0), utc(2026, 3, 6, 22, 0)),  # Friday noon: that evening
    (utc(2026, 3, 7, 0, 30), utc(2026, 3, 7, 0, 30)),  # Saturday 00:30: Friday's window is still open
    (utc(2026, 3, 7, 2, 0), utc(2026, 3, 13, 22, 0)),  # Saturday 02:00: closed, next Friday
    (utc(2026, 3, 6, 1, 0), utc(2026, 3, 6, 22, 0)),  # Friday 01:00 belongs to Thursday's (not allowed) window
    (utc(2026, 3, 5, 23, 0), utc(2026, 3, 6, 22, 0)),  # Thursday night: not allowed
])
async def test_a_window_across_midnight_belongs_to_the_day_it_opens(world: World, live: datetime,
                                                                    due: datetime) -> None:
    row = await live_at(world, live, FRIDAY_NIGHT)
    await executes_at(world, row, due)


@pytest.mark.parametrize(("live", "due"), [
    (utc(2026, 3, 2, 12, 0), utc(2026, 3, 2, 12, 0)),  # Monday noon
    (utc(2026, 3, 3, 8, 59), utc(2026, 3, 3, 8, 59)),  # Tuesday 08:59: Monday's day is still open
    (utc(2026, 3, 3, 9, 0), utc(2026, 3, 9, 9, 0)),  # Tuesday 09:00: next Monday
])
async def test_an_end_equal_to_the_start_is_a_whole_day(world: World, live: datetime, due: datetime) -> None:
    row = await live_at(world, live, {"startTime": "09:00", "endTime": "09:00", "days": ["MON"]})
    await executes_at(world, row, due)


async def test_retries_inside_and_after_a_window_across_midnight(world: World) -> None:
    row = await live_at(world, utc(2026, 3, 6, 12, 0), FRIDAY_NIGHT, retry={"intervalMinutes": 10})
    first = await executes_at(world, row, utc(2026, 3, 6, 22, 0))
    second = await no_answer_at(world, first, utc(2026, 3, 7, 1, 30))
    assert second["dueAt"] == iso(utc(2026, 3, 7, 1, 40))  # Saturday 01:40, inside Friday's window
    await executes_at(world, row, utc(2026, 3, 7, 1, 40))
    third = await no_answer_at(world, second, utc(2026, 3, 7, 1, 55))
    assert third["dueAt"] == iso(utc(2026, 3, 13, 22, 0))  # 02:05 is past the close: the next Friday


# --- daylight saving time (Europe/Madrid: CET +01:00, CEST +02:00) ------------------------------------------

MADRID_DAY = {"startTime": "09:00", "endTime": "17:00", "timeZone": "Europe/Madrid"}


@pytest.mark.parametrize(("live", "due"), [
    (utc(2026, 3, 27, 7, 30), utc(2026, 3, 27, 8, 0)),  # Fri 08:30 CET → 09:00 CET
    (utc(2026, 3, 27, 16, 30), utc(2026, 3, 30, 7, 0)),  # Fri 17:30 CET → Mon 09:00 CEST (clocks went forward)
    (utc(2026, 10, 23, 6, 30), utc(2026, 10, 23, 7, 0)),  # Fri 08:30 CEST → 09:00 CEST
    (utc(2026, 10, 23, 16, 0), utc(2026, 10, 26, 8, 0)),  # Fri 18:00 CEST → Mon 09:00 CET (clocks went back)
])
async def test_a_day_window_keeps_its_wall_time_across_a_dst_change(world: World, live: datetime,
                                                                     due: datetime) -> None:
    row = await live_at(world, live, MADRID_DAY)
    await executes_at(world, row, due)


SATURDAY_NIGHT_MADRID = {"startTime": "22:00", "endTime": "03:00", "days": ["SAT"], "timeZone": "Europe/Madrid"}


async def test_a_night_window_across_the_spring_forward_change_is_an_hour_shorter(world: World) -> None:
    # Sat 28 March 22:00 CET (21:00 UTC) to Sun 29 March 03:00 CEST (01:00 UTC): 02:00–03:00 does not exist.
    row = await live_at(world, utc(2026, 3, 28, 20, 0), SATURDAY_NIGHT_MADRID, retry={"intervalMinutes": 10})
    first = await executes_at(world, row, utc(2026, 3, 28, 21, 0))
    second = await no_answer_at(world, first, utc(2026, 3, 29, 0, 40))  # 01:40 CET
    assert second["dueAt"] == iso(utc(2026, 3, 29, 0, 50))  # 01:50 CET: open
    await executes_at(world, row, utc(2026, 3, 29, 0, 50))
    third = await no_answer_at(world, second, utc(2026, 3, 29, 0, 55))  # +10 min is 03:05 CEST: closed
    assert third["dueAt"] == iso(utc(2026, 4, 4, 20, 0))  # Sat 4 April 22:00 CEST


async def test_a_night_window_across_the_fall_back_change_is_an_hour_longer(world: World) -> None:
    # Sat 24 October 22:00 CEST (20:00 UTC) to Sun 25 October 03:00 CET (02:00 UTC): 02:00–03:00 happens twice.
    row = await live_at(world, utc(2026, 10, 24, 12, 0), SATURDAY_NIGHT_MADRID, retry={"intervalMinutes": 10})
    first = await executes_at(world, row, utc(2026, 10, 24, 20, 0))
    second = await no_answer_at(world, first, utc(2026, 10, 25, 1, 30))  # the second 02:30 (CET)
    assert second["dueAt"] == iso(utc(2026, 10, 25, 1, 40))
    await executes_at(world, row, utc(2026, 10, 25, 1, 40))
    third = await no_answer_at(world, second, utc(2026, 10, 25, 1, 55))  # +10 min is 03:05 CET: closed
    assert third["dueAt"] == iso(utc(2026, 10, 31, 21, 0))  # Sat 31 October 22:00 CET


async def test_a_window_opening_inside_the_spring_forward_gap_opens_when_the_clocks_jump(world: World) -> None:
    # 02:30 does not exist on Sun 29 March in Madrid: the window opens at 03:00 CEST (01:00 UTC).
    window = {"startTime": "02:30", "endTime": "04:00", "days": ["SUN"], "timeZone": "Europe/Madrid"}
    row = await live_at(world, utc(2026, 3, 29, 0, 15), window)
    await executes_at(world, row, utc(2026, 3, 29, 1, 0))


async def test_a_window_inside_the_fall_back_overlap_uses_its_first_occurrence(world: World) -> None:
    window = {"startTime": "02:30", "endTime": "02:45", "days": ["SUN"], "timeZone": "Europe/Madrid"}
    row = await live_at(world, utc(2026, 10, 24, 23, 0), window)
    await executes_at(world, row, utc(2026, 10, 25, 0, 30))  # 02:30 CEST, the first of the two


# --- the recipient's time zone -------------------------------------------------------------------------------

LOCAL = {"startTime": "09:00", "endTime": "17:00", "timeZone": "Europe/London", "recipientLocalTime": True}
MONDAY_0 = utc(2026, 3, 2, 0, 0)


async def recipients(world: World) -> dict[str, models.CampaignAccount]:
    """Four accounts made through GraphQL, each telling its zone another way; all in the campaign, approved."""
    project = gid("Project", world.project)
    made: dict[str, str] = {}
    made["New York"] = (await world.ok("createAccount", {  # the contact's zone wins over the account's
        "projectId": project, "name": "Hudson", "timeZone": "Europe/Madrid", "country": "ES",
        "contacts": [{"name": "Ned Hill", "phone": "+12125550100", "timeZone": "america/new_york"}]}))["account"]["id"]
    tokyo = (await world.ok("createAccount", {"projectId": project, "name": "Sakura", "country": "US",
                                              "contacts": [{"name": "Aki Sato", "phone": "+81300000000"}]}))
    made["Tokyo"] = tokyo["account"]["id"]
    updated = await world.ok("updateAccount", {"id": made["Tokyo"], "timeZone": "Asia/Tokyo"})  # the account's
    assert updated["account"]["timeZone"] == "Asia/Tokyo"
    made["Madrid"] = (await world.ok("createAccount", {"projectId": project, "name": "Iberia", "country": "es"})
                      )["account"]["id"]  # only a country
    contact = await world.ok("createContact", {"accountId": made["Madrid"], "name": "Ines Ruiz",
                                               "phone": "+34600000009"})
    assert contact["contact"]["timeZone"] is None
    made["London"] = (await world.ok("createAccount", {  # nothing known: the window's zone
        "projectId": project, "name": "Nowhere", "contacts": [{"name": "Nia Nod", "phone": "+10000000001"}]}
    ))["account"]["id"]
    await world.ok("addAccountsToCampaign", {"campaignId": world.gid, "accountIds": list(made.values())})
    rows = {where: await models.CampaignAccount.get(campaign_id=world.campaign.id, account__name=name)
            for where, name in (("New York", "Hudson"), ("Tokyo", "Sakura"), ("Madrid", "Iberia"),
                                ("London", "Nowhere"))}
    await world.ok("reviewCampaignAccounts", {"campaignAccountIds": [gid("CampaignAccount", r) for r in rows.values()],
                                              "decision": "APPROVED"})
    return rows


async def test_recipient_local_windows_use_the_contact_then_account_then_country_zone(world: World) -> None:
    world.clock.set(MONDAY_0)
    rows = await recipients(world)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD", window=LOCAL)
    await world.go_live()
    due = {where: (await world.only_attempt(row))["dueAt"] for where, row in rows.items()}
    assert due == {
        "Tokyo": iso(utc(2026, 3, 2, 0, 0)),  # 09:00 JST
        "Madrid": iso(utc(2026, 3, 2, 8, 0)),  # 09:00 CET
        "London": iso(utc(2026, 3, 2, 9, 0)),  # 09:00 GMT
        "New York": iso(utc(2026, 3, 2, 14, 0)),  # 09:00 EST
    }
    for where in ("Tokyo", "Madrid", "London", "New York"):
        await executes_at(world, rows[where], utc(2026, 3, 2, int(due[where][11:13]), 0))
    # A retry waits for the recipient's next morning: 17:30 JST is closed.
    tokyo = await world.only_attempt(rows["Tokyo"])
    retry = await no_answer_at(world, tokyo, utc(2026, 3, 2, 8, 0))
    assert retry["dueAt"] == iso(utc(2026, 3, 3, 0, 0))


async def test_without_recipient_local_time_everyone_gets_the_window_zone(world: World) -> None:
    world.clock.set(MONDAY_0)
    rows = await recipients(world)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD", window={**LOCAL, "recipientLocalTime": False})
    await world.go_live()
    assert {where: (await world.only_attempt(row))["dueAt"] for where, row in rows.items()} == {
        where: iso(utc(2026, 3, 2, 9, 0)) for where in rows}


async def test_the_window_is_checked_again_in_the_recipient_zone_at_execution(world: World) -> None:
    world.clock.set(MONDAY_0)
    rows = await recipients(world)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD", window=LOCAL)
    await world.go_live()
    assert len((await world.at(utc(2026, 3, 2, 13, 0))).claimed) == 3  # everyone but Ned
    ned = await models.Contact.get(name="Ned Hill")
    moved = await world.ok("updateContact", {"id": gid("Contact", ned), "timeZone": "Asia/Tokyo"})
    assert moved["contact"]["id"] == gid("Contact", ned)
    attempt = await world.only_attempt(rows["New York"])
    assert (await world.at(utc(2026, 3, 2, 14, 0))).claimed == [pk(attempt)]  # 23:00 in Tokyo now
    back = await world.only_attempt(rows["New York"])
    assert (back["status"], back["dueAt"], back["executedAt"]) == ("SCHEDULED", iso(utc(2026, 3, 3, 0, 0)), None)


async def test_a_window_changed_after_planning_holds_at_execution(world: World) -> None:
    row = await live_at(world, MONDAY_8, {"startTime": "09:00", "endTime": "17:00"})
    await world.cadence(window={"startTime": "13:00"})  # later on a live campaign
    attempt = await world.only_attempt(row)
    assert attempt["dueAt"] == iso(MONDAY_8 + timedelta(hours=1))  # planned before the change
    assert (await world.at(MONDAY_8 + timedelta(hours=1))).claimed == [pk(attempt)]
    await executes_at(world, row, MONDAY_8 + timedelta(hours=5))
