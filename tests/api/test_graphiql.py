"""GraphiQL with no internet: the page loads every file from this server, each the file strawberry pins (its
integrity hash), cached for good under a versioned path. (tests/browser/ uses the page in a real Chromium.)"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from outboundql.app import create_app
from outboundql.goals.testing import registry_with
from outboundql.gql import graphiql
from outboundql.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html"}
_LOADED = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?P<url>[^"]+)"[^>]*\bintegrity="(?P<sri>[^"]+)"',
                     re.DOTALL)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


async def test_the_page_loads_every_file_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "unpkg" not in page.text
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', page.text), "an asset from another host"

    loaded = {m["url"]: m["sri"] for m in _LOADED.finditer(page.text)}
    assert len(loaded) == len(graphiql.assets()) == 7  # react, react-dom, js-cookie, graphiql (js, css), explorer (2)
    for url, integrity in loaded.items():
        assert url.startswith("/static/graphiql/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert sri(asset.content) == integrity, f"{url} is not the file strawberry pins"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/css" if url.endswith(".css") else "javascript"
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])


async def test_the_page_names_its_files_under_the_servers_path_prefix(db: Any) -> None:
    app = create_app(Settings(database_url="sqlite://:memory:", redis_url=None), manage_db=False, run_worker=False,
                     goals=registry_with())
    transport = httpx.ASGITransport(app=app, root_path="/outbound")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as prefixed:
        page = await prefixed.get("/graphql", headers=HTML)
    urls = [m["url"] for m in _LOADED.finditer(page.text)]
    assert urls and all(url.startswith("/outbound/static/graphiql/") for url in urls), urls


async def test_a_version_not_shipped_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/graphiql/graphiql@0.0.1/graphiql.min.js")).status_code == 404


def test_the_shipped_files_are_the_ones_strawberry_pins_with_their_licences() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts/graphiql_assets.py"), "check"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 7 files")
