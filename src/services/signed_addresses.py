"""Mail-in addresses that name a record by its id and cannot be guessed: ``<prefix><id>-<signature>@<mail-in
domain>``. The signature is an HMAC of the id with the server's key, separated per kind of address, so that one
kind's signature is worthless for another. It is lowercase because a mail server may lowercase a local part."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from outboundql.services import runtime
from outboundql.services.signing_key import signing_key

SIGNATURE_CHARS = 20


@dataclass(frozen=True, slots=True)
class AddressKind:
    prefix: str
    """The local part's start, like ``replies+``."""
    purpose: bytes
    """What the HMAC is separated by: one value per kind."""

    def address(self, number: int) -> str:
        """The address of record ``number``."""
        return f"{self.prefix}{number}-{self._signature(number)}@{runtime.settings().mail_in_domain}".lower()

    def number_of(self, address: str) -> int | None:
        """The record ``address`` names (case ignored); None for any other address."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        if domain.casefold() != runtime.settings().mail_in_domain.casefold():
            return None
        local = local.casefold()
        if not local.startswith(self.prefix):
            return None
        number, _, signature = local.removeprefix(self.prefix).partition("-")
        if not number.isdigit() or len(number) > 12:
            return None
        return int(number) if hmac.compare_digest(signature, self._signature(int(number))) else None

    def _signature(self, number: int) -> str:
        return hmac.new(signing_key(), self.purpose + str(number).encode(), hashlib.sha256).hexdigest()[
            :SIGNATURE_CHARS]
