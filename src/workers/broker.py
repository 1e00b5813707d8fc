"""The one broker of the process: in-memory (embedded) or Redis (distributed), chosen by settings."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from outboundql.settings import Settings, get_settings
from outboundql.workers.middleware import DatabaseAsyncIO, HostLoopAsyncIO, ResumeScoringRuns


def build_broker(settings: Settings) -> dramatiq.Broker:
    """RedisBroker when ``redis_url`` is set (workers are separate processes), else a StubBroker
    whose worker thread runs inside the API server."""
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url)
        broker.add_middleware(DatabaseAsyncIO(settings.database_url))
        broker.add_middleware(ResumeScoringRuns())
    else:
        broker = StubBroker()
        broker.add_middleware(HostLoopAsyncIO())
    return broker


broker = build_broker(get_settings())
dramatiq.set_broker(broker)

EMBEDDED = isinstance(broker, StubBroker)
