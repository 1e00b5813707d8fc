"""Download links: what a link grants, signed with the server's secret (HMAC-SHA256) into a URL-safe token.

A token is ``<claims>.<signature>``, both base64url without padding; the claims are compact JSON naming the
kind of export, the project, the campaign (if any), the user who asked and the expiry (Unix seconds). The
token is not encrypted (nothing in it is secret) but cannot be changed without the key. Whether it expired
and whether its user may still read the project is for the caller to check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

PURPOSE = b"outboundql.export-link.v1\x00"
"""Mixed into every signature, so a signature made with the same key for anything else never passes here."""
MAX_TOKEN = 1000
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class LinkClaims:
    kind: str
    project_id: int
    campaign_id: int | None
    user_id: int
    expires_at: datetime


def sign(claims: LinkClaims, key: bytes) -> str:
    body = json.dumps({
        "k": claims.kind, "p": claims.project_id, "c": claims.campaign_id, "u": claims.user_id,
        "e": int(claims.expires_at.timestamp()),
    }, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(_mac(body, key))}"


def verify(token: str, key: bytes) -> LinkClaims | None:
    """The claims of ``token`` when ``key`` signed it; None for anything else (malformed, changed, other key)."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    body_part, signature_part = token.split(".")
    try:
        body, signature = _unb64(body_part), _unb64(signature_part)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(signature, _mac(body, key)):
        return None
    try:
        data = json.loads(body)
        campaign = data["c"]
        return LinkClaims(kind=str(data["k"]), project_id=int(data["p"]),
                          campaign_id=None if campaign is None else int(campaign), user_id=int(data["u"]),
                          expires_at=datetime.fromtimestamp(int(data["e"]), UTC))
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None  # signed by us, so never expected: still, a bad token is only ever "not valid"


def _mac(body: bytes, key: bytes) -> bytes:
    return hmac.new(key, PURPOSE + body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
