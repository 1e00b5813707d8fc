"""Benchmark: saved filters' ``matchCount`` (`services.saved_filters.match_counts`) against raw SQL.

    python -m bench.saved_filters [--database sqlite|postgres] [--accounts 100000] [--repeat 3]

Creates a throwaway database (a SQLite file in a temporary directory, or a PostgreSQL database on
127.0.0.1:5432 dropped afterwards), seeds accounts with one INSERT … SELECT (countries, tags, sizes,
custom fields, a share of accented names), saves five filters, then measures in the same run, best of
``--repeat``:

(a) ``match_counts`` of the five filters (compiled to SQL, one statement);
(b) the Python evaluation it replaced: every account of the project read, then matched in Python;
(c) the raw equivalent: one hand-written statement counting the same five predicates.

Prints the timings and the ratios (a) / (c) and (b) / (a). Not a test: nothing is asserted but that the
three agree.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

FILTERS: dict[str, Any] = {
    "French": {"field": "country", "op": "eq", "value": "FR"},
    "VIP": {"field": "tags", "op": "contains", "value": "vip"},
    "Large": {"field": "employee_count", "op": "gte", "value": 500},
    "Enterprise": {"field": "cf.segment", "op": "in", "value": ["enterprise", "mid"]},
    "Mixed": {"all": [{"field": "country", "op": "in", "value": ["FR", "DE"]},
                      {"not": {"field": "name", "op": "contains", "value": "zeta"}},
                      {"field": "cf.arr", "op": "gt", "value": 50000}]},
}

SEED_SQL = """
{numbers}INSERT INTO account (project_id, created_at, updated_at, name, name_key, city_key, description, tags,
                              custom_fields, status, country, employee_count)
SELECT {project}, {now}, {now},
       CASE WHEN i % 10 = 0 THEN 'Société ' ELSE 'Account ' END || i, 'account ' || i, '', '',
       (CASE WHEN i % 7 = 0 THEN '["vip","saas"]' ELSE '["saas"]' END){json},
       ('{{"segment":"' || CASE i % 3 WHEN 0 THEN 'Enterprise' WHEN 1 THEN 'SMB' ELSE 'mid' END
         || '","arr":' || (i * 37 % 100000) || '}}'){json},
       'new', CASE i % 4 WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' WHEN 2 THEN 'ES' ELSE NULL END, i % 1000
FROM {source}
"""

RAW_SQL = """
SELECT COUNT(CASE WHEN lower(country) = 'fr' THEN 1 END) AS french,
       COUNT(CASE WHEN EXISTS (SELECT 1 FROM {tags} WHERE lower({tag}) = 'vip') THEN 1 END) AS vip,
       COUNT(CASE WHEN employee_count >= 500 THEN 1 END) AS large,
       COUNT(CASE WHEN lower({segment}) IN ('enterprise', 'mid') THEN 1 END) AS enterprise,
       COUNT(CASE WHEN country IN ('FR', 'DE') AND strpos_(lower(name), 'zeta') = 0 AND {arr} > 50000 THEN 1 END)
         AS mixed
FROM account WHERE project_id = {project}
"""


async def _best(repeat: int, run: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, answer = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        answer = await run()
        best = min(best, time.perf_counter() - start)
    return best, answer


async def bench(database: str, n: int, repeat: int) -> None:
    from tortoise import Tortoise, connections

    from outboundql import models
    from outboundql.errors import Collector
    from outboundql.models import triggers
    from outboundql.models.config import tortoise_config
    from outboundql.services import saved_filters
    from outboundql.services.filter_expressions import columns, match, validate_expression

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
        conn = connections.get("default")
        pg = database == "postgres"
        project = await models.Project.create(name="Bench", slug="bench")
        t0 = time.perf_counter()
        await conn.execute_script(SEED_SQL.format(
            numbers="" if pg else f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) ",
            source=f"generate_series(1, {n}) AS n(i)" if pg else "n", project=project.id,
            now="now()" if pg else "'2026-01-01 00:00:00+00:00'", json="::jsonb" if pg else ""))
        if pg:
            await conn.execute_script("ANALYZE account")
        print(f"database: {database}  accounts: {n}  seeded in {time.perf_counter() - t0:.2f}s")
        saved = []
        for label, raw in FILTERS.items():
            check = Collector()
            expression = validate_expression(raw, check)
            assert not check.items, check.items
            saved.append(await models.SavedFilter.create(project=project, name=label, expression=expression))

        async def service() -> list[int]:
            counts = await saved_filters.match_counts(saved)
            return [counts[f.id] for f in saved]

        async def python() -> list[int]:
            needed = set().union(*(columns(f.expression) for f in saved))
            rows = list(await models.Account.filter(project_id=project.id).order_by("id").values("id", *needed))
            return [len(match(f.expression, rows)) for f in saved]

        raw_sql = RAW_SQL.format(
            project=project.id,
            tags="jsonb_array_elements_text(tags) AS t(v)" if pg else "json_each(tags) AS t",
            tag="t.v" if pg else "t.value",
            segment="custom_fields ->> 'segment'" if pg else "json_extract(custom_fields, '$.segment')",
            arr="(custom_fields ->> 'arr')::numeric" if pg else "json_extract(custom_fields, '$.arr')",
        ).replace("strpos_", "strpos" if pg else "instr")

        async def raw() -> list[int]:
            [row] = await conn.execute_query_dict(raw_sql)
            return [int(v) for v in row.values()]

        service_time, ours = await _best(repeat, service)
        raw_time, theirs = await _best(repeat, raw)
        python_time, before = await _best(max(1, repeat - 2), python)
        assert ours == theirs == before, (ours, theirs, before)
        print(f"counts: {dict(zip(FILTERS, ours, strict=True))}")
        print(f"(a) match_counts (SQL)      best of {repeat}: {service_time * 1000:9.1f} ms")
        print(f"(b) Python evaluation       best of {max(1, repeat - 2)}: {python_time * 1000:9.1f} ms")
        print(f"(c) raw SQL, one statement  best of {repeat}: {raw_time * 1000:9.1f} ms")
        print(f"ratio (a) / (c): {service_time / raw_time:.2f}x   "
              f"speed-up (b) / (a): {python_time / service_time:.1f}x")
    finally:
        await Tortoise.close_connections()
        if database == "postgres":
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tmp.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.saved_filters", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(bench(args.database, args.accounts, args.repeat))


if __name__ == "__main__":
    main()
