"""In a real headless Chromium with no network beyond loopback: GraphiQL renders from the files this server ships,
a query typed into it returns data with the Authorization header set in its Headers tab, a subscription started
from it receives events; and a page on another local origin calls the API (fetch with a preflight, a websocket)
when ``OUTBOUNDQL_ALLOWED_ORIGINS`` lists it and is blocked when not.

One demo server (SQLite) and one browser for the module. Chromium comes from Debian (``apt-get install chromium``;
``.ci/run`` installs it when missing); without it these tests skip, or fail when ``CI`` is set."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from tests.browser import chromium
from tests.browser.chromium import Browser, Page
from tests.integration.conftest import Server, child_env, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROJECTS = "query Projects { projects(first: 1) { edges { node { id } } } }"
CREATE_ACCOUNT = "mutation Create($input: CreateAccountInput!) { createAccount(input: $input) { errors { code } } }"


class _OnePage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>app</title><p>a browser app on another origin</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def app_page_port() -> Iterator[int]:
    """An HTTP server of one page on loopback: ``http://localhost:<port>`` (allowed) and ``http://127.0.0.1:<port>``
    (another origin, not allowed) are the same page from two origins."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OnePage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, app_page_port: int) -> Iterator[Server]:
    if chromium.executable() is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = child_env(OUTBOUNDQL_ALLOWED_ORIGINS=json.dumps([f"http://localhost:{app_page_port}"]))
    with running_server("--demo", cwd=tmp_path_factory.mktemp("browser"), env=env) as srv:
        yield srv


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(server: Server, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    async with chromium.launched(tmp_path_factory.mktemp("chromium-profile")) as launched:
        yield launched


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def graphiql(browser: Browser, server: Server) -> Page:
    """GraphiQL, loaded once with no network and the demo token typed into its Headers tab."""
    page = await browser.new_page()
    await page.goto(server.url)
    await page.wait_for("document.querySelector('.graphiql-query-editor .CodeMirror')")
    await page.evaluate("[...document.querySelectorAll('.graphiql-editor-tools button')]"
                        ".find(b => b.textContent.trim() === 'Headers').click()")
    await _type_into(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
                     json.dumps({"Authorization": f"Bearer {server.token}"}))
    return page


async def _type_into(page: Page, selector: str, text: str) -> None:
    """Replace the text of the CodeMirror editor at ``selector`` by typing ``text`` into it."""
    await page.wait_for(f"document.querySelector({json.dumps(selector)})")
    await page.evaluate(f"(() => {{ const cm = document.querySelector({json.dumps(selector)}).CodeMirror;"
                        " cm.focus(); cm.execCommand('selectAll'); })()")
    await page.type_text(text)
    typed = await page.evaluate(f"document.querySelector({json.dumps(selector)}).CodeMirror.getValue()")
    assert typed == text


async def _run(page: Page, query: str) -> None:
    await _type_into(page, ".graphiql-query-editor .CodeMirror", query)
    # GraphiQL reads the operation from the editor after a pause; the page then puts the query in its URL (`?q=`)
    await page.wait_for(f"new URLSearchParams(location.search).get('q') === {json.dumps(query)}")
    await page.evaluate("document.querySelector('.graphiql-execute-button').click()")


RESPONSE = "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"


def _local(url: str, server: Server) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "data" or (parts.hostname, parts.port) == ("127.0.0.1", server.port)


async def test_graphiql_renders_from_this_server_alone(graphiql: Page, server: Server) -> None:
    assert await graphiql.evaluate("typeof GraphiQL === 'function' && typeof Cookies === 'object'")
    assert await graphiql.evaluate("!!document.querySelector('.graphiql-sidebar')")
    assert len([url for url in graphiql.requests if "/static/graphiql/" in url]) == 7, graphiql.requests
    assert all(_local(url, server) for url in graphiql.requests), graphiql.requests
    assert graphiql.errors == []  # no "Cookies is not defined", no failed asset, no integrity mismatch


async def test_a_typed_query_returns_data_with_the_token_from_the_headers_tab(graphiql: Page) -> None:
    await _run(graphiql, "query Viewer { viewer { email } }")
    response = json.loads(await graphiql.wait_for(f"{RESPONSE}.includes('email') && {RESPONSE}"))
    assert response["data"] == {"viewer": {"email": "demo@outboundql.dev"}}
    assert graphiql.errors == []


async def test_a_subscription_from_graphiql_receives_events(graphiql: Page, server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as api:
        project = (await api.post(server.url, json={"query": PROJECTS})).json()["data"]["projects"]["edges"][0]["node"]
        await _run(graphiql, f'subscription Events {{ accountEvents(projectId: "{project["id"]}") '
                             "{ kind account { name } } }")
        await chromium.eventually(lambda: any('"subscribe"' in f for f in graphiql.websocket_frames_sent))
        text = None
        for attempt in range(5):  # bounded: an event may come before the server holds the subscription
            created = await api.post(server.url, json={"query": CREATE_ACCOUNT, "variables": {"input": {
                "projectId": project["id"], "name": f"Browser Subscriber {attempt}"}}})
            assert created.json()["data"]["createAccount"]["errors"] == [], created.text
            try:
                text = await graphiql.wait_for(f"{RESPONSE}.includes('Browser Subscriber') && {RESPONSE}",
                                               deadline_ms=5000)
                break
            except chromium.BrowserError:
                continue
    assert text is not None, f"no event reached GraphiQL; frames sent: {graphiql.websocket_frames_sent}"
    event = json.loads(text)["data"]["accountEvents"]
    assert event["account"]["name"].startswith("Browser Subscriber")
    init = next(json.loads(f) for f in graphiql.websocket_frames_sent if '"connection_init"' in f)
    assert init["payload"]["Authorization"] == f"Bearer {server.token}"  # the headers tab's token, not a cookie


FETCH = """fetch({url}, {{method: "POST", headers: {{"Content-Type": "application/json", "Authorization": {auth}}},
                    body: JSON.stringify({{query: "query Viewer {{ viewer {{ email }} }}"}})}})
  .then(r => r.json()).then(body => ({{data: body.data}}), e => ({{error: String(e)}}))"""
SOCKET = """new Promise(resolve => {{
  const ws = new WebSocket({url}, "graphql-transport-ws");
  ws.onopen = () => ws.send(JSON.stringify({{type: "connection_init", payload: {{Authorization: {auth}}}}}));
  ws.onmessage = m => {{ resolve(JSON.parse(m.data).type); ws.close(); }};
  ws.onclose = e => resolve("closed");
}})"""


async def _from_origin(browser: Browser, server: Server, origin: str) -> tuple[Any, Any]:
    page = await browser.new_page()
    await page.goto(f"{origin}/")
    auth = json.dumps(f"Bearer {server.token}")
    fetched = await page.evaluate(FETCH.format(url=json.dumps(server.url), auth=auth))
    socket = await page.evaluate(SOCKET.format(url=json.dumps(server.ws_url), auth=auth))
    await page.send("Page.close")
    return fetched, socket


async def test_an_allowed_origin_calls_the_api(browser: Browser, server: Server, app_page_port: int) -> None:
    before = len(server.child.lines)
    fetched, socket = await _from_origin(browser, server, f"http://localhost:{app_page_port}")
    assert fetched == {"data": {"viewer": {"email": "demo@outboundql.dev"}}}
    assert socket == "connection_ack"
    assert ("OPTIONS", "/graphql", 200) in _requests(server.child.lines[before:])  # the browser's preflight, answered


async def test_another_origin_is_blocked(browser: Browser, server: Server, app_page_port: int) -> None:
    before = len(server.child.lines)
    fetched, socket = await _from_origin(browser, server, f"http://127.0.0.1:{app_page_port}")
    assert fetched == {"error": "TypeError: Failed to fetch"}
    assert socket == "closed"
    requests = _requests(server.child.lines[before:])
    assert ("OPTIONS", "/graphql", 400) in requests, requests  # the preflight refused: no POST followed
    assert not [r for r in requests if r[0] == "POST"], requests


def _requests(lines: list[str]) -> list[tuple[str, str, int]]:
    """The requests the server logged (its JSON ``request`` lines): method, path and status."""
    found = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "request":
            found.append((entry["method"], entry["path"], entry["status"]))
    return found
