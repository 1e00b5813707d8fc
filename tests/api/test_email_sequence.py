"""A three-step follow-up e-mail sequence end to end: the cadence and the ``email`` channel configured through
GraphQL, the scheduler ticked at the injected clock's times, the execute jobs run by a real dramatiq worker, and
every mail read where it arrived — a real SMTP server (aiosmtpd on 127.0.0.1).

Each contact gets three mails in one thread (one subject, ``In-Reply-To``/``References`` to the earlier ones),
each inside the window; nobody at a suppressed address or domain gets anything; the daily cap per recipient domain
holds (the mail over it goes the next day, at the window's opening); an unsubscribe click (the mail's
``List-Unsubscribe`` link, one-click POST) suppresses the address and stops that contact's sequence."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from outboundql import models
from outboundql.enums import AttemptStatus, ExecutionStatus
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step, gid
from tests.api.cadence_world import world as world  # the fixture
from tests.helpers import data_of
from tests.smtp_sink import Sink, smtp_server

DAY = 24 * 60
SEQUENCE = {
    "campaignType": "FOLLOW_UP", "executionMode": "ON_ADD",
    "steps": [email_step(subject="A question for {{account.name}}", body="Hi {{contact.first_name}}, one question."),
              email_step(delayMinutes=2 * DAY, body="Hi {{contact.first_name}}, following up."),
              email_step(delayMinutes=3 * DAY, body="Hi {{contact.first_name}}, a last note.")],
}
CONFIGURE = """
mutation($input: ConfigureChannelInput!) {
  configureChannel(input: $input) { channel { kind key settings secretsSet } errors { code field message } }
}
"""
SUPPRESS = """
mutation($input: AddSuppressionsInput!) { addSuppressions(input: $input) { added { id } errors { message } } }
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


def header(mail: EmailMessage, name: str) -> str:
    return " ".join(str(mail[name] or "").split())


async def run_until_done(world: World, *, limit: int = 40) -> int:
    """Move the clock to the next due attempt and tick, until nothing is scheduled; how many ticks it took."""
    for ticks in range(limit):
        nxt = await models.OutreachAttempt.filter(campaign_id=world.campaign.id, status=AttemptStatus.SCHEDULED
                                                  ).order_by("due_at").first()
        if nxt is None:
            return ticks
        world.clock.set(max(world.clock.now(), nxt.due_at))
        await world.tick()
    raise AssertionError("the sequence did not end")


async def configure_email(world: World, port: int, **settings: Any) -> dict[str, Any]:
    result = data_of(await world.gql(CONFIGURE, {"input": {
        "projectId": gid("Project", world.project), "key": "email", "kind": "EMAIL",
        "settings": {"host": "127.0.0.1", "port": port, "security": "none", "fromAddress": "ana@acme.example",
                     "fromName": "Ana Ruiz", "replyTo": "replies@acme.example", **settings},
    }}, as_=world.owner))["configureChannel"]
    assert result["errors"] == [], result["errors"]
    return dict(result["channel"])


async def test_three_mails_in_one_thread_inside_the_window(world: World, client: httpx.AsyncClient) -> None:
    dana = await world.account("Globex", {"name": "Dana Diaz", "email": "dana@globex.example"})
    await world.account("Initech", {"name": "Ivan Petrov", "email": "ivan@initech.example"})
    lia = await world.account("Globex Labs", {"name": "Lia Chen", "email": "lia@globex.example"})
    await world.account("Umbrella", {"name": "Sam Stone", "email": "sam@umbrella.example"})
    await world.account("Hooli", {"name": "Hal Hooper", "email": "hal@hooli.example"})
    suppressed = data_of(await world.gql(SUPPRESS, {"input": {"projectId": gid("Project", world.project), "entries": [
        {"kind": "EMAIL", "value": "SAM@umbrella.example", "reason": "asked"},
        {"kind": "DOMAIN", "value": "hooli.example", "reason": "competitor"}]}}, as_=world.owner))["addSuppressions"]
    assert suppressed["errors"] == [] and len(suppressed["added"]) == 2
    await world.cadence(**SEQUENCE)

    async with smtp_server() as sink:
        channel = await configure_email(world, sink.port, dailyCapPerRecipientDomain=1)
        assert channel == {"kind": "EMAIL", "key": "email", "secretsSet": [], "settings": {
            "host": "127.0.0.1", "port": sink.port, "security": "none",
            "fromAddress": "ana@acme.example", "fromName": "Ana Ruiz", "replyTo": "replies@acme.example",
            "dailyCapPerSender": 200, "dailyCapPerRecipientDomain": 1}}
        await world.go_live()
        await run_until_done(world)

        by_recipient: dict[str, list[EmailMessage]] = defaultdict(list)
        for (_, recipients), mail in zip(sink.envelopes, sink.mails, strict=True):
            by_recipient[recipients[0]].append(mail)
        assert sorted(by_recipient) == ["dana@globex.example", "ivan@initech.example", "lia@globex.example"]
        for address, mails in by_recipient.items():
            assert len(mails) == 3, address
            ids = [header(m, "Message-ID") for m in mails]
            assert all(i.endswith("@acme.example>") for i in ids) and len(set(ids)) == 3
            assert mails[0]["In-Reply-To"] is None
            assert header(mails[1], "In-Reply-To") == ids[0] and header(mails[1], "References") == ids[0]
            assert header(mails[2], "In-Reply-To") == ids[1] and header(mails[2], "References") == " ".join(ids[:2])
            first = header(mails[0], "Subject")
            assert first.startswith("A question for Globex") or first == "A question for Initech"
            assert [header(m, "Subject") for m in mails[1:]] == [f"Re: {first}"] * 2
            for mail in mails:
                sent = parsedate_to_datetime(str(mail["Date"]))
                assert sent.weekday() < 5 and 9 <= sent.hour < 17, (address, sent)  # the default window, UTC
                assert header(mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
                assert header(mail, "From") == "Ana Ruiz <ana@acme.example>"
        # The cap of one mail a day to globex.example: Dana's and Lia's first mails go on different days.
        days = {a: parsedate_to_datetime(str(m[0]["Date"])).date() for a, m in by_recipient.items()}
        assert days["dana@globex.example"] != days["lia@globex.example"]
        all_days = [parsedate_to_datetime(str(m["Date"])).date() for a in ("dana@globex.example",
                                                                          "lia@globex.example")
                    for m in by_recipient[a]]
        assert len(all_days) == len(set(all_days))  # never two mails to the domain on one day

    for row in (dana, lia):
        await row.refresh_from_db()
        assert row.execution_status is ExecutionStatus.COMPLETED
    done = await models.OutreachAttempt.filter(campaign_id=world.campaign.id, status=AttemptStatus.DONE).order_by(
        "id").values_list("address", "provider_id")
    assert len(done) == 9 and all(provider_id for _, provider_id in done)
    assert not await models.OutreachAttempt.filter(campaign_id=world.campaign.id,
                                                   address__in=["sam@umbrella.example", "hal@hooli.example"],
                                                   status=AttemptStatus.DONE).exists()


async def test_an_unsubscribe_click_stops_the_sequence(world: World, client: httpx.AsyncClient) -> None:
    dana = await world.account("Globex", {"name": "Dana Diaz", "email": "dana@globex.example"})
    ivan = await world.account("Initech", {"name": "Ivan Petrov", "email": "ivan@initech.example"})
    await world.cadence(**SEQUENCE)
    sink = Sink()
    async with smtp_server(sink):
        await configure_email(world, sink.port)
        await world.go_live()
        world.clock.set(MONDAY_8 + timedelta(hours=1))
        await world.tick()  # the first mails
        [to_ivan] = [m for (_, r), m in zip(sink.envelopes, sink.mails, strict=True) if r == ["ivan@initech.example"]]
        link = header(to_ivan, "List-Unsubscribe").strip("<>")
        clicked = await client.post(urlsplit(link).path, content=b"List-Unsubscribe=One-Click",
                                    headers={"content-type": "application/x-www-form-urlencoded"})
        assert clicked.status_code == 200 and "is unsubscribed" in clicked.text
        await run_until_done(world)
    received = defaultdict(int)
    for _, recipients in sink.envelopes:
        received[recipients[0]] += 1
    assert received == {"dana@globex.example": 3, "ivan@initech.example": 1}
    assert await models.Suppression.filter(project_id=world.project.id, value="ivan@initech.example",
                                           source="unsubscribe").exists()
    await ivan.refresh_from_db()
    await dana.refresh_from_db()
    assert ivan.execution_status is ExecutionStatus.DISQUALIFIED  # nobody else at Initech
    assert dana.execution_status is ExecutionStatus.COMPLETED
