"""Dramatiq middleware: how async actors reach the database in each way of running.

* ``WorkerLogging`` (``outboundql worker`` processes): structured logs at the one configured level, as the API
  logs (`outboundql.logs`); the process's metrics samples are dropped when it stops.
* ``HostLoopAsyncIO`` (embedded): async actors run on the server's own event loop, so they
  share its tortoise connections. No second loop, no second ORM init.
* ``DatabaseAsyncIO`` (``outboundql worker`` processes): dramatiq's event-loop thread with
  tortoise opened on it after the process boots, and closed after in-flight messages finished.
* ``WorkerRuntime`` (``outboundql worker`` processes): the runtime services run with, configured
  at boot from the settings the worker's broker was built from (its environment).
* ``ResumeScoringRuns`` (``outboundql worker`` processes): re-enqueues what stalled scoring runs
  still have pending, from the database, at boot and periodically.
* ``ResumeImportJobs`` (``outboundql worker`` processes): sends again, from the database, import jobs whose
  worker stopped or whose message was lost, periodically.
* ``SchedulerTicks`` (``outboundql worker`` processes): ticks the outreach scheduler (the embedded server
  ticks it on its own loop instead, see `outboundql.app`).
* ``WebhookTicks`` (``outboundql worker`` processes): claims the due event webhook deliveries for
  ``deliver_webhooks`` jobs (the embedded server ticks them with the scheduler).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware
from tortoise import Tortoise

from outboundql import logs, metrics
from outboundql.models.config import tortoise_config
from outboundql.services import imports, reply_classes, runtime, scheduler, signal_proposals, webhook_deliveries
from outboundql.services.jobs import JobsUnavailable
from outboundql.services.scoring_runs import resume_interrupted
from outboundql.settings import Settings

log = logging.getLogger(__name__)


class WorkerLogging(Middleware):
    """Log as the API does, at ``OUTBOUNDQL_LOG_LEVEL``, once the worker process has imported the broker (dramatiq
    configured its own plain format before; lines still reach the supervisor through dramatiq's pipe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        logs.configure(self.settings.log_level, self.settings.log_format)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        metrics.process_exited()


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


class DatabaseAsyncIO(AsyncIO):
    """dramatiq's event-loop thread for async actors, with the ORM open on it for the worker's life.

    One middleware, so the order holds both ways: the loop starts, then the ORM opens; at shutdown
    (after in-flight messages finished) the ORM closes, then the loop stops."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # As dramatiq's AsyncIO does, but a daemon thread: on a second SIGTERM dramatiq "kills" the
        # worker process with sys.exit(), which a non-daemon loop thread would keep alive forever.
        thread = EventLoopThread(self.logger)
        thread.daemon = True
        thread.start(timeout=1.0)
        set_event_loop_thread(thread)
        thread.run_coroutine(Tortoise.init(config=tortoise_config(self.database_url), _enable_global_fallback=True))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        thread = get_event_loop_thread()
        if thread is not None:
            thread.run_coroutine(Tortoise.close_connections())
        super().after_worker_shutdown(broker, worker)  # type: ignore[no-untyped-call]  # dramatiq leaves it untyped


class WorkerRuntime(Middleware):
    """Configure the services' runtime when a worker process boots: its settings, the goals of the
    plugins installed there (a broken plugin stops the boot) and dramatiq jobs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Imported here: the jobs module imports the actors, which are declared on a broker built
        # with this middleware.
        from outboundql.workers.jobs import DramatiqJobs

        runtime.configure(runtime.Runtime(self.settings, runtime.installed_goals(self.settings), DramatiqJobs()))


class Periodic(Middleware):
    """A thread of the worker process that runs `run` from boot until shutdown, every ``interval`` seconds (it
    outlives Redis restarts; a self-re-enqueueing actor would not)."""

    thread_name = "periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop = get_event_loop_thread()
        if loop is not None:
            self.thread = threading.Thread(target=self.run, args=(loop,), name=self.thread_name, daemon=True)
            self.thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=30)  # a tick in progress ends before the ORM closes

    def run(self, loop: EventLoopThread) -> None:
        raise NotImplementedError


class ResumeScoringRuns(Periodic):
    """Enqueue again, from the database, what running scoring runs still have pending, so lost messages
    (a killed worker's, a Redis restarted empty) never leave a run stalled: every run when the worker
    process boots, then every ``interval`` seconds those that made no progress for twice as long.

    A thread of the worker process ticks (it outlives Redis restarts: a failed tick is logged and the
    next one tries again; a self-re-enqueueing actor would not). Runs are claimed in the database for
    the stall window, so the processes of a cluster enqueue a stalled run once per window, and one
    that goes on again after its batches were re-sent is left alone; duplicates are harmless anyway
    (a batch only scores what is still pending)."""

    thread_name = "resume-scoring-runs"

    def __init__(self, interval: float, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(interval)
        self.clock = clock

    def run(self, loop: EventLoopThread) -> None:
        booted = False
        while not self.stopping.is_set():
            try:
                if resumed := loop.run_coroutine(self.tick(first=not booted)):
                    log.info("Enqueued the pending batches of scoring runs %s again (%s).", resumed,
                             "at boot" if not booted else "no progress for a while")
                booted = True
            except JobsUnavailable as exc:  # Redis down: the next tick tries again
                log.warning("Stalled scoring runs could not be enqueued again (%s); trying again in %g s.",
                            exc, self.interval)
            except Exception:
                log.exception("Stalled scoring runs could not be enqueued again; trying again in %g s.", self.interval)
            self.stopping.wait(self.interval)

    async def tick(self, *, first: bool) -> list[int]:
        """The first tick resumes every running run not claimed just before (workers booting together);
        later ones, the runs that made no progress for two intervals."""
        if first:
            return await resume_interrupted(now=self.clock())
        window = timedelta(seconds=2 * self.interval)
        return await resume_interrupted(claim_window=window, stalled_for=window, now=self.clock())


class SchedulerTicks(Periodic):
    """Tick the outreach scheduler every ``interval`` seconds, and send again the replies whose classification was
    lost (a failed tick is logged and the next one tries again). Any number of processes tick at once: claims are
    exclusive (see `outboundql.services.scheduler`)."""

    thread_name = "scheduler-ticks"

    def run(self, loop: EventLoopThread) -> None:
        while not self.stopping.is_set():
            try:
                loop.run_coroutine(scheduler.tick())
            except Exception:
                log.exception("The outreach scheduler's tick failed; trying again in %g s.", self.interval)
            try:
                loop.run_coroutine(reply_classes.sweep())
            except Exception:
                log.exception("Unclassified replies could not be sent again; trying again in %g s.", self.interval)
            try:
                loop.run_coroutine(signal_proposals.sweep())
            except Exception:
                log.exception("Messages unread for signals could not be sent again; trying again in %g s.",
                              self.interval)
            self.stopping.wait(self.interval)


class WebhookTicks(Periodic):
    """Every ``interval`` seconds, claim the due event webhook deliveries and send them to ``deliver_webhooks``
    jobs. Any number of processes tick at once: claims are exclusive (see `outboundql.services.webhook_deliveries`)."""

    thread_name = "webhook-ticks"

    def run(self, loop: EventLoopThread) -> None:
        while not self.stopping.is_set():
            try:
                loop.run_coroutine(webhook_deliveries.tick())
            except Exception:
                log.exception("The webhook deliveries' tick failed; trying again in %g s.", self.interval)
            self.stopping.wait(self.interval)


class ResumeImportJobs(Periodic):
    """Every ``interval`` seconds, send again the import jobs whose worker stopped (no heartbeat for
    `imports.STALLED_AFTER`) or whose message was lost (queued that long): a crashed job goes on from its last
    committed batch. A failed tick is logged and the next one tries again; a job sent twice runs once (a run
    claims it first)."""

    thread_name = "resume-import-jobs"

    def run(self, loop: EventLoopThread) -> None:
        while not self.stopping.is_set():
            try:
                if resumed := loop.run_coroutine(imports.resume_stalled()):
                    log.info("Sent stalled import jobs %s again.", resumed)
            except Exception:
                log.exception("Stalled import jobs could not be sent again; trying again in %g s.", self.interval)
            self.stopping.wait(self.interval)
