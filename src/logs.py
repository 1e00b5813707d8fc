"""Logging of every outboundql process (API, workers, mail-in): structured lines, one level, request ids.

Every module logs through the standard library (``logging.getLogger(__name__)``); `configure` routes those
records, uvicorn's and dramatiq's included, through structlog: a JSON object per line when stderr is not a
terminal (journald, containers, files), a readable console line otherwise, or as ``OUTBOUNDQL_LOG_FORMAT`` says.
Values bound with `bind` (the request id, a job's message id and run) and ``extra={...}`` keys of a record
appear as fields of the line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import structlog

#: Environment variable that hands the format an ``outboundql worker`` resolved to its worker processes
#: (whose stderr is a pipe to the supervisor, never a terminal).
FORMAT_ENV = "OUTBOUNDQL_LOG_FORMAT"
#: A request id accepted from a client's ``X-Request-ID``: a proxy's or a client's id, not arbitrary text.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

Format = Literal["auto", "json", "console"]


def resolve_format(log_format: str) -> Literal["json", "console"]:
    """``auto`` is JSON unless stderr is a terminal."""
    if log_format in ("json", "console"):
        return log_format  # type: ignore[return-value]  # narrowed by the test above
    return "console" if sys.stderr.isatty() else "json"


def configure(level: str, log_format: str = "auto") -> None:
    """Route every log record of the process to stderr through structlog at ``level`` (``info``, ``DEBUG``…)."""
    resolved = resolve_format(log_format)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_pid,
    ]
    renderer: Any
    if resolved == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        shared.append(structlog.processors.dict_tracebacks)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):  # theirs propagate to ours
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(max(root.level, logging.WARNING))  # `request` lines say more
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    os.environ[FORMAT_ENV] = resolved  # child processes (uvicorn's, dramatiq's) log the same way


def _add_pid(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    event["pid"] = os.getpid()  # which of several API or worker processes
    return event


def request_id_from(inbound: str | None) -> str:
    """The client's ``X-Request-ID`` when it is a sane id, else a new one."""
    if inbound and VALID_REQUEST_ID.match(inbound):
        return inbound
    return uuid.uuid4().hex


def current(name: str) -> Any:
    """A value bound in this context (``request_id``), or None."""
    return structlog.contextvars.get_contextvars().get(name)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind ``values`` to every log line of this context (and of tasks and threads started from it)."""
    with structlog.contextvars.bound_contextvars(**values):
        yield
