"""The Standard Webhooks signing scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

A secret is ``whsec_`` followed by the base64 of random bytes. The signature of a message is
``v1,<base64 of HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")>``; a receiver recomputes it and
refuses a timestamp more than `TOLERANCE` away from its clock (replays). Several signatures may be sent at
once, separated by spaces (while a secret is rotated): one that matches is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)


def new_secret() -> str:
    """A fresh signing secret (24 random bytes), shown once to whoever configures the receiver."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def valid_secret(secret: str) -> bool:
    try:
        return len(_key(secret)) >= 16
    except ValueError:
        return False


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of ``body`` sent as message ``msg_id`` at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three headers of a signed request (plus its content type)."""
    timestamp = int(at.timestamp())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body), "content-type": "application/json"}


class InvalidSignature(Exception):
    """The request was not signed with the secret, is malformed, or its timestamp is outside the tolerance."""


def verify(secret: str, received: Mapping[str, str], body: bytes, now: datetime) -> str:
    """Check a received request's headers (lower-case names) against ``secret``; its message id when valid."""
    msg_id = received.get("webhook-id", "")
    stamp = received.get("webhook-timestamp", "")
    given = received.get("webhook-signature", "")
    if not msg_id or not stamp.isdigit() or not given:
        raise InvalidSignature("missing or malformed webhook-id, webhook-timestamp or webhook-signature header")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise InvalidSignature("webhook-timestamp is too far from now (a replay, or a clock out of step)")
    expected = sign(secret, msg_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in given.split(" ") if candidate):
        raise InvalidSignature("no webhook-signature matches the secret")
    return msg_id


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a signing secret is whsec_ followed by base64") from exc
