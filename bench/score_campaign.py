"""Benchmark: a whole scoring run with the rubric scorer against its pure compute plus a raw insert.

    python -m bench.score_campaign [--mode embedded|distributed] [--accounts 10000] [--repeat 3]

``embedded``: a SQLite file and the in-process dramatiq worker on this event loop, as
``outboundql serve`` runs it. ``distributed``: PostgreSQL on 127.0.0.1:5432 (a throwaway database)
and Redis on 127.0.0.1:6379 (db 15, flushed), with an ``outboundql worker --processes 2`` started
(and booted) before the timing. Seeds ``--accounts`` varied accounts (industries, sizes, countries,
descriptions, contacts) in one campaign, then measures in the same run, best of ``--repeat``:

(a) ``scoreCampaign(force: true)`` end to end: the run recorded, its work set inserted, batches
    enqueued and processed by the workers (snapshots loaded, scored, FitScores upserted, counters
    and progress moved), until the run is completed;
(b) the raw equivalent: ``rubric.score`` over the same snapshots in this process (pure compute,
    data already in memory) plus the same FitScore rows written by multi-row INSERTs into an empty
    table on the same database.

Prints both, accounts per second and the ratio (a) / (b). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

if TYPE_CHECKING:
    from outboundql.settings import Settings

REDIS_URL = os.environ.get("OUTBOUNDQL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
INDUSTRIES = ["Software", "Logistics", "Food", "Healthcare", "Retail", "Manufacturing", "Finance", None]
COUNTRIES = ["ES", "FR", "DE", "US", "GB", "IT", None]
WORDS = ["warehouse", "analytics", "bakery", "freight", "platform", "clinic", "retail", "automation", "data"]
TITLES = ["Head of Operations", "CTO", "Office Manager", "VP Logistics", "Founder"]



async def _seed(n: int) -> tuple[object, int]:
    """A project, product, sales persona, ``n`` varied accounts (every other one with a contact) in one
    campaign. Returns (access, campaign id)."""
    from outboundql import models
    from outboundql.goals.testing import registry_with
    from outboundql.services import campaign_stats, campaigns
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    user = await models.User.create(email="bench@example.com", name="Bench")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Bench"))).project
    product = await models.Product.create(project=project, name="Warehouse OS", slug="warehouse-os",
                                          description="Software that runs warehouses for logistics teams")
    await models.Persona.create(project=project, product=product, goal_key="sales",
                                industries=["Software", "Logistics"], countries=["ES", "FR"],
                                keywords=["warehouse", "automation"], company_size_min=50,
                                company_size_max=2000, job_titles=["Head of Operations", "VP Logistics"],
                                exclusions=["bakery"])
    await models.Account.bulk_create([
        models.Account(project=project, name=f"Company {i:05d}", name_key=f"company {i:05d}",
                       industry=INDUSTRIES[i % len(INDUSTRIES)], country=COUNTRIES[i % len(COUNTRIES)],
                       employee_count=None if i % 11 == 0 else 5 + (i * 37) % 3000,
                       description=" ".join(WORDS[(i + k) % len(WORDS)] for k in range(i % 4 + 1)),
                       custom_fields={"segment": WORDS[i % len(WORDS)]})
        for i in range(n)
    ], batch_size=1000)
    ids = list(await models.Account.filter(project_id=project.id).order_by("id").values_list("id", flat=True))
    await models.Contact.bulk_create([
        models.Contact(project=project, account_id=a, name=f"Person {k}", title=TITLES[k % len(TITLES)])
        for k, a in enumerate(ids) if k % 2 == 0
    ], batch_size=1000)
    campaign = (await campaigns.create_campaign(access, registry_with(), campaigns.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Bench"))).campaign
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=campaign, account_id=a) for a in ids],
                                             batch_size=1000)
    await campaign_stats.recount([campaign.id])
    return access, campaign.id


async def _raw_baseline(campaign_id: int, repeat: int, pg: bool) -> tuple[float, float, int]:
    """Best compute time and best raw insert time of the same results."""
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from outboundql import models
    from outboundql.goals import api as goals_api
    from outboundql.goals.testing import registry_with
    from outboundql.scoring import rubric
    from outboundql.services.personas import persona_snapshot
    from outboundql.services.scoring_batches import load_items

    campaign = await models.Campaign.get(id=campaign_id)
    product = await models.Product.get(id=campaign.product_id)
    persona = persona_snapshot(await models.Persona.get(product_id=product.id, goal_key="sales"))
    goal = registry_with().get("sales")
    assert goal is not None
    info = goals_api.Product(name=product.name, description=product.description)
    ids = list(await models.CampaignAccount.filter(campaign_id=campaign_id).values_list("account_id", flat=True))
    items = await load_items(ids)
    today = date.today()

    best_compute, results = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        results = [(item.account_id, rubric.score(goal, persona, info, item.account, item.contacts, language="en",
                                                  today=today)) for item in items]
        best_compute = min(best_compute, time.perf_counter() - start)

    # An empty copy of fit_score's rows under another product, so the unique key never collides.
    other = await models.Product.create(project_id=campaign.project_id, name="Raw", slug=f"raw-{uuid.uuid4().hex[:6]}")
    columns = ("project_id", "product_id", "account_id", "goal_key", "score", "band", "justifications",
               "persona_version", "scorer", "model", "created_at", "updated_at")
    width, per_statement = len(columns), 500
    conn = connections.get("default")

    def group(k: int) -> str:
        marks = [f"${k * width + c + 1}" if pg else "?" for c in range(width)]
        if pg:
            marks[6] += "::jsonb"
        return "(" + ", ".join(marks) + ")"

    import json

    best_insert = float("inf")
    for attempt in range(repeat):
        goal_key = f"raw{attempt}"
        now = datetime.now(UTC) if pg else datetime.now(UTC).isoformat()
        rows = [(campaign.project_id, other.id, a, goal_key, r.score, r.band,
                 json.dumps([{"kind": j.kind, "criterion": j.criterion, "text": j.text} for j in r.justifications]),
                 1, "rubric", None, now, now) for a, r in results]
        start = time.perf_counter()
        async with in_transaction() as tx:
            for offset in range(0, len(rows), per_statement):
                part = rows[offset:offset + per_statement]
                values = ", ".join(group(k) for k in range(len(part)))
                await tx.execute_query(f"INSERT INTO fit_score ({', '.join(columns)}) VALUES {values}",
                                       [v for r in part for v in r])
        best_insert = min(best_insert, time.perf_counter() - start)
    assert conn is not None
    return best_compute, best_insert, len(results)


async def _run_once(access: object, campaign_id: int, distributed: bool) -> float:
    from outboundql import models
    from outboundql.enums import ScoringStatus
    from outboundql.services import runtime, scoring_runs
    from outboundql.workers import current_broker

    start = time.perf_counter()
    result = await scoring_runs.score_campaign(access, runtime.goals(),  # type: ignore[arg-type]
                                               scoring_runs.ScoreCampaign(campaign_id, force=True, scorer="rubric"))
    if distributed:
        while (await models.ScoringRun.get(id=result.run.id)).status is ScoringStatus.RUNNING:
            await asyncio.sleep(0.01)
    else:
        await asyncio.to_thread(current_broker().join, "scoring")
    elapsed = time.perf_counter() - start
    run = await models.ScoringRun.get(id=result.run.id)
    assert (run.status, run.done, run.failed) == (ScoringStatus.COMPLETED, run.total, 0), (run.status, run.error)
    return elapsed


async def bench(settings: Settings, n: int, repeat: int) -> None:
    import dramatiq
    from tortoise import Tortoise

    from outboundql.goals.testing import registry_with
    from outboundql.models.config import apply_migrations, tortoise_config
    from outboundql.services import runtime
    from outboundql.workers import DramatiqJobs, install

    distributed = settings.redis_url is not None
    mode = "distributed" if distributed else "embedded"
    # As the API process does: the broker, jobs, event bus and scorer settings all follow `settings`.
    broker = install(settings)
    runtime.configure(runtime.Runtime(settings, registry_with(), DramatiqJobs()))
    url = settings.database_url
    await apply_migrations(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    workers: subprocess.Popen[bytes] | None = None
    embedded_worker = None
    try:
        t0 = time.perf_counter()
        access, campaign_id = await _seed(n)
        print(f"mode: {mode}  accounts: {n}  seeded in {time.perf_counter() - t0:.2f}s")
        if distributed:
            # The worker processes read their settings from their environment.
            env = {**os.environ, "OUTBOUNDQL_DATABASE_URL": url, "OUTBOUNDQL_REDIS_URL": str(settings.redis_url)}
            workers = subprocess.Popen([str(Path(sys.executable).with_name("outboundql")), "worker", "--processes", "2",
                                        "--threads", "2"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            await asyncio.sleep(8)  # boot (imports, ORM, Redis) outside the timing
        else:
            embedded_worker = dramatiq.Worker(broker, worker_threads=1)
            embedded_worker.start()  # on this loop, as the embedded server does
        best = min([await _run_once(access, campaign_id, distributed) for _ in range(repeat)])
        compute, insert, count = await _raw_baseline(campaign_id, repeat, distributed)
        raw = compute + insert
        print(f"(a) scoreCampaign end to end best of {repeat}: {best * 1000:9.1f} ms  {n / best:9.0f} accounts/s")
        print(f"(b) pure rubric compute      best of {repeat}: {compute * 1000:9.1f} ms  "
              f"{count / compute:9.0f} accounts/s")
        print(f"    raw multi-row INSERT     best of {repeat}: {insert * 1000:9.1f} ms  {count / insert:9.0f} rows/s")
        print(f"    compute + insert:                  {raw * 1000:9.1f} ms  {count / raw:9.0f} accounts/s")
        print(f"ratio run / (compute + insert): {best / raw:.2f}x  (target: within 3x)")
    finally:
        if embedded_worker is not None:
            await asyncio.to_thread(embedded_worker.stop)
        if workers is not None:
            import signal

            os.killpg(workers.pid, signal.SIGTERM)
            workers.wait(timeout=60)
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.score_campaign", description=__doc__.splitlines()[0])
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
