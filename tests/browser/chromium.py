"""A headless Debian ``chromium`` driven over the Chrome DevTools Protocol (a websocket; no driver to download).

The browser gets no network beyond this machine's loopback: every host name but ``localhost`` fails to resolve and
every other address goes to a proxy that is not there. Each page records the requests it made and the errors its
console showed, so a test can assert that nothing left the machine and nothing failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

STARTUP_DEADLINE = 30.0  # seconds; never asserted
WAIT_DEADLINE_MS = 20_000
NO_NETWORK = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",  # loopback bypasses proxies; anything else reaches nothing
)


async def eventually(condition: Callable[[], bool], deadline: float = WAIT_DEADLINE_MS / 1000) -> None:
    """Wait until ``condition()`` holds (events arrive on the reader task), or fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise BrowserError("timed out waiting for a browser event")
        await asyncio.sleep(0.02)


def executable() -> str | None:
    return shutil.which("chromium")


class BrowserError(AssertionError):
    pass


@dataclass
class Page:
    """One tab: evaluates JavaScript and remembers its requests and console errors."""

    browser: Browser
    session: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    websocket_frames_sent: list[str] = field(default_factory=list)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.browser.send(method, session=self.session, **params)

    async def goto(self, url: str) -> None:
        loaded = self.browser.expect("Page.loadEventFired", self.session)
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")
        await asyncio.wait_for(loaded, WAIT_DEADLINE_MS / 1000)

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (a promise is awaited), or BrowserError with the page's exception."""
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    async def wait_for(self, expression: str, deadline_ms: int = WAIT_DEADLINE_MS) -> Any:
        """Poll ``expression`` inside the page until it is truthy (its value; ``True`` for an object) or the deadline
        passes."""
        return await self.evaluate(f"""new Promise((resolve, reject) => {{
            const end = Date.now() + {deadline_ms};
            (function poll() {{
                let value;
                try {{ value = ({expression}); }} catch (e) {{ value = undefined; }}
                if (value) resolve(typeof value === 'object' ? true : value);  // elements: just found
                else if (Date.now() > end) reject(new Error({json.dumps("timed out waiting for " + expression)}));
                else setTimeout(poll, 50);
            }})();
        }})""")

    async def type_text(self, text: str) -> None:
        """Type into the focused element as a keyboard would insert it."""
        await self.send("Input.insertText", text=text)

    def _on(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Network.webSocketCreated":
            self.requests.append(params["url"])
        elif method == "Network.webSocketFrameSent":
            self.websocket_frames_sent.append(params["response"]["payloadData"])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"{params['entry']['text']} ({params['entry'].get('url', '')})")


class Browser:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.waiters: list[tuple[str, str | None, asyncio.Future[dict[str, Any]]]] = []
        self.pages: dict[str, Page] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, method: str, *, session: str | None = None, **params: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[message["id"]] = future
        await self.connection.send(json.dumps(message))
        return await asyncio.wait_for(future, WAIT_DEADLINE_MS / 1000)

    def expect(self, method: str, session: str | None) -> asyncio.Future[dict[str, Any]]:
        """A future of the next ``method`` event (of ``session``); create it before causing the event."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters.append((method, session, future))
        return future

    async def new_page(self) -> Page:
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        page = Page(self, attached["sessionId"])
        self.pages[page.session] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            await page.send(f"{domain}.enable")
        return page

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if "id" in message:
                future = self.pending.pop(message["id"], None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(BrowserError(f"CDP error: {message['error']}"))
                    else:
                        future.set_result(message.get("result", {}))
                continue
            method, session, params = message.get("method"), message.get("sessionId"), message.get("params", {})
            page = self.pages.get(session or "")
            if page is not None:
                page._on(method, params)
            for waiter in [w for w in self.waiters if w[0] == method and w[1] in (None, session)]:
                self.waiters.remove(waiter)
                if not waiter[2].done():
                    waiter[2].set_result(params)


def _devtools_url(profile: Path, proc: subprocess.Popen[bytes]) -> str:
    port_file = profile / "DevToolsActivePort"
    end = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise BrowserError(f"chromium exited with {proc.returncode}")
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise BrowserError(f"chromium did not open its DevTools port within {STARTUP_DEADLINE}s")


@contextlib.asynccontextmanager
async def launched(profile: Path) -> AsyncIterator[Browser]:
    """A headless chromium with a fresh profile in ``profile`` and no network, killed (its process group) at the
    end."""
    binary = executable()
    if binary is None:
        raise BrowserError("no `chromium` on PATH (apt-get install chromium)")
    args = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--metrics-recording-only", "--mute-audio",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", *NO_NETWORK, "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = await asyncio.to_thread(_devtools_url, profile, proc)
        async with websockets.connect(url, max_size=None) as connection:
            browser = Browser(connection)
            try:
                yield browser
            finally:
                browser.reader.cancel()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=30)
