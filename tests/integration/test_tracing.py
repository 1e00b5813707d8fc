"""OpenTelemetry tracing: on with the standard ``OTEL_*`` variables (a span per request, per GraphQL operation),
and free when they are unset: nothing of tracing is imported (redis-py imports the OpenTelemetry API by itself
when it is installed, for its own optional metrics). Each case in a fresh interpreter, as a server
process starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from outboundql import tracing
from tests.integration.conftest import child_env

pytestmark = pytest.mark.integration  # a process per case

SERVE_ONE_REQUEST = """
import asyncio, json, os, sys
from starlette.testclient import TestClient
from outboundql.app import app_from_env
from outboundql.models.config import apply_migrations
asyncio.run(apply_migrations(os.environ["OUTBOUNDQL_DATABASE_URL"]))
with TestClient(app_from_env()) as client:
    answer = client.post("/graphql", json={"query": "query Hello { __typename }", "operationName": "Hello"})
assert answer.json()["data"] == {"__typename": "Query"}, answer.text
ours = ("opentelemetry.instrumentation", "opentelemetry.sdk.trace", "opentelemetry.exporter",
        "strawberry.extensions.tracing.opentelemetry")
print(json.dumps({"otel_imported": sorted(m for m in sys.modules if m.startswith(ours))}))
"""


def _serve_one_request(tmp_path: Path, **otel: str) -> subprocess.CompletedProcess[str]:
    env = child_env(OUTBOUNDQL_DATABASE_URL=f"sqlite://{tmp_path / 'x.db'}", **otel)
    env = {k: v for k, v in env.items() if not k.startswith("OTEL_") or k in otel}
    result = subprocess.run([sys.executable, "-c", SERVE_ONE_REQUEST], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_off_unless_the_standard_variables_ask() -> None:
    assert not tracing.enabled({})
    assert tracing.enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.enabled({"OTEL_TRACES_EXPORTER": "console"})
    assert not tracing.enabled({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert not tracing.enabled({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"})


def test_tracing_off_imports_no_tracing_code(tmp_path: Path) -> None:
    result = _serve_one_request(tmp_path)
    assert json.loads(result.stdout.splitlines()[-1]) == {"otel_imported": []}


def test_tracing_on_exports_a_span_per_request_and_operation(tmp_path: Path) -> None:
    result = _serve_one_request(tmp_path, OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="outboundql-test")
    names = [line.split('"name": "', 1)[1].split('"', 1)[0] for line in result.stdout.splitlines()
             if line.lstrip().startswith('"name": "')]
    assert "POST /graphql" in names, result.stdout  # the ASGI instrumentation's server span
    assert any(name.startswith("GraphQL Query") for name in names), names  # strawberry's operation span
    assert '"service.name": "outboundql-test"' in result.stdout
