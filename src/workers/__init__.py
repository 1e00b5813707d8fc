"""Background jobs. ``dramatiq outboundql.workers`` (what ``outboundql worker`` runs) imports the
broker first, then every actor module."""

from outboundql.workers import scoring, tokens
from outboundql.workers.broker import EMBEDDED, broker

__all__ = ["EMBEDDED", "broker", "scoring", "tokens"]
