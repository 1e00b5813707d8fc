"""The outreach scheduler on PostgreSQL: due attempts are claimed and executed exactly once, whatever ticks.

* Concurrent claims in one process, each on a connection of its own, take disjoint batches that together are
  every due attempt; once the claims count as lost (their jobs never started), concurrent claims take every
  unsettled attempt again, once.
* Two ``outboundql worker`` processes ticking over the same due attempts (a campaign resumed once both are
  ready, with twenty batches of attempts: more than the queue takes at once, so both claim) execute each
  attempt once: one claim, one execution, one ``attempt.execute`` audit event, one attempt made per row.
* A worker process killed with SIGKILL mid-run while it holds claims (some attempts executed, others in its
  hands or queued), then Redis (a private ``redis-server``) restarted empty, then a second worker beside the
  process started in the victim's place: each attempt the victim held is claimed again once its claim counts
  as lost (the lease of 10 s without a heartbeat, twice that for a job that never started), and every attempt
  is executed once: none lost, none twice, none that a live worker was executing or about to execute.

The attempts go through the built-in ``log`` channel, planned through the services an hour ago in a window
that is the whole day every day, so the workers' system clock always finds them due and inside it. A trigger
in the test's schema writes down every claim and every status change of an attempt with the ``application_name``
of the connection that made it (each worker process connects under a name of its own): a witness of who
claimed and executed what that does not rely on the engine's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Step
from outboundql.enums import AttemptStatus, Channel, Eligibility, ExecutionMode, Weekday
from outboundql.goals.testing import registry_with
from outboundql.models.config import tortoise_config
from outboundql.services import cadence, execution, planning, scheduler
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from outboundql.services.clock import FakeClock
from outboundql.services.projects import CreateProject, create_project
from tests import isolation
from tests.conftest import global_database
from tests.integration.conftest import Child, child_env, pg_fetch, run_cli, running_worker
from tests.integration.process_tree import alive, ready, started, wait_ready
from tests.integration.redis_server import RedisServer

pytestmark = pytest.mark.integration

DEADLINE = 60.0  # seconds; bounds every wait, never asserted as a speed
LEASE = 10  # seconds: OUTBOUNDQL_ATTEMPT_LEASE_SECONDS of the crash test (the least the settings allow)
INTERVAL = "0.2"  # OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS of the worker processes


@pytest.fixture
def clock() -> FakeClock:
    """Services called here plan an hour ago: the attempts are due in the past for any clock that reads now."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))


# --- the campaign ---------------------------------------------------------------------------------------------


async def _due_campaign(count: int, clock: FakeClock) -> tuple[Access, int]:
    """A live MANUAL campaign of ``count`` accounts reachable by phone, every row planned (through the services):
    ``count`` attempts SCHEDULED, due at the clock's time, in a window open all day every day. Who made it, and
    the campaign's id."""
    user = await models.User.create(email="caller@example.com", name="Caller")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Calls"))).project
    product = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=project.id, name="Warehouse OS"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Calls"))).campaign
    await models.Account.bulk_create([models.Account(project=project, name=f"Lead {i:05d}", phone=f"+3460{i:07d}")
                                      for i in range(count)], batch_size=1000)
    account_ids = list(await models.Account.filter(project_id=project.id).values_list("id", flat=True))
    for start in range(0, count, 5000):
        added = await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(
            campaign.id, account_ids[start:start + 5000]))
        assert added.added == len(account_ids[start:start + 5000])
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.PHONE_CALL, body="Call {{account.name}} about {{product.name}}."),),
        window=rules.WindowChange(start_time="00:00", end_time="00:00", days=tuple(Weekday)),
        execution_mode=ExecutionMode.MANUAL, eligibility=Eligibility.ALL)))
    await execution.go_live(access, execution.GoLive(campaign.id))
    await execution.start_outreach(access, execution.StartOutreach(campaign.id))
    while await planning.plan_pending(campaign.id, clock.now()):  # the rest of what start_outreach left to ticks
        pass
    due = await models.OutreachAttempt.filter(campaign_id=campaign.id, status=AttemptStatus.SCHEDULED,
                                              due_at__lte=clock.now()).count()
    assert due == count
    return access, campaign.id


@contextlib.asynccontextmanager
async def _orm(url: str) -> AsyncIterator[None]:
    """The ORM of this process on the (migrated) schema ``url`` names, for the block."""
    EXECUTOR_CACHE.clear()  # prepared SQL of another test's database (see tests.conftest.database)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            yield


# --- the witness ----------------------------------------------------------------------------------------------


async def _pg_execute(url: str, sql: str) -> None:
    conn = await isolation.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _install_witness(url: str) -> None:
    """A table and a trigger in the test's schema: every change of an attempt's status or claim token, with the
    token and the ``application_name`` of the connection that made it."""
    schema = isolation.schema_of(url)
    assert schema is not None
    await _pg_execute(url, f"""
        CREATE TABLE "{schema}".attempt_witness (
            seq bigserial PRIMARY KEY, attempt_id int NOT NULL, status text NOT NULL, token text, app text NOT NULL);
        CREATE FUNCTION "{schema}".witness_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status IS DISTINCT FROM OLD.status OR NEW.claim_token IS DISTINCT FROM OLD.claim_token THEN
                INSERT INTO "{schema}".attempt_witness (attempt_id, status, token, app)
                VALUES (NEW.id, NEW.status, NEW.claim_token, current_setting('application_name'));
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER witness AFTER UPDATE ON "{schema}".outreach_attempt
            FOR EACH ROW EXECUTE FUNCTION "{schema}".witness_attempt();
    """)


def _named(url: str, name: str) -> str:
    """``url`` whose connections call themselves ``<schema>/<name>`` (PostgreSQL's application_name)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = f"{query['schema']}/{name}"
    return parts._replace(query=urlencode(query)).geturl()


async def _witnessed(url: str, status: AttemptStatus) -> list[tuple[int, str, str]]:
    """(attempt, token, process) of every move to ``status`` the witness saw, in order."""
    rows = await pg_fetch(url, "SELECT attempt_id, token, app FROM attempt_witness WHERE status = "
                          f"'{status.value}' ORDER BY seq")
    return [(r["attempt_id"], r["token"], r["app"].rpartition("/")[2]) for r in rows]


# --- processes and waits --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _worker(tmp_path: Path, url: str, redis_url: str, name: str, lease: int | None = None
                  ) -> AsyncIterator[Child]:
    """``outboundql worker --processes 1`` (its supervisor and one dramatiq process) whose database connections
    are named ``name``; stopped at the end, with any connection of it the database still holds."""
    env = child_env(OUTBOUNDQL_DATABASE_URL=_named(url, name), OUTBOUNDQL_REDIS_URL=redis_url,
                    OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS=INTERVAL)
    if lease is not None:
        env["OUTBOUNDQL_ATTEMPT_LEASE_SECONDS"] = str(lease)
    try:
        with running_worker("--processes", "1", "--threads", "2", cwd=tmp_path, env=env) as worker:
            yield worker
    finally:  # a killed process's connections end with it; this only makes sure
        await _pg_execute(isolation.without_schema(url), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE application_name = '{isolation.schema_of(url)}/{name}'")


def _migrate(tmp_path: Path, url: str) -> None:
    result = run_cli("migrate", cwd=tmp_path, env=child_env(OUTBOUNDQL_DATABASE_URL=url))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


async def _statuses(url: str) -> Counter[str]:
    rows = await pg_fetch(url, "SELECT status, COUNT(*) AS n FROM outreach_attempt GROUP BY status")
    return Counter({r["status"]: r["n"] for r in rows})


async def _until(url: str, what: str, done: Callable[[Counter[str]], object], *watched: Child,
                 pause: float = 0.05) -> Counter[str]:
    """Poll the attempts' statuses until ``done(statuses)``; the statuses then."""
    end = time.monotonic() + DEADLINE
    while not done(statuses := await _statuses(url)):
        for child in watched:
            assert child.proc.poll() is None, f"a worker exited with {child.proc.returncode}:\n{child.output}"
        assert time.monotonic() < end, f"not {what} within {DEADLINE}s: {dict(statuses)}\n" + "\n".join(
            c.output for c in watched)
        await asyncio.sleep(pause)
    return statuses


async def _assert_each_executed_once(url: str, count: int) -> list[int]:
    """Every attempt AWAITING_RESULT, executed by exactly one process, audited once, counted once on its row. The
    attempts' ids."""
    attempts = await pg_fetch(url, "SELECT id, status, executed_at FROM outreach_attempt ORDER BY id")
    ids = [r["id"] for r in attempts]
    assert len(ids) == count
    assert {r["status"] for r in attempts} == {AttemptStatus.AWAITING_RESULT.value}
    assert all(r["executed_at"] is not None for r in attempts)
    audited = await pg_fetch(url, "SELECT object_id, COUNT(*) AS n FROM audit_event WHERE action = 'attempt.execute' "
                             "AND object_type = 'OutreachAttempt' GROUP BY object_id")
    assert {r["object_id"]: r["n"] for r in audited} == dict.fromkeys(ids, 1)
    rows = await pg_fetch(url, "SELECT attempts_made, execution_status, COUNT(*) AS n FROM campaign_account "
                          "GROUP BY attempts_made, execution_status")
    assert [tuple(r) for r in rows] == [(1, "executing", count)]
    executions = Counter(attempt for attempt, _, _ in await _witnessed(url, AttemptStatus.AWAITING_RESULT))
    assert executions == Counter(ids)  # settled once each, by whichever process: nothing overwritten
    return ids


# --- the tests ------------------------------------------------------------------------------------------------


async def test_concurrent_claims_take_every_due_attempt_once_and_again_once_after_the_lease(
        pg_url: str, clock: FakeClock) -> None:
    count, claimers = 2000, 4  # tortoise's pool holds 5 connections: one each
    async with global_database(pg_url):
        await _due_campaign(count, clock)
        ids = set(await models.OutreachAttempt.all().values_list("id", flat=True))

        async def claim_until_nothing_due(now: datetime) -> list[tuple[str, list[int]]]:
            batches: list[tuple[str, list[int]]] = []
            while True:
                token, claimed = await scheduler.claim(now, 100)
                if not claimed:
                    return batches
                batches.append((token, claimed))

        for now in (datetime.now(UTC), datetime.now(UTC) + scheduler.queue_lease() + timedelta(seconds=1)):
            results = await asyncio.gather(*(claim_until_nothing_due(now) for _ in range(claimers)))
            batches = [batch for result in results for batch in result]
            taken = [i for _, claimed in batches for i in claimed]
            assert len(taken) == count and set(taken) == ids  # each once, none left out
            assert len({token for token, _ in batches}) == len(batches)
            assert sum(1 for result in results if result) > 1  # the claims really ran side by side
            stored = {(a.id, a.claim_token, a.status) for a in await models.OutreachAttempt.all()}
            assert stored == {(i, token, AttemptStatus.EXECUTING) for token, claimed in batches for i in claimed}
            assert (await scheduler.claim(now))[1] == []


async def test_two_worker_processes_ticking_over_the_same_due_attempts_execute_each_once(
        tmp_path: Path, empty_pg_url: str, private_redis_url: str, clock: FakeClock) -> None:
    # Ten times what may wait in the queue at once: whichever process ticks first cannot take them all before the
    # other ticks.
    count = scheduler.CLAIM_BATCH * scheduler.WAITING_CLAIMS * 10
    _migrate(tmp_path, empty_pg_url)
    await _install_witness(empty_pg_url)
    async with _orm(empty_pg_url):
        access, campaign_id = await _due_campaign(count, clock)
        await execution.pause_campaign(access, execution.PauseCampaign(campaign_id))  # nothing claimed yet
        async with _worker(tmp_path, empty_pg_url, private_redis_url, "a") as a, \
                _worker(tmp_path, empty_pg_url, private_redis_url, "b") as b:
            await asyncio.gather(*(asyncio.to_thread(wait_ready, w, 1, DEADLINE) for w in (a, b)))
            await execution.resume_campaign(access, execution.ResumeCampaign(campaign_id))  # both tick over them
            await _until(empty_pg_url, "all executed", lambda s: s == {"awaiting_result": count}, a, b)
    ids = await _assert_each_executed_once(empty_pg_url, count)
    claims = await _witnessed(empty_pg_url, AttemptStatus.EXECUTING)
    assert Counter(attempt for attempt, _, _ in claims) == Counter(ids)  # claimed once each: no lease ran out
    assert {process for _, _, process in claims} == {"a", "b"}  # both processes claimed batches


async def test_a_worker_killed_mid_run_and_redis_restarted_empty_lose_no_attempt_and_execute_none_twice(
        tmp_path: Path, empty_pg_url: str, clock: FakeClock) -> None:
    count = 3000
    _migrate(tmp_path, empty_pg_url)
    await _install_witness(empty_pg_url)
    async with _orm(empty_pg_url):
        access, campaign_id = await _due_campaign(count, clock)
        await execution.pause_campaign(access, execution.PauseCampaign(campaign_id))
        with RedisServer.started(tmp_path / "redis") as redis_server:
            async with _worker(tmp_path, empty_pg_url, redis_server.url, "a", lease=LEASE) as a:
                [victim] = await asyncio.to_thread(wait_ready, a, 1, DEADLINE)
                await execution.resume_campaign(access, execution.ResumeCampaign(campaign_id))
                held = await _killed_mid_run(empty_pg_url, victim, a, "a")
                at_crash = await _statuses(empty_pg_url)
                redis_server.stop()
                redis_server.start()  # empty: the victim's message in flight and the queued ones are gone
                async with _worker(tmp_path, empty_pg_url, redis_server.url, "b", lease=LEASE) as b:
                    await _until(empty_pg_url, "all executed", lambda s: s == {"awaiting_result": count}, a, b)
                    [_, replacement] = await asyncio.to_thread(wait_ready, a, 2, DEADLINE)
                    assert not alive(victim) and alive(replacement) and len(started(a)) == 2, a.output
                    assert len(ready(b)) == 1, b.output
    assert 0 < at_crash["awaiting_result"] < count and at_crash["executing"] == len(held), at_crash
    ids = await _assert_each_executed_once(empty_pg_url, count)
    tokens: dict[int, set[str]] = {}
    for attempt, token, _ in await _witnessed(empty_pg_url, AttemptStatus.EXECUTING):
        tokens.setdefault(attempt, set()).add(token)
    assert set(tokens) == set(ids)
    assert all(len(tokens[i]) == 2 for i in held)  # claimed again once the lease ran out (nothing else could run them)
    assert all(len(tokens[i]) == 1 for i in set(ids) - held)


async def _ids(url: str, status: AttemptStatus) -> set[int]:
    return {r["id"] for r in await pg_fetch(url, f"SELECT id FROM outreach_attempt WHERE status = '{status.value}'")}


async def _killed_mid_run(url: str, pid: int, worker: Child, name: str) -> set[int]:
    """Wait until the worker process ``pid`` (connecting as ``name``) is mid-run (attempts executed, others claimed
    and not settled), then SIGKILL it; the attempts it left claimed. It is stopped (SIGSTOP) while the claims are
    read, once the statements it had sent are through (a claim it sent just before commits all the same), so that
    what it holds is exactly what the database says; let go again if it happened to hold none at that instant.
    A transaction it had open is rolled back when it is killed. Two kinds of statement never end while it is stopped
    and change no claim: one waiting for its locks (all inside transactions or skipping locked rows), and one
    waiting for the stopped process itself (``wait_event_type`` ``Client``: reading the rest of the statement or its
    Sync, or writing rows into a full socket). PostgreSQL commits such a statement only after the process has sent
    its Sync and the last row has been written, so killing the process rolls it back."""
    end = time.monotonic() + DEADLINE
    running = ("SELECT wait_event_type, wait_event, query FROM pg_stat_activity WHERE state = 'active' AND "
               "wait_event_type IS DISTINCT FROM 'Lock' AND wait_event_type IS DISTINCT FROM 'Client' AND "
               f"application_name = '{isolation.schema_of(url)}/{name}'")
    while True:
        await _until(url, "mid-run", lambda s: s["awaiting_result"] and s["executing"], worker, pause=0.01)
        holding: set[int] = set()
        os.kill(pid, signal.SIGSTOP)
        try:
            while statements := await pg_fetch(url, running):
                assert time.monotonic() < end, (f"statements of a stopped worker never ended: {statements}\n"
                                                f"{worker.output}")
                await asyncio.sleep(0.01)
            holding = await _ids(url, AttemptStatus.EXECUTING)
            if holding:
                os.kill(pid, signal.SIGKILL)
                return holding
        finally:
            if not holding:
                os.kill(pid, signal.SIGCONT)
        assert time.monotonic() < end, f"never caught holding claims within {DEADLINE}s:\n{worker.output}"
