"""Benchmark: planning and executing outreach attempts through the ``log`` channel against a raw bulk INSERT + UPDATE.

    python -m bench.execute_attempts [--mode embedded|distributed] [--accounts 10000] [--repeat 3]

``embedded``: a SQLite file; this process ticks the scheduler back to back (``scheduler.tick``) and the in-process
dramatiq worker runs the ``execute_attempts`` jobs on this event loop, as ``outboundql serve`` does.
``distributed``: PostgreSQL on 127.0.0.1:5432 (a throwaway database) and Redis on 127.0.0.1:6379 (db 15, flushed),
with an ``outboundql worker --processes 2`` started (and booted) before the timing; its processes tick by
themselves every 0.05 s (``OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS``) and this process only polls the database.

Seeds ``--accounts`` accounts, each with one contact with a phone number, and one campaign per repetition with every
account reviewed APPROVED; the cadence is one PHONE_CALL step (no template: the offline drafter writes each call
script), window the whole day every day, ON_ADD. Then measures in the same run, best of ``--repeat``:

(a) the engine end to end on a fresh campaign: ``goLive`` (marks every row, plans the first 500 inline), ticks
    until every row has its first attempt planned (wording, address, due time), then ticks and ``execute_attempts``
    jobs (claim, re-checks, delivery through ``log``, settle) until every attempt is AWAITING_RESULT and every row
    EXECUTING with one attempt made;
(b) the raw equivalent on the same database: the same attempt rows (every column planning writes, values copied
    from (a)) written by one bulk INSERT onto another campaign's rows (the faster of ``executemany`` and
    multi-row INSERTs), one UPDATE of them to awaiting_result with their claim and execution times, and one
    UPDATE of the rows' execution status and attempts made; one transaction (its commit counted).

(c) the engine's own statements replayed on the same rows without its logic (no reads, no checks, no wording):
    per batch of 500, the planning transaction (INSERT the attempts, UPDATE their rows), the claim (one UPDATE …
    RETURNING) and the settling transaction (UPDATE the attempts, UPDATE their rows, INSERT an audit row each): the
    floor of what claiming and settling each attempt exactly once costs in SQL.

Prints all three, attempts per second, the ratio (a) / (b) and (a) / (c). Not a test: nothing is asserted but the
end states.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

if TYPE_CHECKING:
    from outboundql.settings import Settings

REDIS_URL = os.environ.get("OUTBOUNDQL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
BATCH = 500  # rows planned and attempts claimed per batch by the engine (planning.PLAN_BATCH, scheduler.CLAIM_BATCH)
TICK_SECONDS = "0.05"  # the worker processes' scheduler interval in distributed mode
INDUSTRIES = ["Software", "Logistics", "Food", "Healthcare", "Retail", "Manufacturing", "Finance", None]
COUNTRIES = ["ES", "FR", "DE", "US", "GB", "IT", None]
TITLES = ["Head of Operations", "CTO", "Office Manager", "VP Logistics", "Founder"]
FIRST = ["Dana", "Luis", "Marta", "Jon", "Aiko", "Pierre", "Greta"]
#: outreach_attempt columns planning leaves NULL (and the key): the raw INSERT writes every other one.
UNSET_AT_PLANNING = {"id", "claimed_at", "claim_token", "executed_at", "settled_at", "outcome", "goal_achieved",
                     "error", "message_id", "reviewed_by_id"}


@dataclass(frozen=True, slots=True)
class Seeded:
    access: Any
    project_id: int
    campaign_ids: list[int]
    """One per repetition of (a)."""
    raw_campaign_id: int


async def _seed(n: int, campaigns_needed: int) -> Seeded:
    """A project, a product, ``n`` varied accounts each with one contact with a phone, and ``campaigns_needed`` + 1
    campaigns (one PHONE_CALL step, the whole day every day, ON_ADD) with every account in them, APPROVED."""
    from outboundql import models
    from outboundql.cadence import rules
    from outboundql.cadence.settings import Step
    from outboundql.enums import Channel, ExecutionMode, ReviewStatus, Weekday
    from outboundql.goals.testing import registry_with
    from outboundql.services import cadence, campaign_stats, campaigns
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    user = await models.User.create(email="bench@example.com", name="Bench Sender")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Bench"))).project
    product = await models.Product.create(project=project, name="Warehouse OS", slug="warehouse-os",
                                          description="Software that runs warehouses for logistics teams")
    await models.Account.bulk_create([
        models.Account(project=project, name=f"Company {i:05d}", name_key=f"company {i:05d}",
                       industry=INDUSTRIES[i % len(INDUSTRIES)], country=COUNTRIES[i % len(COUNTRIES)],
                       employee_count=5 + (i * 37) % 3000, description="Warehouses and freight")
        for i in range(n)
    ], batch_size=1000)
    ids = list(await models.Account.filter(project_id=project.id).order_by("id").values_list("id", flat=True))
    await models.Contact.bulk_create([
        models.Contact(project=project, account_id=a, name=f"{FIRST[k % len(FIRST)]} Person{k}",
                       title=TITLES[k % len(TITLES)], phone=f"+3460{k:07d}", is_decision_maker=k % 3 == 0)
        for k, a in enumerate(ids)
    ], batch_size=1000)
    change = rules.CadenceChange(
        steps=(Step(channel=Channel.PHONE_CALL),), execution_mode=ExecutionMode.ON_ADD,
        window=rules.WindowChange(start_time="00:00", end_time="00:00", days=tuple(Weekday)))
    campaign_ids: list[int] = []
    for k in range(campaigns_needed + 1):
        campaign = (await campaigns.create_campaign(access, registry_with(), campaigns.CreateCampaign(
            project_id=project.id, product_id=product.id, name=f"Bench {k + 1}"))).campaign
        await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, change))
        await models.CampaignAccount.bulk_create([
            models.CampaignAccount(campaign=campaign, account_id=a, review_status=ReviewStatus.APPROVED)
            for a in ids], batch_size=1000)
        campaign_ids.append(campaign.id)
    await campaign_stats.recount(campaign_ids)
    return Seeded(access, project.id, campaign_ids[:-1], campaign_ids[-1])


async def _waiting(campaign_id: int) -> bool:
    """Whether a row still waits for its first attempt."""
    from outboundql import models
    from outboundql.enums import ExecutionStatus

    return await models.CampaignAccount.filter(
        campaign_id=campaign_id, execution_status__in=[ExecutionStatus.NOT_PLANNED, ExecutionStatus.PLANNING]).exists()


async def _handed(campaign_id: int) -> int:
    """Attempts handed to the channel (awaiting their result)."""
    from outboundql import models
    from outboundql.enums import AttemptStatus

    return await models.OutreachAttempt.filter(campaign_id=campaign_id, status=AttemptStatus.AWAITING_RESULT).count()


async def _engine_once(access: Any, campaign_id: int, n: int, distributed: bool) -> tuple[float, float]:
    """Go live and wait until every attempt awaits its result: (seconds until every row was planned, total)."""
    from outboundql import models
    from outboundql.enums import AttemptStatus, ExecutionStatus
    from outboundql.services import execution, scheduler
    from outboundql.workers import current_broker
    from outboundql.workers.execution import QUEUE

    start = time.perf_counter()
    planned_at: float | None = None
    live = await execution.go_live(access, execution.GoLive(campaign_id))
    assert live.planned > 0
    while True:
        # The database is polled as little as possible: while rows wait for planning, then for the end.
        if distributed:  # the worker processes tick by themselves
            await asyncio.sleep(0.01)
            idle = True
        else:  # ticks back to back; each claim's job runs on this loop meanwhile (the in-process worker)
            idle = not (await scheduler.tick()).claimed
            if idle:
                await asyncio.to_thread(current_broker().join, QUEUE)
        if planned_at is None and not await _waiting(campaign_id):
            planned_at = time.perf_counter() - start
        if idle and planned_at is not None and await _handed(campaign_id) == n:
            break
    total = time.perf_counter() - start
    assert planned_at is not None
    # The end state: every row executing with one attempt made, one attempt each.
    rows = models.CampaignAccount.filter(campaign_id=campaign_id)
    assert await rows.filter(execution_status=ExecutionStatus.EXECUTING, attempts_made=1).count() == n
    assert await models.OutreachAttempt.filter(campaign_id=campaign_id).count() == n
    assert await models.OutreachAttempt.filter(campaign_id=campaign_id, status=AttemptStatus.AWAITING_RESULT,
                                               executed_at__isnull=False).count() == n
    return planned_at, total


async def _raw(source_campaign_id: int, raw_campaign_id: int, repeat: int, pg: bool
               ) -> tuple[float, float, str, int, float]:
    """Best (INSERT seconds, UPDATEs seconds) of the raw equivalent, the faster INSERT's kind, the row count, and the
    best seconds of the engine's statements replayed (c)."""
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from outboundql import models
    from outboundql.services import sql

    conn = connections.get("default")
    marks = "${}" if pg else "?"
    # The attempts (a) planned, every column as stored (values straight from the database), as they were planned
    # (scheduled, just created), moved onto the raw campaign's rows.
    columns = [field.source_field or name for name, field in models.OutreachAttempt._meta.fields_map.items()
               if field.has_db_field and (field.source_field or name) not in UNSET_AT_PLANNING]
    row_of = dict(await models.CampaignAccount.filter(campaign_id=raw_campaign_id).values_list("account_id", "id"))
    source = await conn.execute_query_dict(
        f"SELECT {', '.join('a.' + c for c in columns)}, ca.account_id FROM outreach_attempt a "
        f"JOIN campaign_account ca ON ca.id = a.campaign_account_id WHERE a.campaign_id = {marks.format(1)} "
        "ORDER BY a.id", [source_campaign_id])
    width = len(columns)

    def now() -> Any:
        at = datetime.now(UTC)
        return at if pg else at.isoformat(" ")

    def rows() -> list[list[Any]]:
        at = now()
        moved = {"campaign_id": raw_campaign_id, "status": "scheduled", "created_at": at, "updated_at": at}
        return [[row_of[r["account_id"]] if c == "campaign_account_id" else moved.get(c, r[c]) for c in columns]
                for r in source]

    def group(k: int) -> str:
        return "(" + ", ".join(marks.format(k * width + c + 1) for c in range(width)) + ")"

    insert = f"INSERT INTO outreach_attempt ({', '.join(columns)}) VALUES "

    async def executemany(tx: Any, data: list[list[Any]]) -> None:
        await tx.execute_many(insert + group(0), data)

    async def multirow(tx: Any, data: list[list[Any]], per_statement: int = 1000) -> None:
        for offset in range(0, len(data), per_statement):
            part = data[offset:offset + per_statement]
            await tx.execute_query(insert + ", ".join(group(k) for k in range(len(part))), [v for r in part for v in r])

    async def updates(tx: Any) -> None:
        at = now()
        await tx.execute_query(
            f"UPDATE outreach_attempt SET status = 'awaiting_result', claimed_at = {marks.format(1)}, "
            f"claim_token = {marks.format(2)}, executed_at = {marks.format(3)}, updated_at = {marks.format(4)} "
            f"WHERE campaign_id = {marks.format(5)} AND status = 'scheduled'",
            [at, uuid.uuid4().hex, at, at, raw_campaign_id])
        await tx.execute_query(
            f"UPDATE campaign_account SET execution_status = 'executing', attempts_made = attempts_made + 1, "
            f"updated_at = {marks.format(1)} WHERE campaign_id = {marks.format(2)}", [at, raw_campaign_id])

    async def reset() -> None:
        await conn.execute_query(f"DELETE FROM outreach_attempt WHERE campaign_id = {marks.format(1)}",
                                 [raw_campaign_id])
        await conn.execute_query(f"UPDATE campaign_account SET execution_status = 'not_planned', attempts_made = 0 "
                                 f"WHERE campaign_id = {marks.format(1)}", [raw_campaign_id])

    async def best(write: Callable[[Any, list[list[Any]]], Coroutine[Any, Any, None]]) -> tuple[float, float]:
        best_insert = best_update = float("inf")
        for _ in range(repeat):
            await reset()
            data = rows()
            async with in_transaction() as tx:
                start = time.perf_counter()
                await write(tx, data)
                middle = time.perf_counter()
                await updates(tx)
            end = time.perf_counter()  # the commit counts with the UPDATEs
            if middle - start + end - middle < best_insert + best_update:
                best_insert, best_update = middle - start, end - middle
        return best_insert, best_update

    async def replayed() -> float:
        """The engine's own statements without its logic: per batch of `BATCH`, the planning transaction (INSERT
        the attempts, UPDATE their rows), the claim (one UPDATE … RETURNING) and the settling transaction (UPDATE
        the attempts, UPDATE their rows, INSERT one audit row each)."""
        await reset()
        data = rows()
        status_at = columns.index("status")
        project_id = source[0]["project_id"] if source else 0
        start = time.perf_counter()
        for offset in range(0, len(data), BATCH):
            part = data[offset:offset + BATCH]
            row_ids = sql.int_list(r[columns.index("campaign_account_id")] for r in part)
            at = now()
            async with in_transaction() as tx:
                await multirow(tx, part, BATCH)
                await tx.execute_query(f"UPDATE campaign_account SET execution_status = 'awaiting_execution', "
                                       f"updated_at = {marks.format(1)} WHERE id IN ({row_ids})", [at])
            token = uuid.uuid4().hex
            update = (f"UPDATE outreach_attempt SET status = 'executing', claimed_at = {marks.format(1)}, "
                      f"claim_token = {marks.format(2)} WHERE id IN (SELECT id FROM outreach_attempt "
                      f"WHERE campaign_id = {marks.format(3)} AND status = 'scheduled' ORDER BY due_at, id "
                      f"LIMIT {BATCH})")
            claimed = await conn.execute_query_dict(
                f"WITH c AS ({update} RETURNING id) SELECT id FROM c" if pg else f"{update} RETURNING id",
                [at, token, raw_campaign_id])
            ids = sql.int_list(r["id"] for r in claimed)
            async with in_transaction() as tx:
                await tx.execute_query(
                    f"UPDATE outreach_attempt SET status = 'awaiting_result', executed_at = {marks.format(1)}, "
                    f"updated_at = {marks.format(2)} WHERE id IN ({ids}) AND claim_token = {marks.format(3)}",
                    [at, at, token])
                await tx.execute_query(
                    f"UPDATE campaign_account SET execution_status = 'executing', attempts_made = attempts_made + 1,"
                    f" updated_at = {marks.format(1)} WHERE id IN ({row_ids})", [at])
                await sql.insert_rows(tx, models.AuditEvent, [
                    {"project_id": project_id, "actor_id": None, "action": "attempt.execute",
                     "object_type": "OutreachAttempt", "object_id": r["id"], "after": {"channel": "log"},
                     "created_at": at} for r in claimed])
        assert all(r[status_at] == "scheduled" for r in data)
        return time.perf_counter() - start

    many = await best(executemany)
    multi = await best(multirow)
    (insert_s, update_s), kind = min((many, "executemany"), (multi, "multi-row INSERT"), key=lambda x: sum(x[0]))
    done = await models.OutreachAttempt.filter(campaign_id=raw_campaign_id, status="awaiting_result").count()
    assert done == len(source), (done, len(source))
    replay = min([await replayed() for _ in range(repeat)])
    done = await models.OutreachAttempt.filter(campaign_id=raw_campaign_id, status="awaiting_result").count()
    assert done == len(source), (done, len(source))
    return insert_s, update_s, kind, len(source), replay


async def bench(settings: Settings, n: int, repeat: int) -> None:
    import dramatiq
    from tortoise import Tortoise

    from outboundql.goals.testing import registry_with
    from outboundql.models.config import apply_migrations, tortoise_config
    from outboundql.services import runtime
    from outboundql.workers import DramatiqJobs, install

    distributed = settings.redis_url is not None
    mode = "distributed" if distributed else "embedded"
    # As the API process does: the broker, jobs, event bus and clock all follow `settings`.
    broker = install(settings)
    runtime.configure(runtime.Runtime(settings, registry_with(), DramatiqJobs()))
    url = settings.database_url
    await apply_migrations(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    workers: subprocess.Popen[bytes] | None = None
    embedded_worker = None
    try:
        t0 = time.perf_counter()
        seeded = await _seed(n, repeat)
        print(f"mode: {mode}  accounts: {n}  seeded in {time.perf_counter() - t0:.2f}s")
        if distributed:
            # The worker processes read their settings from their environment.
            env = {**os.environ, "OUTBOUNDQL_DATABASE_URL": url, "OUTBOUNDQL_REDIS_URL": str(settings.redis_url),
                   "OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS": TICK_SECONDS}
            workers = subprocess.Popen([str(Path(sys.executable).with_name("outboundql")), "worker", "--processes", "2",
                                        "--threads", "2"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            await asyncio.sleep(8)  # boot (imports, ORM, Redis) outside the timing
        else:
            embedded_worker = dramatiq.Worker(broker, worker_threads=settings.embedded_worker_threads)
            embedded_worker.start()  # on this loop, as the embedded server does
        runs = [await _engine_once(seeded.access, campaign_id, n, distributed) for campaign_id in seeded.campaign_ids]
        planned, best = min(runs, key=lambda r: r[1])
        if workers is not None:  # idle ticks would share the database with the raw writes
            os.killpg(workers.pid, signal.SIGTERM)
            workers.wait(timeout=60)
            workers = None
        insert, update, kind, count, replay = await _raw(seeded.campaign_ids[0], seeded.raw_campaign_id, repeat,
                                                         distributed)
        raw = insert + update
        print(f"(a) goLive → all {n} AWAITING_RESULT, best of {repeat}: {best * 1000:9.1f} ms  "
              f"{n / best:8.0f} attempts/s  (every row planned after {planned * 1000:.0f} ms)")
        print(f"(b) raw bulk INSERT ({kind}), best of {repeat}: {insert * 1000:9.1f} ms  "
              f"{count / insert:8.0f} rows/s")
        print(f"    raw UPDATE attempts + rows (and commit):  {update * 1000:9.1f} ms")
        print(f"    raw total:                                {raw * 1000:9.1f} ms  {count / raw:8.0f} attempts/s")
        print(f"(c) the engine's statements replayed, batches of {BATCH}: {replay * 1000:9.1f} ms  "
              f"{count / replay:8.0f} attempts/s  ({replay / raw:.2f}x raw)")
        print(f"ratio engine / raw: {best / raw:.2f}x  (target: within 3x); engine / (c): {best / replay:.2f}x")
    finally:
        if embedded_worker is not None:
            await asyncio.to_thread(embedded_worker.stop)
        if workers is not None:
            os.killpg(workers.pid, signal.SIGTERM)
            workers.wait(timeout=60)
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.execute_attempts", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["embedded", "distributed"], default="embedded")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from outboundql.settings import Settings

    tmp = tempfile.TemporaryDirectory(prefix="oql-bench-")
    name = f"oql_bench_{uuid.uuid4().hex[:10]}"
    # Default settings but the database and Redis, whatever this shell exports (workers inherit it).
    for key in [k for k in os.environ if k.startswith("OUTBOUNDQL_")]:
        del os.environ[key]
    if args.mode == "distributed":
        import redis

        settings = Settings(database_url=urlsplit(PG_BASE)._replace(path=f"/{name}").geturl(), redis_url=REDIS_URL)
        redis.Redis.from_url(REDIS_URL).flushdb()
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    else:
        settings = Settings(database_url=f"sqlite://{tmp.name}/bench.sqlite3", redis_url=None)
    try:
        asyncio.run(bench(settings, args.accounts, args.repeat))
    finally:
        if args.mode == "distributed":
            import redis

            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            redis.Redis.from_url(REDIS_URL).flushdb()
        tmp.cleanup()


if __name__ == "__main__":
    main()
