"""The HTTP client webhooks go out through (the ``webhook`` channel, event endpoints): public addresses only.

A webhook URL is chosen by a project's admin, and the server POSTs to it from inside the operator's network: left
alone, ``https://metadata.internal/…`` or a name that resolves to ``169.254.169.254``, ``10.0.0.5`` or ``127.0.0.1``
would make the server a way into that network (server-side request forgery). So the client resolves the host
itself and connects only when every address the name resolves to is public, to the address it checked (a name
that answers differently a moment later, DNS rebinding, changes nothing). Loopback, private (RFC 1918, unique
local), link-local, shared (100.64.0.0/10), multicast, reserved and unspecified addresses are refused with a
connection error that says why, unless ``OUTBOUNDQL_WEBHOOK_PRIVATE_ADDRESSES`` is on: receivers inside the
operator's own network, or on this machine while developing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (an IPv4 address mapped into IPv6 is judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class NotPublic(httpcore.ConnectError):
    """A connection refused because the host is not at a public address (httpx raises it as a ConnectError caused
    by this)."""


def not_public(exc: BaseException) -> bool:
    """Whether ``exc`` (an httpx error) is a connection refused because its host is not public."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NotPublic):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def refusal(host: str, address: IPAddress) -> str:
    """Why a webhook to ``host`` (at ``address``) is not made."""
    named = "" if host == str(address) else f" resolves to {address}, which"
    return (f"{host}{named} is not a public address (loopback, private, link-local or reserved): webhooks go to "
            "public addresses only. An operator allows receivers inside their own network with "
            "OUTBOUNDQL_WEBHOOK_PRIVATE_ADDRESSES=true.")


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine by name (``localhost``, ``*.localhost``) or address (127.0.0.0/8, ::1)."""
    host = host.lower().rstrip(".")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def literal_refusal(host: str, private_allowed: bool) -> str | None:
    """Why a URL naming ``host`` is refused before any lookup (an address, or ``localhost``, that is not public),
    else None; a name is checked when it is resolved."""
    if private_allowed:
        return None
    if loopback(host):
        return refusal(host, ipaddress.ip_address("127.0.0.1"))
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return None if public(address) else refusal(host, address)


class _PublicOnly(httpcore.AsyncNetworkBackend):
    """Connects to a host's addresses only when all are public (see the module docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, private_allowed: bool) -> None:
        self.inner = inner
        self.private_allowed = private_allowed

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"looking up {host} took too long") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved ({exc})") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))
        if not self.private_allowed:
            for address in addresses:
                if not public(address):
                    raise NotPublic(refusal(host, address))
        last: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Webhooks do not go to Unix sockets.")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(timeout: httpx.Timeout, *, private_allowed: bool) -> httpx.AsyncClient:
    """An HTTP client for webhooks: no redirects followed, no proxy from the environment, and connections to public
    addresses only unless ``private_allowed``."""
    transport = httpx.AsyncHTTPTransport()
    # httpx builds its connection pool without a say in how it connects; the pool is rebuilt with the same TLS
    # defaults and the checking backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=_PublicOnly(httpcore.AnyIOBackend(), private_allowed))
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport, trust_env=False)
