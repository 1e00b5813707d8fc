"""Prometheus metrics of the API and the job workers, and the ``/metrics`` endpoint that serves them.

Several processes, one scrape: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``outboundql serve`` and
``outboundql worker`` set it for their processes, see `outboundql.metrics_setup`), every process writes its
samples to files there and a scrape sums them (prometheus-client's multiprocess mode); otherwise the process's
own registry is served. The variable must be set before ``prometheus_client`` is first imported.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds: GraphQL operations are mostly milliseconds; jobs run up to minutes.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0)

GRAPHQL_REQUESTS = Counter(
    "outboundql_graphql_requests", "GraphQL operations answered, by operation name and outcome (ok, error).",
    ["operation", "type", "outcome"])
GRAPHQL_DURATION = Histogram(
    "outboundql_graphql_request_duration_seconds", "Time to answer a GraphQL operation, by operation name.",
    ["operation", "type"], buckets=REQUEST_BUCKETS)
GRAPHQL_ERRORS = Counter(
    "outboundql_graphql_errors", "Top-level GraphQL errors by code (`extensions.code`; INTERNAL when unexpected).",
    ["code"])
JOBS = Counter("outboundql_jobs", "Jobs processed by actor and outcome (done, failed, skipped).", ["actor", "outcome"])
JOB_DURATION = Histogram("outboundql_job_duration_seconds", "Time a job ran, by actor.", ["actor"],
                         buckets=JOB_BUCKETS)
ACCOUNTS_SCORED = Counter("outboundql_accounts_scored", "Accounts given a fit score by scoring runs.")
IMPORT_ROWS = Counter("outboundql_import_rows", "CSV rows processed by import jobs.")
ATTEMPTS_SETTLED = Counter("outboundql_attempts_settled", "Outreach attempts settled, by outcome.", ["outcome"])
DB_POOL = Gauge("outboundql_db_pool_connections",
                "Database pool connections by state (in_use, idle, max), summed over live processes (PostgreSQL).",
                ["state"], multiprocess_mode="livesum")


def registry() -> Any:
    """What a scrape reads: the sum over the processes writing to the multiprocess directory, or this process's."""
    if os.environ.get(MULTIPROC_ENV):
        collected = CollectorRegistry()
        _multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]  # untyped in the library
        return collected
    return REGISTRY


def exposition() -> bytes:
    return generate_latest(registry())


async def serve_metrics(request: Request) -> Response:
    """``GET /metrics``: Prometheus text format."""
    from starlette.responses import Response

    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def process_exited(pid: int | None = None) -> None:
    """Drop the live gauges of a process that ends (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]


def observe_pool() -> None:
    """Record the database pool's use (asyncpg pools; SQLite has none)."""
    try:
        from tortoise.connection import connections

        pool = getattr(connections.get("default"), "_pool", None)
    except Exception:  # no ORM here (yet)
        return
    if pool is None or not hasattr(pool, "get_size"):
        return
    size, idle = pool.get_size(), pool.get_idle_size()
    DB_POOL.labels("in_use").set(size - idle)
    DB_POOL.labels("idle").set(idle)
    DB_POOL.labels("max").set(pool.get_max_size())
