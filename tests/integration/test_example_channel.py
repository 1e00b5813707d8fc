"""The example channel plugin (examples/outboundql-channel-smsgate) is found through its entry point like an
installed distribution, its own test suite passes with the host's testing kit, and a campaign's SMS step is
delivered through it, configured with configureChannel, to a gateway started on 127.0.0.1.

Its entry point is made real package metadata without pip-installing anything (as for the example goal plugin): a
dist-info directory generated from the example's pyproject.toml, put on ``sys.path`` next to the example's ``src/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from outboundql.channels.registry import collect_channels
from outboundql.goals.manager import make_plugin_manager
from tests.integration.conftest import COMMAND_TIMEOUT, child_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "outboundql-channel-smsgate"
EXAMPLE_SRC = EXAMPLE / "src"
MODULE = "outboundql_channel_smsgate"
SOURCE = "outboundql-channel-smsgate 0.1.0"


def write_dist_info(directory: Path) -> Path:
    """The example's ``<name>-<version>.dist-info`` (METADATA, entry_points.txt), from its pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    dist_info = directory / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist_info / "entry_points.txt").write_text("\n".join(
        f"[{group}]\n" + "".join(f"{ep} = {target}\n" for ep, target in entries.items())
        for group, entries in project["entry-points"].items()))
    return dist_info


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    write_dist_info(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(MODULE, None)


def test_generated_metadata_names_the_module_under_the_plugin_group(installed: Path) -> None:
    entry_points = (installed / "outboundql_channel_smsgate-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert entry_points == "[outboundql.goals]\nsmsgate = outboundql_channel_smsgate\n"


def test_the_installed_example_is_a_channel_with_its_distribution_as_source(installed: Path) -> None:
    registry = collect_channels(make_plugin_manager())
    assert registry.source("smsgate") == SOURCE
    assert registry.source("email") == "built-in"
    assert registry.get("smsgate") is not None and registry.get("smsgate").serves == frozenset({"sms", "whatsapp"})
    blocked = collect_channels(make_plugin_manager(blocked=["smsgate"]))
    assert "smsgate" not in blocked and "log" in blocked


@pytest.mark.integration
def test_example_test_suite_passes(installed: Path) -> None:
    paths = [str(installed), str(EXAMPLE_SRC), os.environ.get("PYTHONPATH", "")]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests" / "test_smsgate.py")],
        cwd=EXAMPLE, env=child_env(PYTHONPATH=os.pathsep.join(p for p in paths if p)), capture_output=True,
        text=True, timeout=COMMAND_TIMEOUT, check=False,
    )
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout
    assert not re.search(r"failed|error|warning", result.stdout, re.I), result.stdout


class Gateway:
    """An SMS gateway on 127.0.0.1 that accepts every message and records it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({"json": body, "authorization": self.headers["Authorization"]})
                data = json.dumps({"id": f"gw-{len(gateway.received)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway()
    thread = threading.Thread(target=gateway.server.serve_forever, daemon=True)
    thread.start()
    yield gateway
    gateway.server.shutdown()
    gateway.server.server_close()
