"""Services called directly, as ``bench/``, ``serve --demo`` and the CLI call them, publish the same
live events as the API: a subscriber of the (in-process) event bus sees them arrive."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from outboundql import models
from outboundql.demo import ACCOUNT_COUNT, seed_demo
from outboundql.enums import ScoringStatus
from outboundql.services import campaign_accounts, campaigns, events, products, runtime, scoring_runs
from outboundql.services.access import Access
from tests.helpers import Person


@contextlib.asynccontextmanager
async def listening(channel: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The events published on ``channel`` while the block runs (subscribed before it starts)."""
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in events.get_bus().subscribe(channel):
            received.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)  # the subscription is registered once the consumer first waits
    try:
        yield received
        for _ in range(10):
            await asyncio.sleep(0)  # let the consumer drain what was published last
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_services_bench_calls_publish_campaign_events(owner: Person, project: models.Project,
                                                                jobs: Any) -> None:
    """bench/: add accounts to a campaign, score it, let the jobs run: the campaign's subscribers see
    the accounts change and every step of the scoring, as they do when the API does it."""
    access = await Access.for_user(owner.user)
    goals = runtime.goals()
    product = (await products.create_product(access, products.CreateProduct(
        project_id=project.id, name="Warehouse OS", description="Software that runs warehouses"))).product
    ids = [(await models.Account.create(project=project, name=f"Company {i}", industry="Logistics",
                                        country="ES", employee_count=200)).id for i in range(4)]
    campaign = (await campaigns.create_campaign(access, goals, campaigns.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Bench"))).campaign

    async with listening(events.campaign_channel(campaign.id)) as received:
        added = await campaign_accounts.add_accounts(
            access, goals, campaign_accounts.AddAccountsToCampaign(campaign_id=campaign.id, account_ids=ids))
        assert added.added == 4
        started = await scoring_runs.score_campaign(
            access, goals, scoring_runs.ScoreCampaign(campaign_id=campaign.id, scorer="rubric"))
        assert started.started
        await jobs()

    assert received[0] == {"kind": "accounts_changed", "campaign_id": campaign.id}
    progress = [e for e in received if e["kind"] == "scoring_progress"]
    run = {"kind": "scoring_progress", "campaign_id": campaign.id, "run_id": started.run.id}
    assert progress[0] == {**run, "status": ScoringStatus.RUNNING.value, "done": 0, "total": 4, "failed": 0}
    assert progress[-1] == {**run, "status": ScoringStatus.COMPLETED.value, "done": 4, "total": 4, "failed": 0}
    assert [e["kind"] for e in received[1:]] == ["scoring_progress"] * len(progress)


async def test_the_demo_seeder_publishes_an_account_event_per_account(db: Any) -> None:
    """serve --demo: each seeded account reaches the project's subscribers, ``created`` (or ``merged``
    for the few the deduplication folds into an earlier one), as a bulk create through the API does.
    The database is fresh, so the demo project is its first (subscribed to before it exists)."""
    async with listening(events.account_channel(1)) as received:
        secret = await seed_demo()

    project = await models.Project.get(name="Demo Outbound")
    assert project.id == 1 and secret.startswith("oql_")
    account_ids = set(await models.Account.filter(project_id=project.id).values_list("id", flat=True))
    assert len(received) == ACCOUNT_COUNT
    assert {e["kind"] for e in received} <= {"created", "merged"}
    assert sorted(e["account_id"] for e in received if e["kind"] == "created") == sorted(account_ids)
    assert {e["account_id"] for e in received} == account_ids


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_change_committed_while_the_event_bus_is_down_is_reported_as_done(
        owner: Person, project: models.Project, settings: Any, caplog: Any) -> None:
    """The bus (Redis) fails after the write committed: the service answers the write as done, the
    change is saved, and the lost live update is logged, never raised (a client told the write failed
    would retry it and repeat it)."""
    access = await Access.for_user(owner.user)
    product = (await products.create_product(access, products.CreateProduct(
        project_id=project.id, name="Warehouse OS"))).product
    nothing_listens = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_free_port()}/0"})
    current = runtime.current()
    with runtime.using(runtime.Runtime(nothing_listens, current.goals, current.jobs)):
        created = await campaigns.create_campaign(access, current.goals, campaigns.CreateCampaign(
            project_id=project.id, product_id=product.id, name="Quiet launch"))
    assert (await models.Campaign.get(id=created.campaign.id)).name == "Quiet launch"
    assert any("was not published" in r.getMessage() for r in caplog.records)
