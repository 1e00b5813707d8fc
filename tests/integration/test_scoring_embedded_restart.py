"""The embedded default: a server killed mid-run (its in-memory job messages die with it) resumes
the scoring run from the database when it starts again, and finishes it with exactly one FitScore
per account."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.integration.conftest import child_env, run_cli, running_server
from tests.integration.test_scoring_workers import DEADLINE, _campaign_with_accounts, _ok, _score

pytestmark = pytest.mark.integration


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return list(conn.execute(sql))


async def test_a_server_killed_mid_run_resumes_the_run_when_it_starts_again(tmp_path: Path) -> None:
    count = 1500
    db = tmp_path / "outboundql.db"
    env = child_env(OUTBOUNDQL_DATABASE_URL=f"sqlite:///{db}", OUTBOUNDQL_SCORING_BATCH_SIZE="5")
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    _ok(run_cli("create-user", "--email", "ops@example.com", "--name", "Ops", cwd=tmp_path, env=env))
    _ok(run_cli("create-project", "--name", "Scoring", "--owner", "ops@example.com", cwd=tmp_path, env=env))
    token = _ok(run_cli("create-token", "--email", "ops@example.com", cwd=tmp_path, env=env)).strip()

    with running_server(cwd=tmp_path, env=env) as server:
        campaign = await _campaign_with_accounts(server.url, token, count)
        assert await _score(server.url, token, campaign) == count
        end = time.monotonic() + DEADLINE
        while not _query(db, "SELECT done FROM scoring_run")[0][0]:
            assert time.monotonic() < end, f"no progress:\n{server.child.output}"
            await asyncio.sleep(0.02)
        os.killpg(server.child.proc.pid, signal.SIGKILL)
        server.child.proc.wait(timeout=30)
    done, status = _query(db, "SELECT done, status FROM scoring_run")[0]
    assert status == "running" and 0 < int(done) < count, (done, status)  # type: ignore[call-overload]

    with running_server(cwd=tmp_path, env=env) as restarted:
        end = time.monotonic() + DEADLINE
        while _query(db, "SELECT status FROM scoring_run")[0][0] == "running":
            assert time.monotonic() < end, f"the run was not resumed:\n{restarted.child.output}"
            await asyncio.sleep(0.2)
        assert "Traceback" not in restarted.child.output, restarted.child.output

    assert _query(db, "SELECT COUNT(*), COUNT(DISTINCT account_id) FROM fit_score") == [(count, count)]
    assert _query(db, "SELECT status, done, failed, total FROM scoring_run") == [("completed", count, 0, count)]
    assert _query(db, "SELECT scoring_status, scored_accounts FROM campaign") == [("completed", count)]
