"""The ASGI application: GraphQL at /graphql (and GraphiQL's files), health probes, export downloads, the ORM and the
embedded job worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import dramatiq
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp
from tortoise import Tortoise
from tortoise.connection import connections

from outboundql import cors, workers
from outboundql.body_timeout import BodyTimeout
from outboundql.channels import inbound_route, result_route
from outboundql.channels.registry import ChannelRegistry
from outboundql.channels.unsubscribe_route import route as unsubscribe_route
from outboundql.classifiers.registry import ClassifierRegistry
from outboundql.exports import download as export_download
from outboundql.goals.registry import GoalRegistry
from outboundql.gql import graphiql
from outboundql.gql.schema import schema
from outboundql.gql.view import OutboundqlGraphQL
from outboundql.logs import configure as configure_logs
from outboundql.metrics import process_exited, serve_metrics
from outboundql.models.config import tortoise_config
from outboundql.models.migrating import missing_migrations
from outboundql.rate_limits import RateLimiter
from outboundql.request_ids import RequestIds
from outboundql.scoring.registry import ScorerRegistry
from outboundql.services import (
    auth_cache,
    imports,
    reply_classes,
    runtime,
    scheduler,
    scoring_runs,
    signal_proposals,
    signing_key,
    webhook_deliveries,
)
from outboundql.services.clock import Clock, SystemClock
from outboundql.settings import Settings, get_settings
from outboundql.tracing import traced
from outboundql.upload_limit import UploadBodyLimit

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers (with every migration of the code applied, when the app manages the
    database) and the job broker is reachable."""
    checks: dict[str, str] = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if request.app.state.check_schema and checks["database"] == "ok":
        checks["schema"] = "ok" if request.app.state.schema_current else await _schema_status(request.app)
    checks["broker"] = await _broker_status(request.app.state.settings)
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _schema_status(app: Starlette) -> str:
    """``ok`` once every migration of the code is applied (remembered: a schema does not fall behind again)."""
    try:
        missing = await missing_migrations(connections.get("default"))
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    if missing:
        return f"behind the code: {len(missing)} migration(s) pending ({', '.join(missing)}); run `outboundql migrate`"
    app.state.schema_current = True
    return "ok"


async def _broker_status(settings: Settings) -> str:
    if not settings.redis_url:
        return "ok"  # in-process broker: it is this process
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)  # a hung Redis too
    try:
        await client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        await client.aclose()


async def _scheduler_ticks(interval: float) -> None:
    """The embedded server ticks the outreach scheduler on its own loop (its jobs run here too), sends
    again the replies whose classification was lost and the import jobs whose run stopped, and claims the due event
    webhook deliveries."""
    while True:
        try:
            await scheduler.tick()
        except Exception:
            log.exception("The outreach scheduler's tick failed; trying again in %g s.", interval)
        try:
            await reply_classes.sweep()
        except Exception:
            log.exception("Unclassified replies could not be sent again; trying again in %g s.", interval)
        try:
            await signal_proposals.sweep()
        except Exception:
            log.exception("Messages unread for signals could not be sent again; trying again in %g s.", interval)
        try:
            await imports.resume_stalled()
        except Exception:
            log.exception("Stalled import jobs could not be sent again; trying again in %g s.", interval)
        try:
            await webhook_deliveries.tick()
        except Exception:
            log.exception("The webhook deliveries' tick failed; trying again in %g s.", interval)
        await asyncio.sleep(interval)


def create_app(
    settings: Settings, *, manage_db: bool = True, run_worker: bool = True, goals: GoalRegistry | None = None,
    clock: Clock | None = None, channels: ChannelRegistry | None = None,
    classifiers: ClassifierRegistry | None = None, scorers: ScorerRegistry | None = None,
) -> Starlette:
    """Build the app for ``settings``: this process's services, jobs, broker, event bus and GraphQL
    limits all follow them. ``manage_db=False`` leaves the ORM to the caller (tests own it);
    ``run_worker`` starts the in-process job worker when the broker is in-memory; ``goals``
    replaces the registry of installed goal plugins, ``channels`` that of channel plugins, ``classifiers`` that
    of reply classifier plugins, ``scorers`` that of scorer plugins and ``clock`` the system clock (tests)."""
    goals = goals if goals is not None else runtime.installed_goals(settings)  # a broken plugin stops startup
    channels = channels if channels is not None else runtime.installed_channels(settings)
    classifiers = classifiers if classifiers is not None else runtime.installed_classifiers(settings)
    scorers = scorers if scorers is not None else runtime.installed_scorers(settings)
    broker = workers.install(settings)
    signing_key.warn_if_kept_per_host(settings)
    # Requests and the embedded worker's jobs run with this app's settings, goals and jobs.
    runtime.configure(runtime.Runtime(settings, goals, workers.DramatiqJobs(), clock or SystemClock(), channels,
                                      classifiers, scorers))
    rate_limiter = RateLimiter(settings.rate_limit_points, settings.rate_limit_window_seconds, settings.redis_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(process_exited)  # this process's live gauges leave the sum of /metrics
            stack.push_async_callback(rate_limiter.aclose)
            stack.push_async_callback(graphql.persisted_queries.aclose)
            stack.push_async_callback(auth_cache.aclose)
            if manage_db:
                await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
                stack.push_async_callback(Tortoise.close_connections)
            if workers.is_embedded() and run_worker:
                worker = dramatiq.Worker(broker, worker_threads=settings.embedded_worker_threads)
                worker.start()  # on this loop: async actors run here, sharing the ORM
                stack.push_async_callback(asyncio.to_thread, worker.stop)
                # In-memory messages died with the last process: resume what the database says is running.
                await scoring_runs.resume_interrupted(claim_window=timedelta(0))
                await imports.resume_stalled(stalled_for=timedelta(0))
                ticks = asyncio.create_task(_scheduler_ticks(settings.scheduler_interval_seconds))
                stack.callback(ticks.cancel)
            yield

    graphql = OutboundqlGraphQL(schema, settings, goals)
    app = Starlette(
        routes=[
            Route("/graphql", UploadBodyLimit(graphql, settings.max_body_bytes + settings.max_upload_bytes),
                  methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Mount(graphiql.MOUNT_PATH, graphiql.static_files()),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", serve_metrics),
            export_download.route,
            result_route.route,
            inbound_route.route,
            unsubscribe_route,
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        middleware=[cors.middleware(settings), Middleware(BodyTimeout, seconds=settings.body_timeout_seconds)],
    )
    app.add_middleware(RequestIds)  # outermost: every response and log line of a request carries its id
    app.state.settings = settings
    app.state.rate_limiter = rate_limiter  # read by the QueryCost extension
    app.state.check_schema = manage_db  # a caller owning the ORM owns the schema too (tests generate it)
    app.state.schema_current = False
    return app


def app_from_env() -> ASGIApp:
    """Factory for uvicorn (``outboundql.app:app_from_env``): the settings of the environment, its logging, and
    OpenTelemetry tracing when the standard ``OTEL_*`` variables ask for it."""
    settings = get_settings()
    configure_logs(settings.log_level, settings.log_format)
    return traced(create_app(settings))
