"""Benchmark: `services.campaign_accounts.add_accounts` against the fastest raw bulk INSERT.

    python -m bench.add_accounts [--database sqlite|postgres] [--accounts 10000] [--repeat 3]

Creates a throwaway database (a SQLite file in a temporary directory, or a PostgreSQL database on
127.0.0.1:5432 that is dropped afterwards), seeds accounts with mixed statuses (~80% admitted by a
sales campaign), then measures in the same run, best of ``--repeat`` fresh campaigns each:

(a) ``add_accounts`` for every account id into an empty campaign (guardrails, duplicate check,
    inserts, scored count, counters, audit — the whole service call);
(b) the raw equivalent: the same admitted join rows written with one INSERT per row through
    ``executemany`` and with multi-row INSERTs, on the same connection; the faster of the two.

Prints both timings, accounts per second and the ratio (a) / (b). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

ADMITTED_SHARE = 0.8
COLUMNS = ("campaign_id", "account_id", "review_status", "outreach_status", "notes", "execution_status",
           "execution_disabled", "goal_outcome", "attempts_made", "plan_round", "created_at", "updated_at",
           "attention_level", "attention_at")



def _statuses(n: int) -> list[str]:
    """~80% admitted by sales (new, engaged, partner, churned), the rest blocked (hard or soft)."""
    admitted = ["new", "new", "new", "engaged", "partner", "churned", "new", "qualified"]
    blocked = ["press", "do_not_contact", "competitor", "customer"]
    cycle = admitted * 2 + blocked  # 16 admitted, 4 blocked per 20
    return [cycle[i % len(cycle)] for i in range(n)]


async def _seed(n: int) -> tuple[object, int, int, list[int]]:
    from outboundql import models
    from outboundql.enums import AccountStatus, Band
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    user = await models.User.create(email="bench@example.com", name="Bench")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Bench"))).project
    product = await models.Product.create(project=project, name="Widget", slug="widget", description="Widgets")
    statuses = _statuses(n)
    await models.Account.bulk_create(
        [models.Account(project=project, name=f"Account {i:05d}", name_key=f"account {i:05d}",
                        status=AccountStatus(statuses[i])) for i in range(n)],
        batch_size=1000,
    )
    ids = list(await models.Account.filter(project_id=project.id).order_by("id").values_list("id", flat=True))
    await models.FitScore.bulk_create(
        [models.FitScore(project=project, product=product, account_id=i, goal_key="sales", score=float(k % 10),
                         band=Band.MISMATCH, scorer="bench") for k, i in enumerate(ids) if k % 2 == 0],
        batch_size=1000,
    )
    return access, project.id, product.id, ids


async def _best(repeat: int, prepare: Callable[[], Awaitable[int]], run: Callable[[int], Awaitable[int]]
                ) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        campaign_id = await prepare()
        start = time.perf_counter()
        count = await run(campaign_id)
        best = min(best, time.perf_counter() - start)
    return best, count


async def bench(database: str, n: int, repeat: int) -> None:
    from tortoise import Tortoise, connections
    from tortoise.transactions import in_transaction

    from outboundql import models
    from outboundql.goals.testing import registry_with
    from outboundql.models import triggers
    from outboundql.models.config import tortoise_config
    from outboundql.services import campaign_accounts, campaigns, guardrails, runtime
    from outboundql.settings import Settings
    from outboundql.workers import DramatiqJobs

    tmp = tempfile.TemporaryDirectory(prefix="oql-bench-")
    if database == "sqlite":
        url = f"sqlite://{tmp.name}/bench.sqlite3"
    else:
        name = f"oql_bench_{uuid.uuid4().hex[:10]}"
        url = urlsplit(PG_BASE)._replace(path=f"/{name}").geturl()
        await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await triggers.generate_schemas(Tortoise)
        registry = registry_with()
        # The services run as in the API: one settings object, goals, jobs, and (in-process) events.
        runtime.configure(runtime.Runtime(Settings(database_url=url, redis_url=None), registry, DramatiqJobs()))
        t0 = time.perf_counter()
        access, project_id, product_id, ids = await _seed(n)
        print(f"database: {database}  accounts: {n}  seeded in {time.perf_counter() - t0:.2f}s")

        counter = iter(range(1, 1000))

        async def new_campaign() -> int:
            result = await campaigns.create_campaign(access, registry, campaigns.CreateCampaign(  # type: ignore[arg-type]
                project_id=project_id, product_id=product_id, name=f"Bench {next(counter)}"))
            return result.campaign.id

        async def service(campaign_id: int) -> int:
            result = await campaign_accounts.add_accounts(
                access, registry, campaign_accounts.AddAccountsToCampaign(campaign_id, ids))  # type: ignore[arg-type]
            return result.added

        added_time, added = await _best(repeat, new_campaign, service)

        # The same admitted rows, decided once outside the timing.
        goal = registry.get("sales")
        assert goal is not None
        admitted = (await guardrails.evaluate(project_id, goal, ids, [], registry)).admitted_ids
        assert len(admitted) == added, (len(admitted), added)
        conn = connections.get("default")
        pg = database == "postgres"

        def rows(campaign_id: int) -> list[tuple[object, ...]]:
            now = datetime.now(UTC)
            return [(campaign_id, a, "pending", "not_started", "", "not_planned", False, "open", 0, 1, now, now, 0,
                     now) for a in admitted]

        def placeholders(count: int, offset: int = 0) -> str:
            if pg:
                return "(" + ", ".join(f"${offset + k + 1}" for k in range(count)) + ")"
            return "(" + ", ".join("?" for _ in range(count)) + ")"

        insert = f"INSERT INTO campaign_account ({', '.join(COLUMNS)}) VALUES "

        async def raw_executemany(campaign_id: int) -> int:
            data = rows(campaign_id)
            async with in_transaction() as tx:
                await tx.execute_many(insert + placeholders(len(COLUMNS)), [list(r) for r in data])
            return len(data)

        async def raw_multirow(campaign_id: int, per_statement: int = 1000) -> int:
            data = rows(campaign_id)
            width = len(COLUMNS)
            async with in_transaction() as tx:
                for start in range(0, len(data), per_statement):
                    part = data[start:start + per_statement]
                    values = ", ".join(placeholders(width, k * width) for k in range(len(part)))
                    await tx.execute_query(insert + values, [v for r in part for v in r])
            return len(data)

        many_time, many = await _best(repeat, new_campaign, raw_executemany)
        multi_time, multi = await _best(repeat, new_campaign, raw_multirow)
        assert many == multi == added
        raw_time, raw_kind = min((many_time, "executemany"), (multi_time, "multi-row INSERT"))
        assert conn is not None
        print(f"(a) add_accounts       best of {repeat}: {added_time * 1000:8.1f} ms  "
              f"{n / added_time:10.0f} accounts/s  ({added} added, {n - added} blocked)")
        print(f"(b) raw executemany    best of {repeat}: {many_time * 1000:8.1f} ms  {many / many_time:10.0f} rows/s")
        print(f"    raw multi-row      best of {repeat}: {multi_time * 1000:8.1f} ms  "
              f"{multi / multi_time:10.0f} rows/s")
        print(f"ratio add / raw ({raw_kind}): {added_time / raw_time:.2f}x  (target: within 3x)")
        check = await models.Campaign.filter(project_id=project_id).count()
        assert check == 3 * repeat
    finally:
        await Tortoise.close_connections()
        if database == "postgres":
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tmp.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.add_accounts", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(bench(args.database, args.accounts, args.repeat))


if __name__ == "__main__":
    main()
