"""The metrics and the log line of each GraphQL operation: count and latency by operation name and outcome, errors
by code. First among the schema's extensions, so it times everything and sees the errors' final codes."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from outboundql import metrics

log = logging.getLogger(__name__)

#: Operation names are the client's: only sane ones become label values, and at most this many per process
#: (a client inventing names cannot blow up the metrics' cardinality); the others count as ``other``.
MAX_OPERATION_NAMES = 500
SANE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen: set[str] = set()


def _label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _seen:
        return name
    if SANE_NAME.match(name) and len(_seen) < MAX_OPERATION_NAMES:
        _seen.add(name)
        return name
    return "other"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        context = self.execution_context
        name = context.operation_name  # the one run: the requested name, else the document's only operation's
        try:
            kind = context.operation_type.value
        except Exception:  # a document that did not parse (or lacks the operation named) runs none
            kind = "unknown"
        errors = getattr(context.result, "errors", None) or []
        operation = _label(name)
        metrics.GRAPHQL_REQUESTS.labels(operation, kind, "error" if errors else "ok").inc()
        metrics.GRAPHQL_DURATION.labels(operation, kind).observe(elapsed)
        codes = sorted({str((e.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")) for e in errors})
        for error in errors:
            metrics.GRAPHQL_ERRORS.labels(str((error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))).inc()
        metrics.observe_pool()
        log.info("graphql operation", extra={"operation": name, "operation_type": kind,
                                             "duration_ms": round(elapsed * 1000, 1), "error_codes": codes})
