"""The Redis broker's connection options: a hung Redis fails a send within the broker's socket timeout."""

from __future__ import annotations

import pytest
from dramatiq.brokers.redis import RedisBroker

from outboundql.settings import Settings
from outboundql.workers.broker import REDIS_SOCKET_TIMEOUT, broker_url, build_broker


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6379/0",
     "redis://127.0.0.1:6379/0?socket_timeout=2&socket_connect_timeout=2"),
    ("rediss://user:p%40ss@redis.internal:6380/3?ssl_cert_reqs=none",
     "rediss://user:p%40ss@redis.internal:6380/3?ssl_cert_reqs=none&socket_timeout=2&socket_connect_timeout=2"),
    ("unix:///run/redis.sock?db=1", "unix:///run/redis.sock?db=1&socket_timeout=2&socket_connect_timeout=2"),
    ("redis://h/0?socket_timeout=7", "redis://h/0?socket_timeout=7&socket_connect_timeout=2"),
    ("redis://h/0?socket_connect_timeout=1&socket_timeout=0.5", "redis://h/0?socket_connect_timeout=1&socket_timeout=0.5"),
])
def test_the_broker_url_gets_socket_timeouts_unless_it_gives_them(url: str, expected: str) -> None:
    assert broker_url(url) == expected


def test_the_redis_broker_connects_with_the_timeouts() -> None:
    """RedisBroker ignores keyword timeouts: they must reach its connection pool through the URL."""
    broker = build_broker(Settings(database_url="sqlite://:memory:", redis_url="redis://127.0.0.1:6399/5"))
    try:
        assert isinstance(broker, RedisBroker)
        options = broker.client.connection_pool.connection_kwargs
        assert (options["socket_timeout"], options["socket_connect_timeout"]) == (REDIS_SOCKET_TIMEOUT,) * 2
        assert (options["port"], options["db"]) == (6399, 5)
    finally:
        broker.close()
