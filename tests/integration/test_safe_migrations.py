"""Migrations a deploy can rely on: ``outboundql migrate`` says what it applied, waits for a concurrent run
(PostgreSQL advisory lock) and analyses what it changed; ``migrate --check`` fails while migrations are
pending; ``/readyz`` says 503 while the schema is behind; ``serve`` on PostgreSQL refuses a database behind
the code unless ``--migrate``."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from outboundql.app import create_app
from outboundql.models.config import apply_migrations
from outboundql.models.migrating import code_migrations
from outboundql.settings import Settings
from tests.integration.conftest import Child, child_env, cli_command, free_port, pg_fetch, run_cli, wait_until_healthy

pytestmark = pytest.mark.integration


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def _applied(output: str) -> list[str]:
    return [line.removeprefix("Applying ").removesuffix("…") for line in output.splitlines()
            if line.startswith("Applying ")]


def test_migrate_says_what_it_applied_and_check_fails_while_pending(tmp_path: Path) -> None:
    env = child_env(OUTBOUNDQL_DATABASE_URL=f"sqlite://{tmp_path / 'x.db'}")
    every = code_migrations()

    check = run_cli("migrate", "--check", cwd=tmp_path, env=env)
    assert check.returncode == 1, check
    assert [line.removeprefix("Pending: ") for line in check.stdout.splitlines()] == every
    assert f"{len(every)} migration(s) pending" in check.stderr

    out = _ok(run_cli("migrate", cwd=tmp_path, env=env))
    assert _applied(out) == every and "up to date" not in out
    assert f"Applied {len(every)} migration(s); the database is at {every[-1]}." in out

    assert "up to date" in _ok(run_cli("migrate", "--check", cwd=tmp_path, env=env))
    again = _ok(run_cli("migrate", cwd=tmp_path, env=env))
    assert _applied(again) == [] and "up to date" in again


def test_readyz_answers_503_with_the_reason_while_the_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'behind.db'}"
    app = create_app(Settings(database_url=url, redis_url=None), run_worker=False)
    with TestClient(app) as client:
        behind = client.get("/readyz")
        assert behind.status_code == 503, behind.text
        schema = behind.json()["checks"]["schema"]
        assert schema.startswith(f"behind the code: {len(code_migrations())} migration(s) pending (0001_initial")
        assert schema.endswith("run `outboundql migrate`")

        asyncio.run(apply_migrations(url))
        ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "ok"}


def test_two_concurrent_migrate_runs_on_postgres_both_succeed_and_apply_each_migration_once(
    tmp_path: Path, empty_pg_url: str,
) -> None:
    env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url)
    runs = [subprocess.Popen([*cli_command(), "migrate"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True) for _ in range(2)]
    try:
        outputs = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            run.kill()
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, f"stdout: {out}\nstderr: {err}"
    applied = sorted(name for out, _ in outputs for name in _applied(out))
    assert applied == code_migrations(), outputs  # each once, by whichever run took the lock first
    assert any("up to date" in out for out, _ in outputs), outputs  # the other waited, then found nothing to do

    rows = asyncio.run(pg_fetch(empty_pg_url, "SELECT relname, last_analyze FROM pg_stat_user_tables "
                                              "WHERE schemaname = current_schema()"))
    analyzed = {row["relname"] for row in rows if row["last_analyze"] is not None}
    assert {"account", "campaign", "api_token", "user"} <= analyzed, rows
    assert _ok(run_cli("migrate", "--check", cwd=tmp_path, env=env))


def test_serve_on_postgres_refuses_a_database_behind_the_code_unless_told_to_migrate(
    tmp_path: Path, empty_pg_url: str,
) -> None:
    env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url)
    refused = run_cli("serve", cwd=tmp_path, env=env)
    assert refused.returncode == 1, refused
    assert "the database is behind the code" in refused.stderr and "outboundql serve --migrate" in refused.stderr

    port = free_port()  # through $PORT, as platforms that assign the port set it
    child = Child.start([*cli_command(), "serve", "--migrate"], cwd=tmp_path, env={**env, "PORT": str(port)})
    try:
        wait_until_healthy(child, port)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    finally:
        child.stop()
    assert ready.status_code == 200 and ready.json()["checks"]["schema"] == "ok", ready.text
    assert f"Applied migration {code_migrations()[-1]}." in child.output
