"""The engine delivering through a configured channel plugin: a test channel registered through the hook and
configured for EMAIL on a live campaign, executed by the scheduler with the injected clock. What it is handed
(language, thread, links, quota, the configuration with its secret), and what each answer does: Delivered settles
at once and plans the next step, Deferred reschedules (never past the window), a bounce marks the row BOUNCED and
tries the next contact, an exception is a retryable failure; a suppressed address with nobody else to try
disqualifies the row. Plugins that break the contract are refused naming the plugin."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest

from outboundql import models
from outboundql.channels import (
    AwaitingResult,
    Configured,
    Deferred,
    Delivered,
    Delivery,
    DeliveryFailed,
    DeliveryResult,
    Setting,
)
from outboundql.channels.registry import ChannelRegistrationError, ChannelRegistry, registry_with
from outboundql.enums import AttemptStatus, SuppressionKind
from outboundql.goals import hookimpl
from outboundql.services import attempts, scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step, gid, iso
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_channel_configs import CONFIGURE
from tests.helpers import data_of

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "email": "dana@acme.example", "is_decision_maker": True}
EVE = {"name": "Eve Ortiz", "email": "eve@acme.example"}
Answer = Callable[[Delivery], DeliveryResult]
ATTEMPT = "query($id: ID!) { node(id: $id) { ... on OutreachAttempt { providerId error } } }"


class Probe:
    """A channel whose answer the test sets (``answer``; ``meanwhile`` runs as it delivers), keeping what it was
    handed."""

    key = "probe"
    label = "Probe (test)"
    serves = frozenset({"email"})
    settings = (Setting(key="sender", label="Sender", type="email", required=True),
                Setting(key="token", label="Token", secret=True))

    def __init__(self) -> None:
        self.handed: list[tuple[Delivery, Configured]] = []
        self.answer: Answer = lambda delivery: AwaitingResult()
        self.meanwhile: Callable[[Delivery], Awaitable[None]] | None = None

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        self.handed.append((delivery, config))
        if self.meanwhile is not None:
            await self.meanwhile(delivery)
        return self.answer(delivery)


PROBE = Probe()


@hookimpl
def outboundql_register_channels(register: Any) -> None:
    register(PROBE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


@pytest.fixture
def channels() -> ChannelRegistry:
    return registry_with(types.SimpleNamespace(__name__="probe_plugin",
                                               outboundql_register_channels=outboundql_register_channels))


@pytest.fixture
def probe() -> Probe:
    PROBE.handed.clear()
    PROBE.answer = lambda delivery: AwaitingResult()
    PROBE.meanwhile = None
    return PROBE


async def live(world: World, *steps: dict[str, Any], **cadence: Any) -> None:
    """The probe configured for EMAIL, the cadence set (executed as rows are added) and the campaign live."""
    configured = data_of(await world.gql(CONFIGURE, {"input": {
        "projectId": gid("Project", world.project), "key": "probe", "kind": "EMAIL",
        "settings": {"sender": "ana@outbound.example"}, "secrets": {"token": "s3cret"}}}, as_=world.owner))
    assert configured["configureChannel"]["errors"] == []
    await world.cadence(steps=list(steps), executionMode="ON_ADD", **cadence)
    await world.go_live()


async def attempts_of(row: models.CampaignAccount) -> list[models.OutreachAttempt]:
    return list(await models.OutreachAttempt.filter(campaign_account_id=row.id).order_by("id"))


async def test_delivered_settles_at_once_and_the_follow_up_carries_the_thread(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"),
               email_step(delayMinutes=60, subject="Again", body="Second"), campaignType="FOLLOW_UP")
    probe.answer = lambda delivery: Delivered(provider_id=f"<{delivery.delivery_key}@outbound.example>",
                                              note="250 accepted")
    first = (await attempts_of(row))[0]
    assert (await world.at(NINE)).claimed == [first.id]

    delivery, config = probe.handed[0]
    assert (delivery.attempt_id, delivery.channel, delivery.address, delivery.subject, delivery.body) == (
        first.id, "email", "dana@acme.example", "Hello", "First")
    assert (delivery.language, delivery.thread, delivery.step, delivery.attempt_number) == ("en", (), 1, 1)
    assert delivery.unsubscribe_url is not None and "/unsubscribe/" in delivery.unsubscribe_url
    assert delivery.result_url is not None and "/channels/results/" in delivery.result_url
    assert delivery.quota is not None
    assert (config.kind, dict(config.settings), dict(config.secrets)) == (
        "email", {"sender": "ana@outbound.example"}, {"token": "s3cret"})

    settled = (await world.row(row))
    done = next(a for a in settled["attempts"] if a["step"] == 1)
    assert (done["status"], done["outcome"], done["executedAt"], done["notes"]) == ("DONE", "SENT", iso(NINE),
                                                                                    "250 accepted")
    assert done["message"] is not None and done["message"]["direction"] == "OUTBOUND"
    assert done["message"]["subject"] == "Hello"
    assert settled["execution"]["attemptsMade"] == 1
    follow_up = settled["execution"]["nextAttempt"]
    assert (follow_up["step"], follow_up["status"], follow_up["dueAt"]) == (2, "SCHEDULED",
                                                                            iso(NINE + timedelta(minutes=60)))
    assert settled["outreachStatus"] != "NEW"
    shown = data_of(await world.gql(ATTEMPT, {"id": gid("OutreachAttempt", first)}, as_=world.owner))["node"]
    assert shown == {"providerId": f"<attempt-{first.id}@outbound.example>", "error": None}
    audited = await models.AuditEvent.get(object_type="OutreachAttempt", object_id=first.id, action="attempt.result")
    assert audited.actor_id is None and audited.after is not None
    assert (audited.after["channel"], audited.after["outcome"], audited.after["next"]) == ("probe", "sent",
                                                                                          "next_step")

    await world.at(NINE + timedelta(minutes=60))
    second, _ = probe.handed[1]
    assert second.step == 2 and second.thread == (f"<attempt-{first.id}@outbound.example>",)
    messages = await models.Message.filter(campaign_account_id=row.id).count()
    assert messages == 2  # each delivered once, logged once
    assert (await world.row(row))["execution"]["status"] == "COMPLETED"
    assert await world.at(NINE + timedelta(minutes=120)) is not None and len(probe.handed) == 2


async def test_a_delivery_whose_settling_died_is_settled_later_and_never_sent_twice(
        world: World, probe: Probe, monkeypatch: pytest.MonkeyPatch) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: Delivered(provider_id="<once@outbound.example>")
    settle_all = attempts.settle_all

    async def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the worker died while settling")

    monkeypatch.setattr(attempts, "settle_all", dies)
    attempt = (await attempts_of(row))[0]
    token, claimed = await scheduler.claim(NINE)  # executed here, not by a job (whose retries would run it again)
    assert claimed == [attempt.id]
    with pytest.raises(RuntimeError, match="died while settling"):
        await scheduler.execute(claimed, token, NINE)
    stuck = await models.OutreachAttempt.get(id=attempt.id)
    assert (stuck.status, stuck.provider_id) == (AttemptStatus.EXECUTING, "<once@outbound.example>")

    monkeypatch.setattr(attempts, "settle_all", settle_all)
    later = NINE + scheduler.lease() + timedelta(seconds=1)
    assert await scheduler.claim(NINE + timedelta(seconds=10)) == (ANY, [])  # within the lease: nobody takes it
    token, claimed = await scheduler.claim(later)  # the lease ended: another execution takes it
    assert await scheduler.execute(claimed, token, later) == [attempt.id]
    assert len(probe.handed) == 1  # not delivered again
    done = await models.OutreachAttempt.get(id=attempt.id)
    assert (done.status, done.outcome, done.provider_id) == (AttemptStatus.DONE, "sent", "<once@outbound.example>")
    assert await models.Message.filter(campaign_account_id=row.id).count() == 1


async def test_an_execution_that_keeps_beating_is_never_claimed_again_however_long_it_takes(
        world: World, probe: Probe) -> None:
    rows = [await world.account(name, {**DANA, "email": f"dana@{name.lower()}.example"})
            for name in ("Acme", "Beta", "Coda")]
    await live(world, email_step(subject="Hello", body="First"))
    world.clock.set(NINE)
    token, claimed = await scheduler.claim(NINE)
    taken_meanwhile: list[list[int]] = []

    async def slow(delivery: Delivery) -> None:  # each delivery takes most of a lease
        world.clock.advance(scheduler.lease() * 9 / 10)
        taken_meanwhile.append((await scheduler.claim(world.clock.now()))[1])

    probe.meanwhile = slow
    assert await scheduler.execute(claimed, token, NINE) == claimed
    assert world.clock.now() - NINE == scheduler.lease() * 27 / 10  # longer than any lease, beating as it went
    assert taken_meanwhile == [[], [], []]
    assert len(probe.handed) == 3
    assert [(await attempts_of(row))[0].status for row in rows] == [AttemptStatus.AWAITING_RESULT] * 3


async def test_an_execution_that_stops_beating_is_claimed_again_after_the_lease(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"))
    world.clock.set(NINE)
    token, claimed = await scheduler.claim(NINE)
    await scheduler.beat(claimed, token, NINE)  # its job started, then its worker died
    assert await scheduler.claim(NINE + scheduler.lease()) == (ANY, [])
    again, taken = await scheduler.claim(NINE + scheduler.lease() + timedelta(seconds=1))
    assert taken == claimed and again != token
    assert (await attempts_of(row))[0].heartbeat_at is None  # the new claim's job has not started


async def test_deferred_goes_back_to_the_schedule_with_its_reason(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: Deferred(until=NINE + timedelta(hours=2), reason="the sender's daily cap is full")
    attempt = (await attempts_of(row))[0]
    await world.at(NINE)
    waiting = await models.OutreachAttempt.get(id=attempt.id)
    assert (waiting.status, waiting.due_at, waiting.claim_token, waiting.executed_at) == (
        AttemptStatus.SCHEDULED, NINE + timedelta(hours=2), None, None)
    assert waiting.error == "Deferred by the probe channel: the sender's daily cap is full"
    assert (await world.row(row))["execution"]["attemptsMade"] == 0

    # Deferred past the window's end: due at its next opening (Tuesday 09:00), not at the deferral's time.
    probe.answer = lambda delivery: Deferred(until=datetime(2026, 3, 2, 18, 30, tzinfo=UTC), reason="cap")
    await world.at(NINE + timedelta(hours=2))
    waiting = await models.OutreachAttempt.get(id=attempt.id)
    assert (waiting.status, waiting.due_at) == (AttemptStatus.SCHEDULED, NINE + timedelta(days=1))
    assert len(probe.handed) == 2

    probe.answer = lambda delivery: Delivered(provider_id="<m@x>")
    await world.at(NINE + timedelta(days=1))
    done = await models.OutreachAttempt.get(id=attempt.id)
    assert (done.status, done.provider_id, done.error) == (AttemptStatus.DONE, "<m@x>", None)


async def test_a_bounce_marks_the_row_bounced_and_tries_the_next_contact(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA, EVE)
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: DeliveryFailed(error="550 5.1.1 no such user", retryable=False, bounced=True)
    await world.at(NINE)
    view = await world.row(row)
    bounced = next(a for a in view["attempts"] if a["contact"]["name"] == "Dana Diaz")
    assert (bounced["status"], bounced["outcome"], bounced["error"]) == ("FAILED", "BOUNCED",
                                                                         "550 5.1.1 no such user")
    assert view["outreachStatus"] == "BOUNCED"
    following = view["execution"]["nextAttempt"]
    assert (following["contact"]["name"], following["address"], following["status"]) == (
        "Eve Ortiz", "eve@acme.example", "SCHEDULED")
    assert view["execution"]["attemptsMade"] == 1
    suppressed = await models.Suppression.get(project=world.project)  # nobody is sent to it again
    assert (suppressed.kind, suppressed.value, suppressed.source, suppressed.reason) == (
        SuppressionKind.EMAIL, "dana@acme.example", "bounce", "550 5.1.1 no such user")


async def test_a_channel_that_raises_is_a_retryable_failure(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"),
               retry={"retryOn": ["FAILED"], "maxAttempts": 2, "intervalMinutes": 30})

    def explode(delivery: Delivery) -> DeliveryResult:
        raise RuntimeError("the provider's API is down")

    probe.answer = explode
    first = (await attempts_of(row))[0]
    await world.at(NINE)
    failed = await models.OutreachAttempt.get(id=first.id)
    assert (failed.status, failed.outcome) == (AttemptStatus.FAILED, "failed")
    assert failed.error == "The probe channel failed: RuntimeError: the provider's API is down"
    retry = (await world.row(row))["execution"]["nextAttempt"]
    assert (retry["attemptNumber"], retry["contact"]["name"], retry["dueAt"]) == (
        2, "Dana Diaz", iso(NINE + timedelta(minutes=30)))

    probe.answer = lambda delivery: AwaitingResult(note="queued", provider_id="call-7")
    await world.at(NINE + timedelta(minutes=30))
    handed = await models.OutreachAttempt.get(id=(await attempts_of(row))[1].id)
    assert (handed.status, handed.provider_id) == (AttemptStatus.AWAITING_RESULT, "call-7")


async def test_a_channel_that_never_answers_is_a_retryable_failure(world: World, probe: Probe,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"))
    monkeypatch.setattr(scheduler, "DELIVERY_TIMEOUT", 0.05)
    stuck = asyncio.Event()  # never set: the provider hangs

    async def hang(delivery: Delivery, config: Configured) -> DeliveryResult:
        await stuck.wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(probe, "deliver", hang)
    attempt = (await attempts_of(row))[0]
    await world.at(NINE)
    failed = await models.OutreachAttempt.get(id=attempt.id)
    assert (failed.status, failed.error) == (AttemptStatus.FAILED, "The probe channel did not answer within 0.05 "
                                                                   "seconds.")


async def test_a_suppressed_address_with_nobody_else_disqualifies_the_row(world: World, probe: Probe) -> None:
    row = await world.account("Acme", DANA)
    await live(world, email_step(subject="Hello", body="First"))
    await models.Suppression.create(project=world.project, kind=SuppressionKind.EMAIL, value="dana@acme.example",
                                    reason="asked", source="manual")
    await world.at(NINE)
    view = await world.row(row)
    assert view["execution"]["status"] == "DISQUALIFIED"
    cancelled = view["attempts"][0]
    assert (cancelled["status"], cancelled["error"]) == ("CANCELLED",
                                                         "The address is on the project's suppression list.")
    assert probe.handed == []


def _plugin(channel: object) -> types.SimpleNamespace:
    @hookimpl
    def outboundql_register_channels(register: Any) -> None:
        register(channel)

    return types.SimpleNamespace(__name__="acme_channels", outboundql_register_channels=outboundql_register_channels)


class Bad(Probe):
    def __init__(self, **attributes: Any) -> None:
        super().__init__()
        for name, value in attributes.items():
            setattr(self, name, value)


@pytest.mark.parametrize(("attributes", "message"), [
    ({"key": "Probe Channel"}, "plugin 'acme_channels', channel 'Probe Channel': the key must be lowercase"),
    ({"serves": frozenset({"email", "fax"})}, "plugin 'acme_channels', channel 'probe': serves names unknown "
     "message channels \\['fax'\\]"),
    ({"settings": (Setting(key="Sender", label="Sender"),)}, "plugin 'acme_channels', channel 'probe': setting key "
     "'Sender' must be camelCase"),
])
def test_a_plugin_breaking_the_contract_is_refused_naming_it(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(ChannelRegistrationError, match=message):
        registry_with(_plugin(Bad(**attributes)))


async def test_a_batch_reads_its_channels_threads_and_logged_messages_once(world: World, probe: Probe,
                                                                            count_queries: Any) -> None:
    rows = [await world.account(f"Acme {i}", {"name": f"P{i}", "email": f"p{i}@acme{i}.example"}) for i in range(6)]
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: Delivered(provider_id=f"<{delivery.delivery_key}@outbound.example>")
    token, claimed = await scheduler.claim(NINE)
    assert len(claimed) == len(rows)
    with count_queries() as q:
        assert sorted(await scheduler.execute(claimed, token, NINE)) == sorted(claimed)
    reads = [s for s in q.statements if s.lstrip().upper().startswith("SELECT")]
    assert sum('FROM "channel_config"' in s for s in reads) == 1
    assert sum('NOT "provider_id" IS NULL' in s for s in reads) == 1  # the threads
    assert sum('"idempotency_key" IN (' in s for s in reads) == 1  # messages logged by an earlier execution
    assert len(probe.handed) == len(rows)
    assert await models.OutreachAttempt.filter(campaign_id=world.campaign.id, status=AttemptStatus.DONE).count() == 6


async def test_a_message_key_written_while_the_batch_delivers_logs_the_batch_one_by_one(
        world: World, probe: Probe, caplog: pytest.LogCaptureFixture) -> None:
    """An execution of a stalled claim logging one of the batch's messages under its delivery key while the batch
    delivers: the batch's one INSERT meets the key, so its messages are logged one at a time instead. That attempt
    answers the message already there; the others get theirs; nothing is counted or promoted twice."""
    from outboundql.enums import AccountStatus, AttemptOutcome, StatusSource
    from outboundql.services import campaign_stats

    rows = [await world.account(f"Acme {i}", {"name": f"P{i}", "email": f"p{i}@acme{i}.example"}) for i in range(3)]
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: Delivered(provider_id=f"<{delivery.delivery_key}@outbound.example>")
    raced: list[models.Message] = []

    async def racing_execution(delivery: Delivery) -> None:
        if delivery.address == "p1@acme1.example":
            raced.append(await attempts.log_for_channel(
                await models.OutreachAttempt.get(id=delivery.attempt_id), AttemptOutcome.SENT))

    probe.meanwhile = racing_execution
    await campaign_stats.recount([world.campaign.id])  # the world writes its rows directly, not counting them
    token, claimed = await scheduler.claim(NINE)
    assert len(claimed) == len(rows)
    assert sorted(await scheduler.execute(claimed, token, NINE)) == sorted(claimed)
    assert "written meanwhile; logging them one at a time" in caplog.text  # the fallback ran

    messages = {row.id: list(await models.Message.filter(campaign_account_id=row.id)) for row in rows}
    assert all(len(found) == 1 for found in messages.values()), messages
    assert messages[rows[1].id][0].id == raced[0].id
    for row in rows:
        [attempt] = await attempts_of(row)
        assert attempt.status is AttemptStatus.DONE
    campaign = await models.Campaign.get(id=world.campaign.id)
    counters = {k: getattr(campaign, k) for k in campaign_stats.COUNTERS}
    assert counters == await campaign_stats.exact(campaign)
    assert counters["outreached_accounts"] == len(rows)
    for row in rows:
        history = await models.AccountStatusChange.filter(account_id=row.account_id, source=StatusSource.CONVERSATION)
        assert [(h.from_status, h.to_status) for h in history] == [(AccountStatus.NEW, AccountStatus.INITIATED)]
