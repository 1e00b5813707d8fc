"""Dramatiq middleware: how async actors reach the database in each way of running.

* ``HostLoopAsyncIO`` (embedded): async actors run on the server's own event loop, so they
  share its tortoise connections. No second loop, no second ORM init.
* ``DatabaseMiddleware`` (``outboundql worker`` processes): opens tortoise on dramatiq's
  event-loop thread after the process boots and closes it on shutdown.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.middleware import Middleware


class HostLoopAsyncIO(Middleware):
    """Run async actors on the loop that started the worker (the API server's loop)."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        # Reuses dramatiq's run_coroutine (interrupt- and time-limit-aware) against the host loop.
        # `Worker.start()` must therefore be called from a coroutine on that loop.
        thread = EventLoopThread.__new__(EventLoopThread)
        thread.loop = asyncio.get_running_loop()
        thread.interrupt_check_ival = 0.1
        thread.logger = dramatiq.get_logger(__name__, type(self))
        set_event_loop_thread(thread)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        set_event_loop_thread(None)


class DatabaseMiddleware(Middleware):
    """Open the ORM in a worker process, on the loop its async actors run on."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        from tortoise import Tortoise

        from outboundql.models.config import tortoise_config

        thread = get_event_loop_thread()
        if thread is None:  # the AsyncIO middleware must come first
            raise RuntimeError("DatabaseMiddleware needs dramatiq's AsyncIO middleware registered before it")
        thread.run_coroutine(
            Tortoise.init(config=tortoise_config(self.database_url), _enable_global_fallback=True)
        )

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        from tortoise import Tortoise

        thread = get_event_loop_thread()
        if thread is not None:
            thread.run_coroutine(Tortoise.close_connections())
