"""Distributed mode: a CSV uploaded to an API process on PostgreSQL + Redis is imported by an ``outboundql worker``
process (queue ``imports``), in batches, deduplicated against accounts already there."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import pytest
from gql.transport.httpx import HTTPXAsyncTransport

from gql import Client, FileVar, GraphQLRequest
from tests.integration.conftest import child_env, pg_fetch, run_cli, running_server, running_worker

pytestmark = pytest.mark.integration

DEADLINE = 90.0
PROJECTS = "query { projects(first: 1) { edges { node { id } } } }"
IMPORT = """mutation($input: ImportAccountsInput!) { importAccounts(input: $input) {
  importJob { id status } errors { code field message } } }"""
JOB = """query($id: ID!) { node(id: $id) { ... on ImportJob {
  status rows created merged failed error progress { done total } rowErrors { line reason } } } }"""


def _ok(result: Any) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return str(result.stdout)


def _client(url: str, token: str) -> Client:
    return Client(transport=HTTPXAsyncTransport(url=url, timeout=60, headers={
        "Authorization": f"Bearer {token}", "apollo-require-preflight": "true"}))


async def test_the_worker_process_imports_an_uploaded_file(tmp_path: Path, empty_pg_url: str,
                                                           private_redis_url: str) -> None:
    env = child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url, OUTBOUNDQL_REDIS_URL=private_redis_url)
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    _ok(run_cli("create-user", "--email", "ops@example.com", "--name", "Ops", cwd=tmp_path, env=env))
    _ok(run_cli("create-project", "--name", "Imports", "--owner", "ops@example.com", cwd=tmp_path, env=env))
    token = _ok(run_cli("create-token", "--email", "ops@example.com", cwd=tmp_path, env=env)).strip()
    rows = 1_200  # three batches
    csv = "Company;Website;City;Contact email\n" + "".join(
        f"Company {i};c{i}.example;Town {i % 9};person{i}@c{i}.example\n" for i in range(rows))
    csv += "Company 7;c7.example;Town 7;person7@c7.example\n;nameless.example;;\n"  # a duplicate, a bad row
    with running_server(cwd=tmp_path, env=env) as server, \
            running_worker("--processes", "1", "--threads", "2", cwd=tmp_path, env=env) as worker:
        async with _client(server.url, token) as session:
            project = (await session.execute(GraphQLRequest(PROJECTS)))["projects"]["edges"][0]["node"]["id"]

            async def upload() -> dict[str, Any]:
                variables = {"input": {"projectId": project, "file": FileVar(
                    io.BytesIO(csv.encode("cp1252")), filename="leads.csv", content_type="text/csv")}}
                payload: dict[str, Any] = (await session.execute(GraphQLRequest(IMPORT, variable_values=variables),
                                                                 upload_files=True))["importAccounts"]
                assert payload["errors"] == [], payload
                return payload["importJob"]

            async def finished(job_id: str) -> dict[str, Any]:
                end = time.monotonic() + DEADLINE
                while time.monotonic() < end:
                    assert worker.proc.poll() is None, f"the worker exited:\n{worker.output}"
                    job: dict[str, Any] = (await session.execute(GraphQLRequest(JOB, variable_values={
                        "id": job_id})))["node"]
                    if job["status"] in ("COMPLETED", "FAILED"):
                        return job
                    await asyncio.sleep(0.2)
                raise AssertionError(f"the import did not finish within {DEADLINE}s:\n{worker.output}")

            first = await finished((await upload())["id"])
            again = await finished((await upload())["id"])
        assert "Traceback" not in worker.output, worker.output
    assert (first["status"], first["rows"], first["created"], first["merged"], first["failed"]) == (
        "COMPLETED", rows + 2, rows, 1, 1)
    assert first["progress"] == {"done": rows + 2, "total": rows + 2}
    assert [e["line"] for e in first["rowErrors"]] == [rows + 3]
    assert (again["created"], again["merged"], again["failed"]) == (0, rows + 1, 1)
    counted = await pg_fetch(empty_pg_url, "SELECT (SELECT COUNT(*) FROM account) AS accounts, "
                                           "(SELECT COUNT(*) FROM contact) AS contacts")
    assert (counted[0]["accounts"], counted[0]["contacts"]) == (rows, rows)
