"""Sending caps counted in the database (`outboundql.services.send_quota`): all-or-none takes, the next UTC
midnight when full, per project and per day, and concurrent takes that never pass the cap (SQLite and, with
OUTBOUNDQL_TEST_DATABASE_URL, PostgreSQL: there the takes run on separate pooled connections at once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from outboundql import models
from outboundql.services.send_quota import DatabaseQuota, counts, next_midnight

NOON = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 3, tzinfo=UTC)


async def test_takes_until_the_cap_then_answers_the_next_utc_midnight(project: models.Project) -> None:
    quota = DatabaseQuota(project.id, NOON)
    assert [await quota.take({"sender:ana@acme.example": 3}) for _ in range(3)] == [None, None, None]
    assert await quota.take({"sender:ana@acme.example": 3}) == MIDNIGHT
    assert await quota.counts(["sender:ana@acme.example"]) == {"sender:ana@acme.example": 3}
    # The next day counts from zero.
    assert await DatabaseQuota(project.id, MIDNIGHT).take({"sender:ana@acme.example": 3}) is None


async def test_a_full_counter_takes_nothing_from_the_others(project: models.Project) -> None:
    quota = DatabaseQuota(project.id, NOON)
    limits = {"sender:ana@acme.example": 10, "domain:globex.example": 2}
    assert await quota.take(limits) is None
    assert await quota.take(limits) is None
    assert await quota.take(limits) == MIDNIGHT  # the domain is full: the sender's slot is given back
    assert await quota.take({"sender:ana@acme.example": 10, "domain:initech.example": 2}) is None
    assert await quota.counts(["sender:ana@acme.example", "domain:globex.example", "domain:initech.example"]) == {
        "sender:ana@acme.example": 3, "domain:globex.example": 2, "domain:initech.example": 1}


async def test_a_slot_given_back_frees_the_counter_again_and_never_goes_under_zero(
        project: models.Project) -> None:
    quota = DatabaseQuota(project.id, NOON)
    limits = {"sender:ana@acme.example": 2, "domain:globex.example": 2}
    assert [await quota.take(limits) for _ in range(3)] == [None, None, MIDNIGHT]
    await quota.give_back(limits)  # that mail did not go out
    assert await quota.take(limits) is None
    assert await quota.take(limits) == MIDNIGHT
    for _ in range(3):
        await quota.give_back(limits)
    assert await quota.counts(list(limits)) == dict.fromkeys(limits, 0)
    await DatabaseQuota(project.id, MIDNIGHT).give_back(limits)  # another day's counter: nothing to give back
    assert await DatabaseQuota(project.id, MIDNIGHT).counts(list(limits)) == dict.fromkeys(limits, 0)


async def test_counters_are_per_project(project: models.Project, owner: Any, make_project: Any) -> None:
    other = await make_project(owner, "Other Outbound")
    assert await DatabaseQuota(project.id, NOON).take({"domain:globex.example": 1}) is None
    assert await DatabaseQuota(project.id, NOON).take({"domain:globex.example": 1}) == MIDNIGHT
    assert await DatabaseQuota(other.id, NOON).take({"domain:globex.example": 1}) is None
    assert await counts(other.id, NOON.date(), ["domain:globex.example"]) == {"domain:globex.example": 1}


async def test_a_cap_under_one_is_always_full_and_no_limits_always_free(project: models.Project) -> None:
    quota = DatabaseQuota(project.id, NOON)
    assert await quota.take({"sender:ana@acme.example": 0}) == MIDNIGHT
    assert await quota.take({}) is None
    assert await models.SendQuota.filter(project_id=project.id).count() == 0


async def test_concurrent_takes_never_pass_the_cap(project: models.Project) -> None:
    quota = DatabaseQuota(project.id, NOON)
    limits = {"sender:ana@acme.example": 25, "domain:globex.example": 40}
    answers = await asyncio.gather(*(quota.take(limits) for _ in range(60)))
    assert answers.count(None) == 25
    assert set(answers) == {None, MIDNIGHT}
    assert await quota.counts(list(limits)) == {"sender:ana@acme.example": 25, "domain:globex.example": 25}


def test_next_midnight_is_utc() -> None:
    from zoneinfo import ZoneInfo

    late_in_new_york = datetime(2026, 3, 2, 22, 0, tzinfo=ZoneInfo("America/New_York"))  # 03:00 UTC on the 3rd
    assert next_midnight(late_in_new_york) == datetime(2026, 3, 4, tzinfo=UTC)
