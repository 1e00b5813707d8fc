"""Benchmarks (``python -m bench.<name>``): each prints its timing beside the fastest raw equivalent."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

PG_BASE = os.environ.get("OUTBOUNDQL_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


async def pg_admin(sql: str) -> None:
    """Run ``sql`` on the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(urlsplit(PG_BASE)._replace(scheme="postgresql", path="/postgres").geturl())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
