"""Helpers for tests that run real processes: the ``outboundql`` command, API servers, workers.

Every child process is started in its own session and killed (its whole process group) in a
``finally`` block; every wait polls with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests import isolation

ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE = 90.0  # seconds; generous for slow CI machines, never asserted
COMMAND_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_command() -> list[str]:
    """The installed console script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("outboundql")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from outboundql.cli import main; main()"]


def child_env(**settings: str) -> dict[str, str]:
    """This process's environment without any OUTBOUNDQL_* setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTBOUNDQL_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cli_command(), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT, check=False)


def stop_process(proc: subprocess.Popen[str], grace: float = 15.0) -> None:
    """SIGTERM the process group we created, then SIGKILL it if it is still there after ``grace``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # leftover children (dramatiq forks)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


@dataclass
class Child:
    """A running child process whose combined output is collected line by line."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @classmethod
    def start(cls, args: list[str], *, cwd: Path, env: dict[str, str]) -> Child:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        child = cls(proc)
        child.reader = threading.Thread(target=child._read, daemon=True)
        child.reader.start()
        return child

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        stop_process(self.proc)
        if self.reader is not None:
            self.reader.join(timeout=10)  # EOF follows the process's death
        if self.proc.stdout is not None and (self.reader is None or not self.reader.is_alive()):
            self.proc.stdout.close()


@dataclass
class Server:
    child: Child
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        for line in self.child.lines:
            if line.startswith("API token: "):
                return line.removeprefix("API token: ").strip()
        raise AssertionError(f"no 'API token:' line in the server output:\n{self.child.output}")


def wait_until_healthy(child: Child, port: int, deadline: float = STARTUP_DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if child.proc.poll() is not None:
            raise AssertionError(f"server exited with {child.proc.returncode}:\n{child.output}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server did not answer /healthz within {deadline}s:\n{child.output}")


@contextlib.contextmanager
def running_server(*extra: str, cwd: Path, env: dict[str, str]) -> Iterator[Server]:
    """``outboundql serve --port <free> *extra`` until the block ends (always stopped)."""
    port = free_port()
    child = Child.start([*cli_command(), "serve", "--port", str(port), *extra], cwd=cwd, env=env)
    try:
        wait_until_healthy(child, port)
        yield Server(child, port)
    finally:
        child.stop()


@contextlib.contextmanager
def running_worker(*extra: str, cwd: Path, env: dict[str, str]) -> Iterator[Child]:
    child = Child.start([*cli_command(), "worker", *extra], cwd=cwd, env=env)
    try:
        yield child
    finally:
        child.stop()


async def pg_fetch(url: str, sql: str) -> list[Any]:
    """Rows of one query on the PostgreSQL database at ``url``, in its schema (a connection of its own)."""
    conn = await isolation.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
def fresh_prepared_sql() -> Iterator[None]:
    """tortoise caches prepared INSERT/UPDATE/DELETE SQL per (connection name, table), and every database is called
    "default": an integration test that opens the ORM on its own database (PostgreSQL after SQLite, or the other
    way) must not reuse the statements of the test before it, nor leave its own to the test after it."""
    EXECUTOR_CACHE.clear()
    yield
    EXECUTOR_CACHE.clear()


@pytest.fixture
async def empty_pg_url(pg_url: str) -> AsyncIterator[str]:
    """A new, empty schema in the test database (dropped afterwards), as a database URL that servers,
    workers and ``outboundql migrate`` given it work inside (``?schema=…``)."""
    url = await isolation.create_schema_url(pg_url)
    try:
        yield url
    finally:
        await isolation.drop_schema_url(url)


@pytest.fixture
def private_redis_url(redis_url: str) -> Iterator[str]:
    """The Redis DB the test URL names, flushed before and after (a clean queue; dramatiq keys live per
    DB). Only that DB: tests never pick another DB number."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
        yield redis_url
    finally:
        client.flushdb()
        client.close()
