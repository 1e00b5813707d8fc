"""The ``outboundql`` command, run as a real process on a SQLite file of a temporary directory."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from outboundql.app import create_app
from outboundql.models.config import tortoise_config
from outboundql.settings import Settings
from tests.integration.conftest import child_env, run_cli

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration  # real processes (no services needed: SQLite in a temp directory)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def db_url(workdir: Path) -> str:
    return f"sqlite://{workdir / 'x.db'}"  # sqlite:///abs/path


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    return child_env(OUTBOUNDQL_DATABASE_URL=db_url)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def test_migrate_creates_the_tables_and_is_repeatable(workdir: Path, env: dict[str, str]) -> None:
    assert "Applied " in _ok(run_cli("migrate", cwd=workdir, env=env))
    conn = sqlite3.connect(workdir / "x.db")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"user", "project", "account", "api_token", "tortoise_migrations"} <= tables
    assert "up to date" in _ok(run_cli("migrate", cwd=workdir, env=env))


async def test_create_user_project_and_token_that_authenticates(workdir: Path, env: dict[str, str],
                                                                db_url: str) -> None:
    out = _ok(run_cli("create-user", "--email", "Ada@Example.com", "--name", "Ada", cwd=workdir, env=env))
    assert "ada@example.com" in out
    out = _ok(run_cli("create-project", "--name", "Launch Plan", "--owner", "ada@example.com",
                      cwd=workdir, env=env))
    assert "Launch Plan" in out and "launch-plan" in out

    result = run_cli("create-token", "--email", "ada@example.com", "--name", "ci", cwd=workdir, env=env)
    token = _ok(result).strip()
    assert result.stdout == token + "\n", "create-token must print only the token"
    assert token.startswith("oql_") and " " not in token

    app = create_app(Settings(database_url=db_url, redis_url=None), manage_db=False, run_worker=False)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(db_url))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            query = "query { viewer { email memberships { role project { slug } } } }"
            response = await client.post("/graphql", json={"query": query},
                                         headers={"Authorization": f"Bearer {token}"})
            bad = await client.post("/graphql", json={"query": query},
                                    headers={"Authorization": "Bearer oql_not-a-token"})
    body = response.json()
    assert not body.get("errors"), body
    assert body["data"]["viewer"] == {
        "email": "ada@example.com", "memberships": [{"role": "OWNER", "project": {"slug": "launch-plan"}}]}
    assert bad.json().get("errors"), bad.text


def test_duplicate_user_is_an_error(workdir: Path, env: dict[str, str]) -> None:
    _ok(run_cli("create-user", "--email", "bob@example.com", cwd=workdir, env=env))
    result = run_cli("create-user", "--email", "bob@example.com", cwd=workdir, env=env)
    assert result.returncode != 0
    assert "already exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_owner_is_an_error(workdir: Path, env: dict[str, str]) -> None:
    result = run_cli("create-project", "--name", "Orphan", "--owner", "nobody@example.com", cwd=workdir, env=env)
    assert result.returncode != 0
    assert "nobody@example.com" in result.stderr and "create-user" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_for_unknown_user_is_an_error(workdir: Path, env: dict[str, str]) -> None:
    result = run_cli("create-token", "--email", "ghost@example.com", cwd=workdir, env=env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "ghost@example.com" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_schema_equals_the_committed_sdl(workdir: Path, env: dict[str, str]) -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert _ok(run_cli("export-schema", cwd=workdir, env=env)) == committed
    _ok(run_cli("export-schema", "-o", "out.graphql", cwd=workdir, env=env))
    assert (workdir / "out.graphql").read_text() == committed


def test_worker_without_redis_exits_with_a_message(workdir: Path, env: dict[str, str]) -> None:
    result = run_cli("worker", "--processes", "1", "--threads", "1", cwd=workdir, env=env)
    assert result.returncode != 0
    assert "OUTBOUNDQL_REDIS_URL" in result.stderr


def test_several_server_processes_on_sqlite_are_refused(workdir: Path, env: dict[str, str]) -> None:
    result = run_cli("serve", "--workers", "2", "--port", "1", cwd=workdir, env=env)
    assert result.returncode != 0
    assert "OUTBOUNDQL_REDIS_URL" in result.stderr
