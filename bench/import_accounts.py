"""Benchmark: a 10,000-row CSV imported end to end (`services.imports`) against a raw bulk INSERT of the same rows.

    python -m bench.import_accounts [--database sqlite|postgres] [--rows 10000] [--existing 100000] [--repeat 3]

Creates a throwaway database (a SQLite file in a temporary directory, or a PostgreSQL database on 127.0.0.1:5432
that is dropped afterwards) and seeds a project with ``--existing`` accounts. Each run imports a fresh file of
``--rows`` rows (company, website, city, country, contact name and e-mail; 80% new companies, 20% already in the
project, so they merge), and measures in the same run, best of ``--repeat``:

(a) the import: `start_import` (the file read and refused or accepted, the mapping guessed, the job and its file
    stored) then the job's body `run_import` until COMPLETED (rows cleaned, suppression checked, deduplicated
    against the existing accounts and each other, accounts, status history, contacts and audit inserted, merged
    rows filled in, the job's counters and progress moved per batch of 500) — everything but the queue's hop;
(b) the raw equivalent: the same rows written as they come (an account and a contact per row, no lookups) with
    multi-row INSERTs in one transaction on the same connection.

Prints both timings, rows per second and the ratio (a) / (b). Not a test: nothing is asserted but the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

MERGED_SHARE = 0.2
CITIES = ["Madrid", "Paris", "Berlin", "Lisbon", "Milan", "Vienna", "Prague", "Dublin"]
COUNTRIES = ["ES", "FR", "DE", "PT", "IT", "AT", "CZ", "IE"]


def _file(rows: int, run: int, existing: int) -> bytes:
    """``rows`` rows: most of them companies never seen, every fifth one an account the project has."""
    lines = ["Company,Website,City,Country,Contact name,Contact email"]
    for i in range(rows):
        k = i % len(CITIES)
        if i % int(1 / MERGED_SHARE) == 0:
            n = (i * 7919 + run) % existing
            lines.append(f"Existing {n:06d},existing-{n}.example,{CITIES[n % len(CITIES)]},"
                         f"{COUNTRIES[n % len(COUNTRIES)]},Person {n},person@existing-{n}.example")
        else:
            lines.append(f"New {run}-{i:05d},new-{run}-{i}.example,{CITIES[k]},{COUNTRIES[k]},Contact {i},"
                         f"contact{i}@new-{run}-{i}.example")
    return ("\n".join(lines) + "\n").encode()


async def _seed(existing: int) -> tuple[object, int]:
    from tortoise.connection import connections

    from outboundql import models
    from outboundql.services import sql
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    user = await models.User.create(email="bench@example.com", name="Bench")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Bench"))).project
    now = datetime.now(UTC)
    conn = connections.get("default")
    await sql.insert_rows(conn, models.Account, [
        {"project_id": project.id, "name": f"Existing {n:06d}", "name_key": f"existing {n:06d}",
         "domain": f"existing-{n}.example", "city": CITIES[n % len(CITIES)],
         "city_key": CITIES[n % len(CITIES)].lower(), "country": COUNTRIES[n % len(COUNTRIES)], "description": "",
         "tags": [], "custom_fields": {}, "status": "new", "created_at": now, "updated_at": now}
        for n in range(existing)], per_statement=1000)
    return access, project.id


async def bench(database: str, rows: int, existing: int, repeat: int) -> None:
    from tortoise import Tortoise, connections
    from tortoise.transactions import in_transaction

    from outboundql import models
    from outboundql.enums import ImportStatus
    from outboundql.goals.testing import registry_with
    from outboundql.models import triggers
    from outboundql.models.config import tortoise_config
    from outboundql.services import imports, runtime
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
        access, project_id = await _seed(existing)
        print(f"database: {database}  rows: {rows}  existing accounts: {existing}  seeded in "
              f"{time.perf_counter() - t0:.2f}s")

        best_import, counts = float("inf"), (0, 0, 0)
        for run in range(repeat):
            content = _file(rows, run, existing)
            start = time.perf_counter()
            started = await imports.start_import(access, registry, imports.StartImport(  # type: ignore[arg-type]
                project_id=project_id, filename=f"bench-{run}.csv", content=content))
            assert started.job is not None, started.errors
            await imports.run_import(started.job.id)
            elapsed = time.perf_counter() - start
            job = await models.ImportJob.get(id=started.job.id)
            assert job.status is ImportStatus.COMPLETED, job.error
            counts = (job.created, job.merged, job.failed)
            assert job.created + job.merged == rows and job.failed == 0, counts
            best_import = min(best_import, elapsed)

        conn = connections.get("default")
        pg = database == "postgres"
        account_columns = ("project_id", "name", "name_key", "domain", "website", "city", "city_key", "country",
                           "description", "tags", "custom_fields", "status", "created_at", "updated_at")
        contact_columns = ("project_id", "account_id", "name", "email", "is_decision_maker", "role_kind",
                           "do_not_contact", "created_at", "updated_at")

        def placeholders(count: int, offset: int) -> str:
            if pg:
                return "(" + ", ".join(f"${offset + k + 1}" for k in range(count)) + ")"
            return "(" + ", ".join("?" for _ in range(count)) + ")"

        async def multirow(tx: object, table: str, columns: tuple[str, ...], data: list[tuple[object, ...]],
                           returning: bool = False, per_statement: int = 500) -> list[int]:
            width, ids = len(columns), []
            for part_start in range(0, len(data), per_statement):
                part = data[part_start:part_start + per_statement]
                values = ", ".join(placeholders(width, k * width) for k in range(len(part)))
                query = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"
                flat = [v for r in part for v in r]
                if returning:
                    ids += [r["id"] for r in await tx.execute_query_dict(query + " RETURNING id", flat)]  # type: ignore[attr-defined]
                else:
                    await tx.execute_query(query, flat)  # type: ignore[attr-defined]
            return ids

        best_raw = float("inf")
        for run in range(repeat):
            lines = _file(rows, 100 + run, existing).decode().splitlines()[1:]
            start = time.perf_counter()
            now = datetime.now(UTC)
            cells = [line.split(",") for line in lines]
            accounts = [(project_id, c[0], c[0].lower(), c[1], f"https://{c[1]}", c[2], c[2].lower(), c[3], "", "[]",
                         "{}", "new", now, now) for c in cells]
            async with in_transaction() as tx:
                ids = await multirow(tx, "account", account_columns, accounts, returning=True)
                await multirow(tx, "contact", contact_columns, [
                    (project_id, pk, c[4], c[5], False, "buyer", False, now, now) for pk, c in zip(ids, cells,
                                                                                                 strict=True)])
            best_raw = min(best_raw, time.perf_counter() - start)
        assert conn is not None
        created, merged, _ = counts
        print(f"(a) import (start + job)  best of {repeat}: {best_import * 1000:8.1f} ms  "
              f"{rows / best_import:8.0f} rows/s  ({created} created, {merged} merged)")
        print(f"(b) raw multi-row INSERT  best of {repeat}: {best_raw * 1000:8.1f} ms  {rows / best_raw:8.0f} rows/s  "
              f"(an account and a contact per row)")
        print(f"ratio import / raw: {best_import / best_raw:.2f}x  (target: within 3x)")
    finally:
        await Tortoise.close_connections()
        if database == "postgres":
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tmp.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_accounts", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(bench(args.database, args.rows, args.existing, args.repeat))


if __name__ == "__main__":
    main()
