"""Benchmark: the hot reads at 10k, 100k and 1M accounts, each against a raw Starlette endpoint running one SQL
query that answers the same JSON, measured side by side in the same run with 4 concurrent connections.

    python -m bench.reads [--database postgres|sqlite] [--sizes 10000,100000,1000000] [--seconds 10]

Needs ``wrk`` (Debian: ``apt-get install wrk``); PostgreSQL on 127.0.0.1:5432 for ``--database postgres``
(``OUTBOUNDQL_BENCH_PG_URL``). For each size it creates a throwaway database (a PostgreSQL database dropped
afterwards, or a SQLite file in a temporary directory) and seeds it in SQL, ``INSERT … SELECT`` over a series (a
million accounts take well under a minute): one project with ``size`` accounts (every tenth without an employee
count, a custom field ``tier``), a sales campaign holding all of them, each with a rubric fit score (three
justifications), 19 more campaigns of 100 accounts, three saved filters; then ``outboundql recount``'s repair
sets the scores and counters kept on rows and campaigns, and PostgreSQL gets ``ANALYZE``. One API process
(uvicorn, the app as ``outboundql serve`` builds it, plus the raw routes) serves both sides; ``wrk -c 4`` drives
each read for ``--seconds``, ours then raw, read by read.

Reads (ours is GraphQL over HTTP with an API token; raw is the fastest SQL we know for the same JSON, one query
unless said otherwise, no authentication unless the read is about the token):

* ``page``: a campaign's accounts page, ``first: 100`` (default order: effective score), account + aiScore +
  justifications (raw: the page's rows read along the effective-score index, then joined);
* ``typename``: ``{ __typename }`` with a token (raw: the token's row);
* ``viewer``: ``{ viewer { email } }`` (raw: the token joined to its user);
* ``accounts``: ``project.accounts(first: 50, orderBy: EMPLOYEE_COUNT DESC)`` + ``totalCount`` (raw: the page
  read along the employee-count index, and the count the database keeps for the project);
* ``campaigns``: ``campaigns(first: 20)`` with ``staleScoreCount`` + ``scoreDistribution`` (raw: the kept
  counters);
* ``filters``: ``savedFilters { matchCount }`` (raw: the three conditions compiled by hand into one ``COUNT(*)
  FILTER (…)`` query). Ours answers the counts remembered at the project's accounts revision; so ``filters after a
  write`` also reads it, ours and raw, one request at a time right after each of five account updates made through
  the API (the median of five).

Prints per size and read: our median latency and requests/s, raw's, the ratio of throughputs; then each read's
growth from the smallest to the largest size. Before measuring, each read's answer is compared with raw's (the
same JSON, ignoring the order of equal sort keys). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

OTHER_CAMPAIGNS = 19
OTHER_CAMPAIGN_SIZE = 100
READS = ("page", "typename", "viewer", "accounts", "campaigns", "filters")
FILTERS = (
    ("Big companies", {"field": "employee_count", "op": "gte", "value": 1000}),
    ("Germany", {"field": "country", "op": "eq", "value": "DE"}),
    ("Gold tier", {"field": "cf.tier", "op": "eq", "value": "gold"}),
)
COUNTRIES = ("DE", "FR", "ES", "IT", "PT")
TIERS = ("gold", "silver", "bronze")
JUSTIFICATIONS = [{"kind": "fit", "criterion": "size", "text": "Large enough to need it."},
                  {"kind": "gap", "criterion": "region", "text": "Outside the core region."},
                  {"kind": "risk", "criterion": "budget", "text": "Budget unknown."}]

QUERIES = {
    "page": "query($p: String!, $c: String!) { project(slug: $p) { campaign(slug: $c) { "
            "accounts(first: 100) { edges { node { id account { id name } "
            "aiScore { score justifications { kind criterion text } } } } } } } }",
    "typename": "{ __typename }",
    "viewer": "{ viewer { email } }",
    "accounts": "query($p: String!) { project(slug: $p) { accounts(first: 50, orderBy: {field: EMPLOYEE_COUNT, "
                "direction: DESC}) { totalCount edges { node { id name employeeCount } } } } }",
    "campaigns": "query($p: String!) { project(slug: $p) { campaigns(first: 20) { edges { node { id name "
                 "staleScoreCount scoreDistribution { from to count } } } } } }",
    "filters": "query($p: String!) { project(slug: $p) { savedFilters { id name matchCount } } }",
}


# --- seeding ---------------------------------------------------------------------------------------------------

async def _columns(conn: Any, table: str) -> dict[str, str]:
    """PostgreSQL: column → type name, for casting the constants of an INSERT … SELECT."""
    rows = await conn.execute_query_dict(
        "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = $1 "
        "AND table_schema = current_schema()", [table])
    return {r["column_name"]: r["udt_name"] for r in rows}


async def _insert_series(conn: Any, model: Any, count: int, constants: dict[str, Any], expressions: dict[str, str]
                         ) -> None:
    """``count`` rows of ``model`` in one ``INSERT … SELECT`` over ``i`` = 1…count: ``expressions`` (SQL over ``i``)
    for some columns, ``constants`` for others, and every other column as a new row of the model has it (its
    defaults), so columns added to the model later need nothing here."""
    from outboundql.services.sql import is_postgres

    meta = model._meta
    template = model(**constants)
    values: dict[str, Any] = {}
    for name, column in meta.fields_db_projection.items():
        if name == meta.pk_attr or column in expressions:
            continue
        field = meta.fields_map[name]
        values[column] = field.to_db_value(getattr(template, name), template)
    pg = is_postgres(conn)
    types = await _columns(conn, meta.db_table) if pg else {}
    params = [f"${n}::{types[c]}" if pg else "?" for n, c in enumerate(values, 1)]
    columns = [*values, *expressions]
    select = ", ".join([*params, *expressions.values()])
    table = meta.db_table
    if pg:
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {select} FROM generate_series(1, {count}) AS g(i)'
    else:
        sql = (f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {count}) "
               f'INSERT INTO "{table}" ({", ".join(columns)}) SELECT {select} FROM g')
    await conn.execute_query(sql, list(values.values()))


async def _seed(size: int, url: str) -> dict[str, Any]:
    from tortoise.connection import connections

    from outboundql import models
    from outboundql.services import campaign_stats
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project
    from outboundql.services.sql import is_postgres
    from outboundql.services.tokens import CreateApiToken, create_api_token

    conn = connections.get("default")
    pg = is_postgres(conn)
    user = await models.User.create(email="bench@example.com", name="Bench")
    secret = (await create_api_token(user, CreateApiToken(name="bench"))).secret
    project = (await create_project(await Access.for_user(user), CreateProject(name="Bench"))).project
    product = await models.Product.create(project=project, name="Widget", slug="widget", description="Widgets",
                                          created_by=user)

    def pick(options: tuple[str, ...], step: int) -> str:
        whens = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(options))
        return f"CASE (i * {step}) % {len(options)} {whens} END"

    tier = f"'{{\"tier\": \"' || {pick(TIERS, 7)} || '\"}}'"
    await _insert_series(conn, models.Account, size, {"project_id": project.id, "name": "", "name_key": ""}, {
        "name": "'Account ' || i", "name_key": "'account ' || i", "domain": "'account' || i || '.example'",
        "employee_count": "CASE WHEN i % 10 = 0 THEN NULL ELSE ((i % 5000) * 7919) % 5000 END",
        "country": pick(COUNTRIES, 3), "custom_fields": f"({tier})::jsonb" if pg else tier,
    })
    first = (await conn.execute_query_dict(
        "SELECT MIN(id) AS id FROM account WHERE project_id = " + str(int(project.id))))[0]["id"]
    await _insert_series(conn, models.FitScore, size, {
        "project_id": project.id, "product_id": product.id, "account_id": first, "goal_key": "sales", "score": 0.0,
        "band": "mismatch", "justifications": JUSTIFICATIONS, "scorer": "rubric"}, {
        "account_id": f"{first - 1} + i", "score": "((i * 37) % 101) / 10.0",
        "band": "CASE WHEN (i * 37) % 101 >= 70 THEN 'excellent' WHEN (i * 37) % 101 >= 40 THEN 'moderate' "
                "ELSE 'mismatch' END",
    })
    campaigns = []
    for k in range(1 + OTHER_CAMPAIGNS):
        campaign = await models.Campaign.create(project=project, product=product, name=f"Campaign {k:02d}",
                                                slug=f"campaign-{k:02d}", goal_key="sales", created_by=user)
        campaigns.append(campaign)
        rows = size if k == 0 else OTHER_CAMPAIGN_SIZE
        await _insert_series(conn, models.CampaignAccount, rows, {"campaign_id": campaign.id, "account_id": first},
                             {"account_id": f"{first - 1} + i"})
    for name, expression in FILTERS:
        await models.SavedFilter.create(project=project, name=name, expression=expression, created_by=user)
    if pg:
        await conn.execute_script("ANALYZE")  # as autovacuum would have, before the repair's joins are planned
    await campaign_stats.recount([c.id for c in campaigns])  # the scores and counters kept on rows and campaigns
    if pg:
        await conn.execute_script("ANALYZE")
    return {"url": url, "secret": secret, "project_id": project.id, "project_slug": project.slug,
            "product_id": product.id, "campaign_id": campaigns[0].id, "campaign_slug": campaigns[0].slug}


# --- the server: the app plus the raw routes -------------------------------------------------------------------

def _raw_routes(seed: dict[str, Any]) -> list[Any]:
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from strawberry.relay import to_base64
    from tortoise.connection import connections

    from outboundql.services.tokens import hash_token

    token_hash = hash_token(seed["secret"])
    pid, cid, product_id = int(seed["project_id"]), int(seed["campaign_id"]), int(seed["product_id"])

    def db() -> Any:
        return connections.get("default")

    def pg() -> bool:
        return bool(db().capabilities.dialect == "postgres")

    def p(n: int) -> str:
        return f"${n}" if pg() else "?"

    def loads(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    order = "ca.effective_score DESC NULLS LAST, ca.id DESC"

    def first_by(table: str, columns: str, where: str, key: str, limit: int) -> str:
        """The first ``limit`` rows by ``key`` descending, NULLs last, each part read along its index: the rows
        with a key, then (should they be too few) those without."""
        return (f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where} AND {key} IS NOT NULL "
                f"ORDER BY {key} DESC, id DESC LIMIT {limit}) AS keyed UNION ALL "
                f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where} AND {key} IS NULL "
                f"ORDER BY id DESC LIMIT {limit}) AS unkeyed")

    async def page(request: Request) -> JSONResponse:
        rows = await db().execute_query_dict(
            "SELECT ca.id, a.id AS account_id, a.name, f.score, f.justifications FROM ("
            + first_by("campaign_account", "id, account_id, effective_score", f"campaign_id = {cid}",
                       "effective_score", 100)
            + ") ca JOIN account a ON a.id = ca.account_id LEFT JOIN fit_score f ON f.account_id = ca.account_id "
            f"AND f.product_id = {product_id} AND f.goal_key = 'sales' ORDER BY {order} LIMIT 100")
        edges = [{"node": {"id": to_base64("CampaignAccount", r["id"]),
                           "account": {"id": to_base64("Account", r["account_id"]), "name": r["name"]},
                           "aiScore": None if r["score"] is None else {
                               "score": r["score"], "justifications": loads(r["justifications"])}}} for r in rows]
        return JSONResponse({"data": {"project": {"campaign": {"accounts": {"edges": edges}}}}})

    async def typename(request: Request) -> JSONResponse:
        await db().execute_query_dict(f"SELECT user_id FROM api_token WHERE token_hash = {p(1)}", [token_hash])
        return JSONResponse({"data": {"__typename": "Query"}})

    async def viewer(request: Request) -> JSONResponse:
        rows = await db().execute_query_dict(
            f'SELECT u.email FROM api_token t JOIN "user" u ON u.id = t.user_id WHERE t.token_hash = {p(1)}',
            [token_hash])
        return JSONResponse({"data": {"viewer": {"email": rows[0]["email"]}}})

    async def accounts(request: Request) -> JSONResponse:
        rows = await db().execute_query_dict(
            first_by("account", "id, name, employee_count", f"project_id = {pid}", "employee_count", 50)
            + " ORDER BY employee_count DESC NULLS LAST, id DESC LIMIT 50")
        edges = [{"node": {"id": to_base64("Account", r["id"]), "name": r["name"],
                           "employeeCount": r["employee_count"]}} for r in rows]
        total = (await db().execute_query_dict(
            f"SELECT accounts AS n FROM project_counts WHERE project_id = {pid}"))[0]["n"]
        return JSONResponse({"data": {"project": {"accounts": {"totalCount": total, "edges": edges}}}})

    buckets = ", ".join(f"score_bucket_{i}" for i in range(10))

    async def campaigns(request: Request) -> JSONResponse:
        rows = await db().execute_query_dict(
            f"SELECT id, name, stale_score_count, {buckets} FROM campaign WHERE project_id = {pid} "
            "ORDER BY id LIMIT 20")
        edges = [{"node": {"id": to_base64("Campaign", r["id"]), "name": r["name"],
                           "staleScoreCount": r["stale_score_count"],
                           "scoreDistribution": [{"from": float(i), "to": float(i + 1), "count": r[f"score_bucket_{i}"]}
                                                 for i in range(10)]}} for r in rows]
        return JSONResponse({"data": {"project": {"campaigns": {"edges": edges}}}})

    async def filters(request: Request) -> JSONResponse:
        tier = "custom_fields->>'tier'" if pg() else "json_extract(custom_fields, '$.tier')"
        listed_sql = (
            f"SELECT json_agg(json_build_object('id', id, 'name', name) ORDER BY id) FROM saved_filter "
            f"WHERE project_id = {pid}" if pg() else
            "SELECT json_group_array(json_object('id', id, 'name', name)) FROM (SELECT id, name FROM "
            f"saved_filter WHERE project_id = {pid} ORDER BY id)")
        rows = await db().execute_query_dict(
            f"SELECT ({listed_sql}) AS filters, "
            "COUNT(*) FILTER (WHERE employee_count >= 1000) AS c0, COUNT(*) FILTER (WHERE country = 'DE') AS c1, "
            f"COUNT(*) FILTER (WHERE {tier} = 'gold') AS c2 FROM account WHERE project_id = {pid}")
        row = rows[0]
        listed = loads(row["filters"])
        return JSONResponse({"data": {"project": {"savedFilters": [
            {"id": to_base64("SavedFilter", f["id"]), "name": f["name"], "matchCount": row[f"c{k}"]}
            for k, f in enumerate(listed)]}}})

    handlers = {"page": page, "typename": typename, "viewer": viewer, "accounts": accounts, "campaigns": campaigns,
                "filters": filters}
    return [Route(f"/raw/{name}", handler, methods=["GET", "POST"]) for name, handler in handlers.items()]


def serve(seed_file: str, port: int) -> None:
    """The server process: the app as `outboundql serve` builds it (no embedded worker), with the raw routes."""
    import uvicorn

    from outboundql.app import create_app
    from outboundql.settings import Settings

    seed = json.loads(Path(seed_file).read_text())
    app = create_app(Settings(database_url=seed["url"], redis_url=None, log_level="warning",
                                    secret_key="bench-reads-only", rate_limit_points=0),  # wrk: one token, many calls
                     run_worker=False)
    for route in _raw_routes(seed):
        app.router.routes.append(route)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the driver ------------------------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(seed_file: Path) -> Iterator[str]:
    import httpx

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.reads", "--serve", str(seed_file), "--port", str(port)],
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _body(read: str, seed: dict[str, Any]) -> str:
    variables = {"p": seed["project_slug"], "c": seed["campaign_slug"]}
    used = {k: v for k, v in variables.items() if f"${k}" in QUERIES[read]}
    return json.dumps({"query": QUERIES[read], "variables": used})


def _normalized(answer: Any) -> Any:
    """The JSON with every list sorted (equal sort keys may come in either order) and no ``extensions``."""
    if isinstance(answer, dict):
        return {k: _normalized(v) for k, v in answer.items() if k != "extensions"}
    if isinstance(answer, list):
        return sorted((_normalized(v) for v in answer), key=lambda v: json.dumps(v, sort_keys=True))
    return answer


def _same_answer(base: str, read: str, seed: dict[str, Any]) -> str:
    import httpx

    headers = {"Authorization": f"Bearer {seed['secret']}", "Content-Type": "application/json"}
    ours = httpx.post(base + "/graphql", content=_body(read, seed), headers=headers, timeout=120).json()
    raw = httpx.post(base + f"/raw/{read}", content=_body(read, seed), headers=headers, timeout=120).json()
    if "errors" in ours:
        return f"ERRORS {ours['errors'][0].get('message')!r}"
    return "same" if _normalized(ours) == _normalized(raw) else "DIFFERENT"


WRITTEN = "filters after a write"
"""``filters`` read once after each of `ROUNDS` account updates (through the API), one request at a time."""
ROUNDS = 5


def _after_writes(base: str, read: str, seed: dict[str, Any]) -> tuple[float, float]:
    """Median ms of ``read``, ours and raw, each request right after an account of the project was updated through
    the API (what is remembered about the accounts no longer holds then)."""
    import httpx

    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {seed['secret']}"}, timeout=120)

    def post(path: str, query: str, variables: dict[str, Any]) -> Any:
        answer = client.post(path, json={"query": query, "variables": variables}).json()
        assert "errors" not in answer, answer
        return answer["data"]

    first = "query($p: String!) { project(slug: $p) { accounts(first: 1) { edges { node { id } } } } }"
    account = post("/graphql", first, {"p": seed["project_slug"]})["project"]["accounts"]["edges"][0]["node"]["id"]
    update = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { errors { message } } }"
    timings: dict[str, list[float]] = {"/graphql": [], f"/raw/{read}": []}
    for n in range(ROUNDS):
        for path, took in timings.items():
            post("/graphql", update, {"i": {"id": account, "city": f"Written {path} {n}"}})
            started = time.perf_counter()
            post(path, QUERIES[read], {"p": seed["project_slug"]})
            took.append((time.perf_counter() - started) * 1000)
    client.close()
    ours, raw = (sorted(took)[len(took) // 2] for took in timings.values())
    return ours, raw


def _wrk(url: str, body: str, token: str, seconds: int, connections: int) -> tuple[float, float]:
    """(median latency in ms, requests per second) of ``wrk`` POSTing ``body`` to ``url``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                     f'wrk.headers["Content-Type"] = "application/json"\n'
                     f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    try:
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "120s", "--latency",
                   "-s", script.name, url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], rps


async def _prepare(database: str, size: int, workdir: Path) -> tuple[dict[str, Any], str | None]:
    from tortoise import Tortoise

    from outboundql.goals.testing import registry_with
    from outboundql.models import triggers
    from outboundql.models.config import tortoise_config
    from outboundql.services import runtime
    from outboundql.settings import Settings
    from outboundql.workers import DramatiqJobs

    name = None
    if database == "postgres":
        name = f"outboundql_bench_reads_{uuid.uuid4().hex[:8]}"
        await pg_admin(f'CREATE DATABASE "{name}"')
        url = urlsplit(PG_BASE)._replace(path=f"/{name}").geturl()
    else:
        url = f"sqlite://{workdir / f'reads-{size}.db'}"
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    try:
        await triggers.generate_schemas(Tortoise)
        runtime.configure(runtime.Runtime(Settings(database_url=url, redis_url=None), registry_with(), DramatiqJobs()))
        started = time.perf_counter()
        seed = await _seed(size, url)
        print(f"  seeded {size:,} accounts in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        await Tortoise.close_connections()
    return seed, name


def bench(database: str, sizes: list[int], seconds: int, connections: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a stopped run still drops its database
    results: dict[int, dict[str, tuple[float, float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for size in sizes:
            print(f"{database}, {size:,} accounts:", flush=True)
            seed, pg_name = asyncio.run(_prepare(database, size, workdir))
            try:
                seed_file = workdir / f"seed-{size}.json"
                seed_file.write_text(json.dumps(seed))
                results[size] = {}
                with _server(seed_file) as base:
                    for read in READS:
                        check = _same_answer(base, read, seed)
                        body = _body(read, seed)
                        ours = _wrk(base + "/graphql", body, seed["secret"], seconds, connections)
                        raw = _wrk(base + f"/raw/{read}", body, seed["secret"], seconds, connections)
                        results[size][read] = (*ours, *raw)
                        print(f"  {read:<10} ours {ours[0]:9.2f} ms {ours[1]:8.1f} req/s | raw {raw[0]:9.2f} ms "
                              f"{raw[1]:8.1f} req/s | {ours[0] / raw[0]:5.1f}x latency, "
                              f"{raw[1] / ours[1]:5.1f}x throughput | answer {check}", flush=True)
                    ours_written, raw_written = _after_writes(base, "filters", seed)
                    results[size][WRITTEN] = (ours_written, 0.0, raw_written, 0.0)
                    print(f"  {WRITTEN}: ours {ours_written:9.2f} ms | raw {raw_written:9.2f} ms", flush=True)
            finally:
                if pg_name:
                    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    _table(database, sizes, results)


def _table(database: str, sizes: list[int], results: dict[int, dict[str, tuple[float, float, float, float]]]) -> None:
    print(f"\n| read ({database}) | " + " | ".join(f"{s:,}: ours / raw p50 (ratio)" for s in sizes)
          + f" | growth {sizes[0]:,} → {sizes[-1]:,} |")
    print("|---" * (len(sizes) + 2) + "|")
    for read in (*READS, WRITTEN):
        cells = []
        for size in sizes:
            ours, _, raw, _ = results[size][read]
            cells.append(f"{ours:.1f} / {raw:.1f} ms ({ours / raw:.1f}×)")
        growth = results[sizes[-1]][read][0] / results[sizes[0]][read][0]
        print(f"| {read} | " + " | ".join(cells) + f" | {growth:.1f}× |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated account counts")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per read and side")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the server process: its seed file
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    bench(args.database, [int(s) for s in args.sizes.split(",")], args.seconds, args.connections)


if __name__ == "__main__":
    main()
