"""The daily sending caps of the ``email`` channel hold across two ``outboundql worker`` processes on PostgreSQL.

48 contacts on three recipient domains are due at once; the project's e-mail channel (a real SMTP server, aiosmtpd
on 127.0.0.1) allows 12 mails a day from the sender and 5 a day to each domain. The test claims the attempts in
batches of four and queues their ``execute_attempts`` jobs in Redis, where two worker processes (two threads
each) take them side by side. Exactly 12 mails arrive, never more than 5 to one domain; the counters say 12 for
the sender and 12 over the domains (a mail refused by one cap took no slot of the other); every other attempt is
back on the schedule for the next UTC midnight with the reason, none dropped; both processes delivered.

The attempts are planned an hour ahead of the workers' clock (their own ticks never find them due), in a window
open all day every day; the schema is made with ``generate_schemas`` inside a schema of its own.
A trigger writes down, with the connection's ``application_name``, which process settled what.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.warnings import TortoiseLoopSwitchWarning

from outboundql import models
from outboundql.cadence import rules
from outboundql.cadence.settings import Step
from outboundql.enums import AttemptStatus, Channel, Eligibility, ExecutionMode, Weekday
from outboundql.goals.testing import registry_with
from outboundql.models import triggers
from outboundql.models.config import tortoise_config
from outboundql.services import cadence, channel_configs, execution, planning, scheduler
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from outboundql.services.clock import FakeClock
from outboundql.services.projects import CreateProject, create_project
from outboundql.workers.broker import broker_url
from outboundql.workers.execution import QUEUE
from tests import isolation
from tests.integration.conftest import child_env, pg_fetch, running_worker
from tests.integration.process_tree import wait_ready
from tests.integration.test_outreach_scheduler import _install_witness, _named, _pg_execute
from tests.smtp_sink import Sink, smtp_server

pytestmark = pytest.mark.integration

DEADLINE = 60.0  # seconds; bounds every wait, never asserted as a speed
DOMAINS = ("globex.example", "initech.example", "umbrella.example")
PER_DOMAIN = 16
SENDER_CAP, DOMAIN_CAP = 12, 5
BATCH = 4


@pytest.fixture
def clock() -> FakeClock:
    """The test plans and claims an hour ahead of the workers' clock."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1))


@contextlib.asynccontextmanager
async def _schema(pg_url: str) -> AsyncIterator[str]:
    """A new schema made from the models, the ORM of this process open on it; its URL."""
    url = await isolation.create_schema_url(pg_url)
    EXECUTOR_CACHE.clear()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=TortoiseLoopSwitchWarning)
            async with TortoiseContext() as ctx:
                await ctx.init(config=tortoise_config(url))
                await triggers.generate_schemas(ctx)
                yield url
    finally:
        await isolation.drop_schema_url(url)


@contextlib.asynccontextmanager
async def _worker(tmp_path: Path, url: str, redis_url: str, name: str) -> AsyncIterator[None]:
    """``outboundql worker --processes 1 --threads 2`` whose connections are named ``name``; its own ticks come
    once an hour (none finds the test's attempts due)."""
    env = child_env(OUTBOUNDQL_DATABASE_URL=_named(url, name), OUTBOUNDQL_REDIS_URL=redis_url,
                    OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS="3600", OUTBOUNDQL_SECRET_KEY="caps-test-" + "k" * 40)
    try:
        with running_worker("--processes", "1", "--threads", "2", cwd=tmp_path, env=env) as worker:
            await asyncio.to_thread(wait_ready, worker, 1, DEADLINE)
            yield
    finally:
        await _pg_execute(isolation.without_schema(url), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          f"WHERE application_name = '{isolation.schema_of(url)}/{name}'")


async def _campaign(port: int, clock: FakeClock) -> int:
    """A live MANUAL campaign of one e-mail step to 48 contacts, every row planned, due at the clock's time."""
    user = await models.User.create(email="ana@acme.example", name="Ana")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Mailers"))).project
    product = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=project.id, name="Warehouse OS"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Mail"))).campaign
    for domain in DOMAINS:
        for i in range(PER_DOMAIN):
            account = await models.Account.create(project=project, name=f"{domain} {i:02d}",
                                                  name_key=f"{domain} {i:02d}")
            await models.Contact.create(project=project, account=account, name=f"Person {i}",
                                        email=f"person{i}@{domain}")
    account_ids = list(await models.Account.filter(project_id=project.id).values_list("id", flat=True))
    await ca_service.add_accounts(access, registry_with(), ca_service.AddAccountsToCampaign(campaign.id, account_ids))
    await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, rules.CadenceChange(
        steps=(Step(channel=Channel.EMAIL, subject="Hello {{account.name}}", body="Hi {{contact.first_name}}."),),
        window=rules.WindowChange(start_time="00:00", end_time="00:00", days=tuple(Weekday)),
        execution_mode=ExecutionMode.MANUAL, eligibility=Eligibility.ALL)))
    await channel_configs.configure_channel(access, channel_configs.ConfigureChannel(
        project_id=project.id, key="email", kind=Channel.EMAIL, settings={
            "host": "127.0.0.1", "port": port, "security": "none", "fromAddress": "ana@acme.example",
            "fromName": "Ana", "dailyCapPerSender": SENDER_CAP, "dailyCapPerRecipientDomain": DOMAIN_CAP}))
    await execution.go_live(access, execution.GoLive(campaign.id))
    await execution.start_outreach(access, execution.StartOutreach(campaign.id))
    while await planning.plan_pending(campaign.id, clock.now()):
        pass
    assert await models.OutreachAttempt.filter(campaign_id=campaign.id, status=AttemptStatus.SCHEDULED,
                                               due_at__lte=clock.now()).count() == len(DOMAINS) * PER_DOMAIN
    return project.id


async def _statuses(url: str) -> Counter[str]:
    rows = await pg_fetch(url, "SELECT status, COUNT(*) AS n FROM outreach_attempt GROUP BY status")
    return Counter({r["status"]: r["n"] for r in rows})


async def test_caps_hold_across_two_worker_processes(tmp_path: Path, pg_url: str, private_redis_url: str,
                                                     clock: FakeClock) -> None:
    total = len(DOMAINS) * PER_DOMAIN
    # Each mail takes the server a moment: a batch outlasts an idle worker's poll of the queue (up to a second), so
    # the first process to wake cannot execute every batch before the other one wakes.
    async with smtp_server(Sink(accept_delay=0.5)) as sink, _schema(pg_url) as url:
        await _install_witness(url)
        project_id = await _campaign(sink.port, clock)
        broker = RedisBroker(url=broker_url(private_redis_url))
        try:
            async with _worker(tmp_path, url, private_redis_url, "a"), _worker(tmp_path, url, private_redis_url, "b"):
                # Every due attempt claimed in small batches, then each batch queued as one job: all claimed first,
                # as the workers' clock is an hour behind this one (a job that started would look an hour late to a
                # claim made here).
                claims: list[tuple[str, list[int]]] = []
                while (claim := await scheduler.claim(clock.now(), BATCH))[1]:
                    claims.append(claim)
                for token, batch in claims:
                    await asyncio.to_thread(broker.enqueue, dramatiq.Message(
                        queue_name=QUEUE, actor_name="execute_attempts", args=(batch, token), kwargs={}, options={}))
                end = asyncio.get_running_loop().time() + DEADLINE
                while (statuses := await _statuses(url))["executing"]:
                    assert asyncio.get_running_loop().time() < end, f"not settled within {DEADLINE}s: {statuses}"
                    await asyncio.sleep(0.1)
        finally:
            broker.close()

        assert statuses == {"done": SENDER_CAP, "scheduled": total - SENDER_CAP}
        received = Counter(recipients[0].rpartition("@")[2] for _, recipients in sink.envelopes)
        assert sum(received.values()) == SENDER_CAP and max(received.values()) <= DOMAIN_CAP
        counters = {r["counter"]: r["taken"] for r in await pg_fetch(
            url, f"SELECT counter, taken FROM send_quota WHERE project_id = {project_id}")}
        assert counters.pop("sender:ana@acme.example") == SENDER_CAP
        assert sum(counters.values()) == SENDER_CAP and all(n <= DOMAIN_CAP for n in counters.values())
        assert {k.partition(":")[2]: n for k, n in counters.items()} == dict(received)
        waiting = await pg_fetch(url, "SELECT due_at, error FROM outreach_attempt WHERE status = 'scheduled'")
        midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        assert {r["due_at"] for r in waiting} == {midnight}
        assert all("daily sending cap" in r["error"] for r in waiting)
        settled_by = {r["app"].rpartition("/")[2] for r in await pg_fetch(
            url, "SELECT app FROM attempt_witness WHERE status IN ('done', 'scheduled')")}
        assert settled_by == {"a", "b"}  # both processes delivered (or deferred) attempts
