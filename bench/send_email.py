"""Benchmark: e-mail throughput through the engine and the ``email`` channel against a raw aiosmtplib loop.

    python -m bench.send_email [--mode distributed|embedded] [--mails 2000] [--repeat 2]

Both send to the same local SMTP server (aiosmtpd on 127.0.0.1, in a thread of this process, counting what it
accepts). ``distributed`` (the default): PostgreSQL on 127.0.0.1:5432 (a throwaway database) and Redis
(``OUTBOUNDQL_BENCH_REDIS_URL``, default db 15, flushed), with ``outboundql worker --processes 2 --threads 2``
started (and booted) before the timing; its two processes tick by themselves every 0.05 s. ``embedded``: a SQLite
file, this process ticking the scheduler back to back and the in-process dramatiq worker running the jobs on this
event loop, as ``outboundql serve`` does.

Seeds ``--mails`` accounts, each with one contact with an e-mail address (on 50 domains), and one campaign per
repetition with every account APPROVED: one EMAIL step with subject and body templates, the window the whole day
every day, ON_ADD, the project's ``email`` channel configured to the local server (caps raised out of the way; they
are still taken, one transaction per mail). Then measures in the same run, best of ``--repeat``:

(a) the engine end to end: ``goLive`` → every row planned (wording, address, due time) → claimed by the workers'
    ticks → each attempt delivered by the channel (caps taken, the MIME mail built, sent over the SMTP connection
    the channel keeps for the job's batch) → settled DONE with its Message-ID, its message logged on the thread (in
    bulk for the batch) — until the server accepted every mail and every attempt is DONE;
(b) the raw loop: the same mails (the bytes the server received in (a)) sent one after another with
    ``aiosmtplib.send`` (a connection per mail, as the channel did before it kept one per batch: the target's
    baseline);
(c) the same mails over one kept connection (``SMTP.sendmail`` in a loop): the floor of the server itself.

Prints mails per second of each and the ratios (a) / (b) and (a) / (c). Not a test: nothing is asserted but the
end states.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bench import PG_BASE, pg_admin

if TYPE_CHECKING:
    from outboundql.settings import Settings

REDIS_URL = os.environ.get("OUTBOUNDQL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
TICK_SECONDS = "0.05"  # the worker processes' scheduler interval in distributed mode
DOMAINS = 50
FIRST = ["Dana", "Luis", "Marta", "Jon", "Aiko", "Pierre", "Greta"]
SENDER = "bench@acme.example"


@dataclass
class Sink:
    """An aiosmtpd handler that keeps each accepted mail's envelope and bytes."""

    mails: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.mails)

    def clear(self) -> None:
        with self.lock:
            self.mails.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(n: int, campaigns_needed: int, port: int) -> tuple[Any, list[int]]:
    """A project with its ``email`` channel, ``n`` accounts each with one contact with an e-mail address, and
    ``campaigns_needed`` campaigns (one EMAIL step, the whole day every day, ON_ADD) with every account APPROVED."""
    from outboundql import models
    from outboundql.cadence import rules
    from outboundql.cadence.settings import Step
    from outboundql.enums import Channel, ExecutionMode, ReviewStatus, Weekday
    from outboundql.goals.testing import registry_with
    from outboundql.services import cadence, campaign_stats, campaigns, channel_configs
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    user = await models.User.create(email=SENDER, name="Bench Sender")
    access = await Access.for_user(user)
    project = (await create_project(access, CreateProject(name="Bench"))).project
    product = await models.Product.create(project=project, name="Warehouse OS", slug="warehouse-os",
                                          description="Software that runs warehouses for logistics teams")
    await models.Account.bulk_create([
        models.Account(project=project, name=f"Company {i:05d}", name_key=f"company {i:05d}") for i in range(n)
    ], batch_size=1000)
    ids = list(await models.Account.filter(project_id=project.id).order_by("id").values_list("id", flat=True))
    await models.Contact.bulk_create([
        models.Contact(project=project, account_id=a, name=f"{FIRST[k % len(FIRST)]} Person{k}",
                       email=f"person{k}@domain{k % DOMAINS}.example", is_decision_maker=True)
        for k, a in enumerate(ids)
    ], batch_size=1000)
    await channel_configs.configure_channel(access, channel_configs.ConfigureChannel(
        project_id=project.id, key="email", kind=Channel.EMAIL, settings={
            "host": "127.0.0.1", "port": port, "security": "none", "fromAddress": SENDER, "fromName": "Bench Sender",
            "replyTo": "replies@acme.example", "dailyCapPerSender": 100_000, "dailyCapPerRecipientDomain": 100_000}))
    change = rules.CadenceChange(
        steps=(Step(channel=Channel.EMAIL, subject="A question for {{account.name}}",
                    body="Hi {{contact.first_name}},\n\nDoes {{account.name}} run its own warehouses? "
                         "{{product.name}} might help.\n\n{{sender.name}}"),),
        execution_mode=ExecutionMode.ON_ADD,
        window=rules.WindowChange(start_time="00:00", end_time="00:00", days=tuple(Weekday)))
    campaign_ids: list[int] = []
    for k in range(campaigns_needed):
        campaign = (await campaigns.create_campaign(access, registry_with(), campaigns.CreateCampaign(
            project_id=project.id, product_id=product.id, name=f"Bench {k + 1}"))).campaign
        await cadence.update_cadence(access, cadence.UpdateCadence(campaign.id, change))
        await models.CampaignAccount.bulk_create([
            models.CampaignAccount(campaign=campaign, account_id=a, review_status=ReviewStatus.APPROVED)
            for a in ids], batch_size=1000)
        campaign_ids.append(campaign.id)
    await campaign_stats.recount(campaign_ids)
    return access, campaign_ids


async def _engine_once(access: Any, campaign_id: int, n: int, sink: Sink, distributed: bool) -> float:
    """Go live and wait until the server accepted ``n`` mails and every attempt is DONE: the seconds it took."""
    from outboundql import models
    from outboundql.enums import AttemptStatus
    from outboundql.services import execution, scheduler
    from outboundql.workers import current_broker
    from outboundql.workers.execution import QUEUE

    sink.clear()
    start = time.perf_counter()
    await execution.go_live(access, execution.GoLive(campaign_id))
    done = models.OutreachAttempt.filter(campaign_id=campaign_id, status=AttemptStatus.DONE)
    while True:
        if distributed:  # the worker processes tick by themselves
            await asyncio.sleep(0.02)
        elif not (await scheduler.tick()).claimed:  # ticks back to back; the jobs run on this loop meanwhile
            await asyncio.to_thread(current_broker().join, QUEUE)
        if sink.count() >= n and await done.count() == n:
            break
    seconds = time.perf_counter() - start
    assert sink.count() == n, (sink.count(), n)
    assert await models.OutreachAttempt.filter(campaign_id=campaign_id, status=AttemptStatus.DONE,
                                               provider_id__isnull=False).count() == n
    return seconds


async def _raw(mails: list[tuple[str, list[str], bytes]], port: int, sink: Sink, repeat: int) -> tuple[float, float]:
    """Best seconds of (b) a connection per mail and (c) one kept connection, sending ``mails`` as they are."""
    import aiosmtplib

    best_each = best_kept = float("inf")
    for _ in range(repeat):
        sink.clear()
        start = time.perf_counter()
        for sender, recipients, content in mails:
            await aiosmtplib.send(content, sender=sender, recipients=recipients, hostname="127.0.0.1", port=port,
                                  start_tls=False, local_hostname="bench.local")
        best_each = min(best_each, time.perf_counter() - start)
        assert sink.count() == len(mails)
        sink.clear()
        start = time.perf_counter()
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, local_hostname="bench.local")
        async with client:
            for sender, recipients, content in mails:
                await client.sendmail(sender, recipients, content)
        best_kept = min(best_kept, time.perf_counter() - start)
        assert sink.count() == len(mails)
    return best_each, best_kept


async def bench(settings: Settings, n: int, repeat: int) -> None:
    import dramatiq
    from aiosmtpd.controller import Controller
    from tortoise import Tortoise

    from outboundql.goals.testing import registry_with
    from outboundql.models import triggers
    from outboundql.models.config import tortoise_config
    from outboundql.services import runtime
    from outboundql.workers import DramatiqJobs, install

    distributed = settings.redis_url is not None
    mode = "distributed (2 worker processes)" if distributed else "embedded (in-process worker)"
    broker = install(settings)
    runtime.configure(runtime.Runtime(settings, registry_with(), DramatiqJobs()))
    url = settings.database_url
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    # A throwaway database, made from the models.
    await triggers.generate_schemas(Tortoise)
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    workers: subprocess.Popen[bytes] | None = None
    embedded_worker = None
    try:
        t0 = time.perf_counter()
        access, campaign_ids = await _seed(n, repeat, port)
        print(f"mode: {mode}  mails: {n}  seeded in {time.perf_counter() - t0:.2f}s")
        if distributed:
            env = {**os.environ, "OUTBOUNDQL_DATABASE_URL": url, "OUTBOUNDQL_REDIS_URL": str(settings.redis_url),
                   "OUTBOUNDQL_SCHEDULER_INTERVAL_SECONDS": TICK_SECONDS,
                   "OUTBOUNDQL_SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else ""}
            workers = subprocess.Popen([str(Path(sys.executable).with_name("outboundql")), "worker", "--processes", "2",
                                        "--threads", "2"], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            await asyncio.sleep(8)  # boot (imports, ORM, Redis) outside the timing
        else:
            embedded_worker = dramatiq.Worker(broker, worker_threads=settings.embedded_worker_threads)
            embedded_worker.start()
        runs = []
        for campaign_id in campaign_ids:
            runs.append(await _engine_once(access, campaign_id, n, sink, distributed))
            sent = list(sink.mails)
        engine = min(runs)
        if workers is not None:  # idle ticks would share the machine with the raw loop
            os.killpg(workers.pid, signal.SIGTERM)
            workers.wait(timeout=60)
            workers = None
        each, kept = await _raw(sent, port, sink, repeat)
        print(f"(a) engine: goLive → {n} mails accepted, all DONE, best of {repeat}: {engine:8.2f} s  "
              f"{n / engine:8.0f} mails/s")
        print(f"(b) raw aiosmtplib.send loop (a connection per mail):     {each:8.2f} s  {n / each:8.0f} mails/s")
        print(f"(c) raw sendmail loop over one connection:                 {kept:8.2f} s  {n / kept:8.0f} mails/s")
        print(f"ratio engine / raw (b): {engine / each:.2f}x  (target: within 2x); engine / (c): {engine / kept:.2f}x")
    finally:
        if embedded_worker is not None:
            await asyncio.to_thread(embedded_worker.stop)
        if workers is not None:
            os.killpg(workers.pid, signal.SIGTERM)
            workers.wait(timeout=60)
        controller.stop()
        await Tortoise.close_connections()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.send_email", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["distributed", "embedded"], default="distributed")
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from outboundql.settings import Settings

    tmp = tempfile.TemporaryDirectory(prefix="oql-bench-")
    name = f"oql_bench_{uuid.uuid4().hex[:10]}"
    for key in [k for k in os.environ if k.startswith("OUTBOUNDQL_") and not k.startswith("OUTBOUNDQL_BENCH_")]:
        del os.environ[key]
    secret = f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}"  # one key for this process and the workers (the links)
    if args.mode == "distributed":
        import redis

        settings = Settings(database_url=urlsplit(PG_BASE)._replace(path=f"/{name}").geturl(), redis_url=REDIS_URL,
                            secret_key=secret)
        redis.Redis.from_url(REDIS_URL).flushdb()
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    else:
        settings = Settings(database_url=f"sqlite://{tmp.name}/bench.sqlite3", redis_url=None, secret_key=secret)
    try:
        asyncio.run(bench(settings, args.mails, args.repeat))
    finally:
        if args.mode == "distributed":
            import redis

            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            redis.Redis.from_url(REDIS_URL).flushdb()
        tmp.cleanup()


if __name__ == "__main__":
    main()
