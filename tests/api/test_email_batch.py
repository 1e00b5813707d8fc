"""A batch of e-mail attempts executed by the engine through the ``email`` channel against a real SMTP server
(aiosmtpd on 127.0.0.1): the batch goes out over one kept connection (counted at the server), a connection the
server drops mid-batch is opened again with nothing sent twice, a mail the server refuses fails alone (a 4xx is
retried by the campaign's policy, a 5xx bounces and suppresses the address) while the rest go out over the same
connection; and the batch's messages are logged in a number of statements that does not grow with the batch,
moving what a logged message moves (the rows to SENT, the accounts to INITIATED, audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    AttemptOutcome,
    AttemptStatus,
    Direction,
    MessageMode,
    OutreachStatus,
    StatusSource,
)
from outboundql.models.audit import AuditSource
from outboundql.services import scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_email_sequence import configure_email
from tests.smtp_sink import Sink, smtp_server

NINE = MONDAY_8 + timedelta(hours=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NINE)


async def rows_of(world: World, n: int, first: int = 0) -> list[models.CampaignAccount]:
    return [await world.account(f"Company {i}", {"name": f"Person {i}", "email": f"p{i}@domain{i}.example"})
            for i in range(first, first + n)]


async def go_live(world: World, port: int) -> None:
    await configure_email(world, port)
    await world.cadence(steps=[email_step(subject="A question for {{account.name}}", body="Hi, one question.")],
                        executionMode="ON_ADD",
                        retry={"retryOn": ["FAILED"], "maxAttempts": 2, "intervalMinutes": 60})
    await world.go_live()


def recipients(sink: Sink) -> list[str]:
    return sorted(r for _, rcpts in sink.envelopes for r in rcpts)


async def statuses(world: World) -> dict[str, AttemptStatus]:
    return {address: status for address, status in await models.OutreachAttempt.filter(
        campaign_id=world.campaign.id, attempt_number=1).values_list("address", "status")}


async def test_a_batch_goes_out_over_one_connection_and_is_logged_as_each_message_would_be(world: World) -> None:
    rows = await rows_of(world, 5)
    async with smtp_server() as sink:
        await go_live(world, sink.port)
        await world.tick()
        assert recipients(sink) == sorted(f"p{i}@domain{i}.example" for i in range(5))
        assert sink.connections == 1
    attempts = await models.OutreachAttempt.filter(campaign_id=world.campaign.id).order_by("id")
    assert [a.status for a in attempts] == [AttemptStatus.DONE] * 5
    assert all(a.outcome is AttemptOutcome.SENT and a.provider_id and a.message_id for a in attempts)
    sent = {a.message_id: a for a in attempts}
    logged = await models.Message.filter(campaign_account__campaign_id=world.campaign.id).order_by("id")
    assert sorted(m.id for m in logged) == sorted(sent)
    for message in logged:
        attempt = sent[message.id]
        assert (message.campaign_account_id, message.contact_id, message.direction, message.mode,
                message.idempotency_key, message.subject, message.original_text, message.created_by_id) == (
            attempt.campaign_account_id, attempt.contact_id, Direction.OUTBOUND, MessageMode.LOG_SENT,
            f"attempt-{attempt.id}", attempt.subject, attempt.body, None)
        assert message.sent_at == NINE
    for row in rows:
        await row.refresh_from_db()
        assert row.outreach_status is OutreachStatus.SENT
    accounts = await models.Account.filter(id__in=[r.account_id for r in rows])
    assert {a.status for a in accounts} == {AccountStatus.INITIATED}
    history = await models.AccountStatusChange.filter(account_id__in=[r.account_id for r in rows])
    assert len(history) == 5 and {(h.from_status, h.to_status, h.source) for h in history} == {
        (AccountStatus.NEW, AccountStatus.INITIATED, StatusSource.CONVERSATION)}
    assert {h.note for h in history} == {f"outbound email message in {world.campaign.name}"}
    audited = await models.AuditEvent.filter(action="message.log", object_type="Message").order_by("object_id")
    assert [e.object_id for e in audited] == sorted(sent)
    assert {e.source for e in audited} == {AuditSource.WORKER} and {e.actor_id for e in audited} == {None}
    assert audited[0].after is not None and audited[0].after["outreach_status"] == ["not_started", "sent"]
    assert audited[0].after["account_status"] == ["new", "initiated"]
    await world.campaign.refresh_from_db()
    assert world.campaign.outreached_accounts == 5


async def test_a_connection_dropped_mid_batch_is_opened_again_and_nothing_goes_out_twice(world: World) -> None:
    await rows_of(world, 5)
    async with smtp_server(Sink(drop_at_mail={3})) as sink:  # the server hangs up at the third mail
        await go_live(world, sink.port)
        await world.tick()
        assert recipients(sink) == sorted(f"p{i}@domain{i}.example" for i in range(5))  # each once
        assert sink.connections == 2
    assert set((await statuses(world)).values()) == {AttemptStatus.DONE}
    assert await models.Message.filter(campaign_account__campaign_id=world.campaign.id).count() == 5


async def test_one_refused_mail_fails_alone_and_the_rest_go_out_over_the_same_connection(world: World) -> None:
    await rows_of(world, 5)
    sink = Sink(refuse_rcpt={"p1@domain1.example": "451 4.7.1 Try again later",
                             "p3@domain3.example": "550 5.1.1 No such user"})
    async with smtp_server(sink):
        await go_live(world, sink.port)
        await world.tick()
        assert recipients(sink) == ["p0@domain0.example", "p2@domain2.example", "p4@domain4.example"]
        assert sink.connections == 1
    done, failed_ = AttemptStatus.DONE, AttemptStatus.FAILED
    assert await statuses(world) == {"p0@domain0.example": done, "p1@domain1.example": failed_,
                                     "p2@domain2.example": done, "p3@domain3.example": failed_,
                                     "p4@domain4.example": done}
    failed = {a.address: a for a in await models.OutreachAttempt.filter(campaign_id=world.campaign.id,
                                                                         status=AttemptStatus.FAILED)}
    assert failed["p1@domain1.example"].outcome is AttemptOutcome.FAILED and "451" in failed["p1@domain1.example"].error
    assert failed["p3@domain3.example"].outcome is AttemptOutcome.BOUNCED
    retry = await models.OutreachAttempt.get(campaign_id=world.campaign.id, attempt_number=2)
    assert (retry.address, retry.status, retry.due_at) == ("p1@domain1.example", AttemptStatus.SCHEDULED,
                                                           NINE + timedelta(minutes=60))
    assert await models.Suppression.filter(value="p3@domain3.example").exists()
    assert await models.Message.filter(campaign_account__campaign_id=world.campaign.id).count() == 3


async def _logging_statements(count_queries: Any) -> dict[str, int]:
    """Execute one batch of the attempts due: the statements that log their messages and settle their attempts, by
    kind."""
    token, claimed = await scheduler.claim(NINE)
    with count_queries() as q:
        assert sorted(await scheduler.execute(claimed, token, NINE)) == claimed
    kinds = {
        "insert message": "INSERT INTO message (",
        "select message": 'FROM "message"',  # the messages an earlier execution logged, read once
        "update account status": "UPDATE account SET status",
        "insert status change": "INSERT INTO account_status_change (",
        "move rows": 'UPDATE "campaign_account" SET "outreach_status"',
        "audit message.log": "message.log",
        "settle attempts": "UPDATE outreach_attempt SET status = CASE id",
        "count attempts made": 'SET "attempts_made"=',
        "audit attempt.result": "attempt.result",
    }
    return {kind: sum(text in s for s in q.statements) for kind, text in kinds.items()}


async def test_a_batch_logs_and_settles_its_messages_in_statements_that_do_not_grow_with_it(world: World,
                                                                              count_queries: Any) -> None:
    await rows_of(world, 3)
    async with smtp_server() as sink:
        await go_live(world, sink.port)
        small = await _logging_statements(count_queries)
        await rows_of(world, 12, first=3)
        assert await scheduler.plan_started(NINE) == 12
        large = await _logging_statements(count_queries)
        assert len(sink.mails) == 15 and sink.connections == 2  # a connection per batch
    assert await models.Message.filter(campaign_account__campaign_id=world.campaign.id).count() == 15
    assert small == large == {"insert message": 1, "select message": 1, "update account status": 1,
                              "insert status change": 1, "move rows": 1, "audit message.log": 1,
                              "settle attempts": 1, "count attempts made": 1, "audit attempt.result": 1}
