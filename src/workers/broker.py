"""The broker of the process: in-memory (embedded) or Redis (distributed), chosen by settings.

A process has one broker at a time, the one `install` made for its settings: a worker process
(``dramatiq outboundql.workers``) installs the one of its environment when the package is imported,
and the API server the one of the settings handed to `create_app`, which moves every actor onto it
when it differs.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from outboundql.settings import Settings
from outboundql.workers.middleware import (
    DatabaseAsyncIO,
    HostLoopAsyncIO,
    ResumeImportJobs,
    ResumeScoringRuns,
    SchedulerTicks,
    WebhookTicks,
    WorkerLogging,
    WorkerRuntime,
)
from outboundql.workers.observability import JobObservability

#: Seconds a Redis command (and a connection attempt) of the broker may take before it fails, unless the
#: URL says otherwise: a hung Redis then costs a request this long, not redis-py's default of 5 s.
REDIS_SOCKET_TIMEOUT = 2

_broker: dramatiq.Broker | None = None
_key: tuple[str | None, str | None] | None = None


def build_broker(settings: Settings) -> dramatiq.Broker:
    """RedisBroker when ``redis_url`` is set (workers are separate processes), else a StubBroker
    whose worker thread runs inside the API server."""
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=broker_url(settings.redis_url))
        broker.add_middleware(WorkerLogging(settings))
        broker.add_middleware(JobObservability())
        broker.add_middleware(DatabaseAsyncIO(settings.database_url))
        broker.add_middleware(WorkerRuntime(settings))
        broker.add_middleware(ResumeScoringRuns(settings.scoring_resume_interval_seconds))
        broker.add_middleware(ResumeImportJobs(settings.scoring_resume_interval_seconds))
        broker.add_middleware(SchedulerTicks(settings.scheduler_interval_seconds))
        broker.add_middleware(WebhookTicks(settings.scheduler_interval_seconds))
    else:
        broker = StubBroker()
        broker.add_middleware(HostLoopAsyncIO())
        broker.add_middleware(JobObservability())
    return broker


def broker_url(redis_url: str) -> str:
    """``redis_url`` with ``socket_timeout`` and ``socket_connect_timeout`` (`REDIS_SOCKET_TIMEOUT`) unless
    it gives them: RedisBroker takes connection options from its URL only (keyword ones are ignored)."""
    given = {name for name, _ in parse_qsl(urlsplit(redis_url).query, keep_blank_values=True)}
    missing = [(name, REDIS_SOCKET_TIMEOUT) for name in ("socket_timeout", "socket_connect_timeout")
               if name not in given]
    if not missing:
        return redis_url
    base, _, query = redis_url.partition("?")
    return f"{base}?{'&'.join(part for part in (query, urlencode(missing)) if part)}"


def _key_of(settings: Settings) -> tuple[str | None, str | None]:
    # What the broker is built from: an in-memory broker depends on no setting.
    return (settings.redis_url, settings.database_url) if settings.redis_url else (None, None)


def install(settings: Settings) -> dramatiq.Broker:
    """Make the broker of ``settings`` the process's broker (dramatiq's global one too), with every
    actor declared so far moved onto it. A no-op when the installed broker already fits them."""
    global _broker, _key
    key = _key_of(settings)
    if _broker is not None and _key == key:
        return _broker
    broker, previous = build_broker(settings), _broker
    if previous is not None:
        for actor in list(previous.actors.values()):
            actor.broker = broker
            broker.declare_actor(actor)
        previous.close()
    dramatiq.set_broker(broker)
    _broker, _key = broker, key
    return broker


def current_broker() -> dramatiq.Broker:
    """The installed broker (actor modules are imported after `install`, so they are declared on it)."""
    if _broker is None:
        raise RuntimeError("No broker is installed: import outboundql.workers (or call install) first.")
    return _broker


def is_embedded() -> bool:
    """Jobs run in this process (the in-memory broker of the embedded default)."""
    return isinstance(current_broker(), StubBroker)
