"""Links that go out with an attempt, signed with the server's key: the one-click unsubscribe link of an e-mail
(``/unsubscribe/<token>``), the result callback of the ``webhook`` channel (``/channels/results/<token>``), and
a campaign's inbound endpoint (``/channels/inbound/<token>``, `outboundql.services.inbound_contacts`).

A token is ``<purpose letter><attempt id in base 36>.<signature>`` (HMAC-SHA256, base64url, truncated to 128
bits): short enough for a mail header, unforgeable without the key, and it never expires (an unsubscribe link in
an old mail must still work; a result is accepted once, while the attempt awaits it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from outboundql.services import runtime
from outboundql.services.signing_key import signing_key

UNSUBSCRIBE = "u"
RESULT = "r"
INBOUND = "i"
"""A campaign's inbound endpoint (``/channels/inbound/<token>``): the id a token of this purpose names is the
campaign's."""
_PATHS = {UNSUBSCRIBE: "/unsubscribe/", RESULT: "/channels/results/", INBOUND: "/channels/inbound/"}
_DOMAIN = b"outboundql.channel-link.v1\x00"
MAX_TOKEN = 100


def token(purpose: str, attempt_id: int) -> str:
    body = purpose + _base36(attempt_id)
    return f"{body}.{_mac(body)}"


def url(purpose: str, attempt_id: int) -> str:
    """The absolute link (``OUTBOUNDQL_PUBLIC_URL`` + path + token)."""
    return runtime.settings().public_url.rstrip("/") + _PATHS[purpose] + token(purpose, attempt_id)


def attempt_of(purpose: str, given: str) -> int | None:
    """The attempt id a valid token of ``purpose`` names; None for anything else."""
    if len(given) > MAX_TOKEN or given.count(".") != 1:
        return None
    body, signature = given.split(".")
    if not body.startswith(purpose) or not hmac.compare_digest(signature, _mac(body)):
        return None
    try:
        return int(body[len(purpose):], 36)
    except ValueError:
        return None


def _mac(body: str) -> str:
    digest = hmac.new(signing_key(), _DOMAIN + body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out
