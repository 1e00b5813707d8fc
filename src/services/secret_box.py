"""Secrets kept in the database (a channel's SMTP password, a webhook's signing secret) encrypted with a key
derived from the server's signing key (`outboundql.services.signing_key`), which never sits in the database:
a dump alone reveals none of them.

AES-256-GCM; the stored text is ``v1.<base64url(nonce + ciphertext)>``. ``context`` (e.g. ``"channel:12"``) is
bound as associated data, so a ciphertext copied onto another row does not decrypt there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from outboundql.services.signing_key import signing_key

VERSION = "v1."
_INFO = b"outboundql.secret-box.v1"


class UnreadableSecret(Exception):
    """Stored with another key (OUTBOUNDQL_SECRET_KEY changed) or altered: it must be set again."""


def seal(plain: str, context: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plain.encode(), context.encode())
    return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_(stored: str, context: str) -> str:
    if not stored.startswith(VERSION):
        raise UnreadableSecret("not a sealed secret")
    try:
        raw = base64.urlsafe_b64decode(stored[len(VERSION):])
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise UnreadableSecret("the secret cannot be read with this server's key: set it again") from exc


def _key() -> bytes:
    return hmac.new(signing_key(), _INFO, hashlib.sha256).digest()
