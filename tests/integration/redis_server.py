"""A private ``redis-server`` on a free port, for tests that stop, hang or restart Redis (never the shared one).

    with RedisServer.started(tmp_path) as redis_server:
        env = child_env(OUTBOUNDQL_REDIS_URL=redis_server.url, ...)
        ...
        redis_server.stop()      # Redis down: connections refused
        redis_server.start()     # back, empty (no persistence)

Not a test module; every wait polls with a deadline, and the server is always stopped at the end.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import free_port, stop_process

START_DEADLINE = 20.0  # seconds; never asserted as a speed


@dataclass
class RedisServer:
    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    @contextlib.contextmanager
    def started(cls, directory: Path) -> Iterator[RedisServer]:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed; the Redis fault tests start a private one.")
        server = cls(directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    def start(self) -> None:
        """Start (again) on the same port, with no persistence: a restarted Redis is empty."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        end = time.monotonic() + START_DEADLINE
        while not self._answers():
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode} (port {self.port})")
            assert time.monotonic() < end, f"redis-server did not answer within {START_DEADLINE}s"
            time.sleep(0.05)

    def stop(self) -> None:
        """Redis down: connections to its port are refused from now on."""
        if self.proc is not None:
            stop_process(self.proc)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
