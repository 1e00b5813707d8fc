"""Dramatiq middleware: jobs carry the request id of the request that enqueued them, and each job logs its start,
end or failure with what it works on (its arguments by name: ``run_id`` and ``batch`` of a scoring batch,
``import_job_id`` of an import…), and counts in the job metrics.

* On enqueue (in the API or a job): the bound ``request_id`` goes into ``message.options``.
* Around processing (in whichever process runs the job): ``request_id``, ``message_id``, ``actor`` and the
  arguments are bound to every log line the job makes.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from outboundql import logs, metrics

log = logging.getLogger("outboundql.jobs")

#: A list argument (``attempt_ids``) is logged by its length past this many items.
MAX_LISTED = 10


class JobObservability(Middleware):
    def __init__(self) -> None:
        self._running: dict[str, tuple[contextlib.ExitStack, float]] = {}

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        request_id = logs.current("request_id")
        if request_id and "request_id" not in message.options:
            message.options["request_id"] = request_id

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        fields = {"message_id": message.message_id, "actor": message.actor_name,
                  **_arguments(broker, message)}
        if request_id := message.options.get("request_id"):
            fields["request_id"] = request_id
        stack = contextlib.ExitStack()
        stack.enter_context(logs.bound(**fields))
        self._running[message.message_id] = (stack, time.perf_counter())
        log.info("job started", extra={"retries": message.options.get("retries", 0)})

    def after_process_message(self, broker: dramatiq.Broker, message: MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        stack, started = self._running.pop(message.message_id, (contextlib.ExitStack(), time.perf_counter()))
        elapsed = time.perf_counter() - started
        with stack:
            metrics.JOB_DURATION.labels(message.actor_name).observe(elapsed)
            metrics.JOBS.labels(message.actor_name, "failed" if exception else "done").inc()
            metrics.observe_pool()
            duration_ms = round(elapsed * 1000, 1)
            if exception is None:
                log.info("job finished", extra={"duration_ms": duration_ms})
            else:
                log.error("job failed", extra={"duration_ms": duration_ms, "error": f"{type(exception).__name__}: "
                                                                                   f"{exception}"})

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        stack, _ = self._running.pop(message.message_id, (contextlib.ExitStack(), 0.0))
        with stack:
            metrics.JOBS.labels(message.actor_name, "skipped").inc()
            log.info("job skipped")


def _arguments(broker: dramatiq.Broker, message: MessageProxy) -> dict[str, Any]:
    """The message's arguments by parameter name (scalars as they are, long lists by their length)."""
    try:
        fn = broker.get_actor(message.actor_name).fn
        bound = inspect.signature(fn).bind_partial(*message.args, **message.kwargs).arguments
    except Exception:  # an unknown actor or arguments that do not fit: dramatiq reports those itself
        return {}
    shown: dict[str, Any] = {}
    for name, value in bound.items():
        if isinstance(value, list) and len(value) > MAX_LISTED:
            shown[f"{name}_count"] = len(value)
        elif isinstance(value, (int, float, str, bool, list)) or value is None:
            shown[name] = value
    return shown
