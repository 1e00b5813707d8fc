"""Shared fixtures.

* ``db``: a fresh database per test: in-memory SQLite, or PostgreSQL when
  ``OUTBOUNDQL_TEST_DATABASE_URL`` is set (a schema of its own inside the database that URL names,
  created and dropped: see `tests.isolation`).
* ``client``: an httpx client on the ASGI app (the ``db`` fixture owns the ORM).
* ``make_user`` / ``owner``: users with API tokens; ``gql``: run an operation as someone.
* ``count_queries``: counts the SQL statements tortoise sends.
* ``stub_broker``: the in-memory broker, emptied after each test.

Integration tests (PostgreSQL, Redis, worker processes) use ``pg_url`` / ``redis_url``; they
skip with a reason on a machine without those services, and fail instead when ``CI`` is set.
Tests write only inside the database and the Redis DB those URLs name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext, tortoise_test_context
from tortoise.warnings import TortoiseLoopSwitchWarning

from outboundql import models
from outboundql.app import create_app
from outboundql.channels.registry import ChannelRegistry
from outboundql.channels.registry import registry_with as channel_registry_with
from outboundql.classifiers.registry import ClassifierRegistry
from outboundql.classifiers.registry import registry_with as classifier_registry_with
from outboundql.enums import Role
from outboundql.goals.testing import registry_with
from outboundql.models import triggers
from outboundql.models.config import MODEL_MODULES, tortoise_config
from outboundql.scoring.registry import ScorerRegistry
from outboundql.scoring.registry import registry_with as scorer_registry_with
from outboundql.services import runtime
from outboundql.services.clock import Clock, SystemClock
from outboundql.services.tokens import CreateApiToken, create_api_token
from outboundql.settings import Settings
from outboundql.workers import DramatiqJobs, current_broker
from tests import isolation
from tests.helpers import Person

TEST_DATABASE_URL = os.environ.get("OUTBOUNDQL_TEST_DATABASE_URL")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def _require_service(url: str, what: str) -> str:
    if not _reachable(url):
        message = f"{what} is not reachable at {url}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide it.")
        pytest.skip(f"{message}; set OUTBOUNDQL_TEST_* to run integration tests.")
    return url


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL database of integration tests; they work in schemas of their own inside it
    (`database`, ``empty_pg_url``), never in another database."""
    return _require_service(os.environ.get("OUTBOUNDQL_TEST_DATABASE_URL") or DEFAULT_PG_URL, "PostgreSQL")


@pytest.fixture
def redis_url() -> str:
    """The Redis DB of integration tests (``private_redis_url`` flushes it); no other DB is touched."""
    return _require_service(os.environ.get("OUTBOUNDQL_TEST_REDIS_URL") or DEFAULT_REDIS_URL, "Redis")


@contextlib.asynccontextmanager
async def database(url: str | None = None, *, pooled: bool = False) -> AsyncIterator[Any]:
    """A fresh schema (generate_schemas) on SQLite memory, or in a new PostgreSQL schema of the database
    ``url`` names (`tests.isolation`: nothing else on that server is created or dropped). ``pooled``: a
    PostgreSQL schema an earlier test left as new (`isolation.SchemaPool`) is taken instead of a new one, and
    the schema is emptied and kept for the next test rather than dropped."""
    # tortoise caches prepared INSERT/UPDATE SQL per (model, connection name); every test database is
    # called "default", so a process that moves between SQLite and PostgreSQL must start afresh.
    EXECUTOR_CACHE.clear()
    if not url:
        async with tortoise_test_context(list(MODEL_MODULES), db_url="sqlite://:memory:") as ctx:
            await triggers.install(ctx.db())  # it generated the schema from the models
            yield ctx
        return
    schema_url = isolation.schema_pool.take(url) if pooled else None
    built = schema_url is None
    if schema_url is None:
        schema_url = await isolation.create_schema_url(url)
    passed = False
    try:
        with warnings.catch_warnings():  # as tortoise_test_context (which would CREATE DATABASE) does
            warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(schema_url))
                if built:
                    await triggers.generate_schemas(ctx)
                    if pooled:
                        await isolation.schema_pool.remember_shape(schema_url)
                yield ctx
        passed = True
    finally:
        if pooled and passed:
            await isolation.schema_pool.give_back(url, schema_url)
        else:
            await isolation.drop_schema_url(schema_url)


@contextlib.asynccontextmanager
async def global_database(url: str | None = None, *, pooled: bool = False) -> AsyncIterator[Any]:
    """`database`, made the global ORM context for the block: every task (and every connection of
    the pool) sees it, as the app's do."""
    async with database(url, pooled=pooled) as ctx:
        from tortoise.context import set_global_context

        set_global_context(ctx, force=True) if _accepts_force() else set_global_context(ctx)
        try:
            yield ctx
        finally:
            import tortoise.context as tc

            tc._global_context = None  # no public "unset" (see STACK-NOTES)


def pytest_sessionfinish() -> None:
    # Schemas of this run that an interrupted test did not drop go now; the run's lock goes with them.
    isolation.release_run_locks()


@pytest.fixture
async def db() -> AsyncIterator[Any]:
    if TEST_DATABASE_URL:
        _require_service(TEST_DATABASE_URL, "PostgreSQL")
    async with global_database(TEST_DATABASE_URL, pooled=True) as ctx:
        yield ctx


def _accepts_force() -> bool:
    import inspect

    from tortoise.context import set_global_context

    return "force" in inspect.signature(set_global_context).parameters


@pytest.fixture
def settings() -> Settings:
    # The tests' webhook receivers listen on 127.0.0.1 (tests/api/test_webhook_http.py checks the refusal).
    return Settings(database_url="sqlite://:memory:", redis_url=None, webhook_private_addresses=True)


@pytest.fixture
def clock() -> Clock:
    """The clock of the ``client``'s app and of services called directly: the system's; a module that moves
    time overrides it with a `FakeClock`."""
    return SystemClock()


@pytest.fixture
def channels() -> ChannelRegistry:
    """The channel plugins of the ``client``'s app and of services called directly: the built-in ones; a module
    that tests a channel of its own overrides it with `registry_with(its_plugin)`."""
    return channel_registry_with()


@pytest.fixture
def classifiers() -> ClassifierRegistry:
    """The reply classifier plugins of the ``client``'s app and of services called directly: the built-in ones; a
    module that tests a classifier of its own overrides it with `registry_with(its_plugin)`."""
    return classifier_registry_with()


@pytest.fixture
def scorers() -> ScorerRegistry:
    """The scorer plugins of the ``client``'s app and of services called directly: the built-in ones; a module
    that tests a scorer of its own overrides it with `registry_with(its_plugin)`."""
    return scorer_registry_with()


@pytest.fixture
async def client(db: Any, settings: Settings, clock: Clock, channels: ChannelRegistry, classifiers: ClassifierRegistry,
                 scorers: ScorerRegistry) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with(), clock=clock,
                     channels=channels, classifiers=classifiers, scorers=scorers)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def stub_broker() -> Iterator[Any]:
    broker = current_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def jobs(stub_broker: Any) -> Any:
    """``await jobs()`` runs a real dramatiq worker on the test's own loop (HostLoopAsyncIO, as the
    embedded server does) until every queued job, retries included, is done, then stops it."""
    import asyncio

    import dramatiq

    async def run(*, fail_fast: bool = True) -> None:
        worker = dramatiq.Worker(stub_broker, worker_threads=1, worker_timeout=50)
        worker.start()  # on the running loop: async actors run here
        try:
            for _ in range(2):  # a job may enqueue into a queue joined before it
                for queue in ("scoring", "outreach", "imports", "default"):
                    await asyncio.to_thread(stub_broker.join, queue, fail_fast=fail_fast)
            await asyncio.to_thread(worker.join)
        finally:
            await asyncio.to_thread(worker.stop)

    return run


@pytest.fixture(autouse=True)
def _empty_broker() -> Iterator[None]:
    # Requests enqueue jobs (e.g. token touches); nothing leaks into the next test.
    yield
    current_broker().flush_all()


@pytest.fixture(autouse=True)
def _runtime(settings: Settings, clock: Clock, channels: ChannelRegistry, classifiers: ClassifierRegistry,
             scorers: ScorerRegistry) -> Iterator[runtime.Runtime]:
    """What services run with when a test calls them directly: the test's ``settings``, the built-in
    goals, dramatiq jobs and the ``clock`` (a ``client`` replaces it with its app's, as `create_app` does)."""
    configured = runtime.Runtime(settings, registry_with(), DramatiqJobs(), clock, channels, classifiers, scorers)
    with runtime.using(configured):
        yield configured


@pytest.fixture
def make_user(db: Any) -> Any:
    async def make(email: str, name: str = "") -> Person:
        user = await models.User.create(email=email, name=name or email.split("@")[0])
        return Person(user, (await create_api_token(user, CreateApiToken(name="test"))).secret)

    return make


@pytest.fixture
async def owner(make_user: Any) -> Person:
    return await make_user("owner@example.com", "Olivia Owner")


@pytest.fixture
def add_member(db: Any) -> Any:
    async def add(person: Person, project: models.Project, role: Role) -> None:
        from outboundql.services.auth_cache import invalidate_user_access

        await models.Membership.create(user=person.user, project=project, role=role)
        await invalidate_user_access(person.user.id)  # as every writer of memberships does

    return add


@pytest.fixture
def make_project(db: Any) -> Any:
    """Create a project owned by ``person`` directly through the service layer."""
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    async def make(person: Person, name: str = "Acme Outbound") -> models.Project:
        return (await create_project(await Access.for_user(person.user), CreateProject(name=name))).project

    return make


@pytest.fixture
async def project(owner: Person, make_project: Any) -> models.Project:
    return await make_project(owner)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Any:
    """``await gql(QUERY, variables, as_=person)`` → the response JSON (``data`` and maybe ``errors``)."""

    async def run(query: str, variables: dict[str, Any] | None = None, *, as_: Person | None = None,
                  headers: dict[str, str] | None = None) -> dict[str, Any]:
        h = dict(headers or {})
        if as_ is not None:
            h.update(as_.headers)
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        assert response.status_code == 200, response.text
        return response.json()

    return run


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def selects(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT"))

    def __len__(self) -> int:
        return len(self.statements)


class _Capture(logging.Handler):
    def __init__(self, counter: QueryCounter) -> None:
        super().__init__(logging.DEBUG)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        head = message.lstrip().split(None, 1)[0].upper() if message.strip() else ""
        if head in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            self.counter.statements.append(message)


@pytest.fixture
def count_queries() -> Any:
    """``with count_queries() as q: ...`` then ``q.selects`` / ``len(q)``."""

    @contextlib.contextmanager
    def capture() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        logger = logging.getLogger("tortoise.db_client")
        handler = _Capture(counter)
        old_level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            yield counter
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)

    return capture
