"""Replies by e-mail: a project's reply address (Project.replyAddress) receives, through the SMTP receiver of
``outboundql mail-in`` (started on loopback, mails sent with a real SMTP client), the replies to its mails; each is
logged as an inbound message on the thread it answers (the attempt whose Message-ID it names, else the latest
thread where a mail went to its sender) and classified; a mail that answers nothing of the project, or comes to a
forged address, is refused with an SMTP code and nothing is logged; the same mail twice is logged once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from outboundql import models
from outboundql.enums import AttemptStatus, Channel, Direction, MessageStatus, Role
from outboundql.mail_in import start_receiver
from outboundql.services import reply_mail, runtime
from tests.api.test_log_message import Setup, make_account, make_campaign
from tests.api.test_log_message import setup as setup  # the fixture
from tests.helpers import Person, data_of, global_id

ADDRESS = "query($id: ID!) { node(id: $id) { ... on Project { replyAddress } } }"
SENT_ID = "<attempt-1.abc@acme.example>"


@pytest.fixture
async def smtp_port(db: Any) -> AsyncIterator[int]:
    """The receiver of `outboundql mail-in`, on a free loopback port of the test's loop."""
    server = await start_receiver(runtime.goals(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _address(gql: Any, s: Setup, as_: Person | None = None) -> str | None:
    found = data_of(await gql(ADDRESS, {"id": global_id("Project", s.project.id)}, as_=as_ or s.owner))
    return found["node"]["replyAddress"]  # type: ignore[no-any-return]


async def _sent_attempt(s: Setup, provider_id: str = SENT_ID) -> models.OutreachAttempt:
    """An e-mail attempt of the thread that went out with ``provider_id`` as its Message-ID."""
    now = datetime.now(UTC)
    return await models.OutreachAttempt.create(
        project_id=s.project.id, campaign_id=s.campaign.id, campaign_account_id=s.row.id, contact_id=s.contact.id,
        channel=Channel.EMAIL, step=1, attempt_number=1, status=AttemptStatus.AWAITING_RESULT, due_at=now,
        executed_at=now, subject="Hello", body="First", address=s.contact.email, provider_id=provider_id)


def _reply(to: str, *, sender: str = "Acme Person <p@example.com>", in_reply_to: str | None = SENT_ID,
           references: str | None = None, text: str = "Thanks, let's talk next week.", html: str | None = None,
           message_id: str = "<reply-1@example.com>") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "Re: Hello"
    message["Message-ID"] = message_id
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0100"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    if html is None:
        message.set_content(text)
    else:
        message.set_content(html, subtype="html")
    return message


async def _send(port: int, message: EmailMessage) -> Any:
    return await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=30)


async def _inbound(s: Setup) -> list[models.Message]:
    return list(await models.Message.filter(project_id=s.project.id, direction=Direction.INBOUND).order_by("id"))


async def test_the_reply_address_is_shown_to_members_only(gql: Any, setup: Setup, make_user: Any,
                                                          add_member: Any) -> None:
    address = await _address(gql, setup)
    assert address is not None and re.fullmatch(rf"replies\+{setup.project.id}-[0-9a-f]{{20}}@localhost", address)
    assert reply_mail.project_for_address(address.upper()) == setup.project.id  # a server may change the case
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, setup.project, Role.VIEWER)
    assert await _address(gql, setup, viewer) is None


async def test_a_reply_to_a_sent_mail_is_logged_on_its_thread_and_classified(
        gql: Any, setup: Setup, smtp_port: int, jobs: Any) -> None:
    await _sent_attempt(setup)
    address = await _address(gql, setup)
    assert address is not None
    response = await _send(smtp_port, _reply(address, text="I am out of the office until 12 March."))
    assert response[1].startswith("2.0.0 Reply logged as message")
    [message] = await _inbound(setup)
    assert (message.campaign_account_id, message.contact_id, message.channel, message.status) == (
        setup.row.id, setup.contact.id, Channel.EMAIL, MessageStatus.SENT)
    assert (message.subject, message.original_text) == ("Re: Hello", "I am out of the office until 12 March.")
    assert message.sent_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # as the mail's Date says
    row = await models.CampaignAccount.get(id=setup.row.id)
    assert row.outreach_status.value == "responded"
    await jobs()
    classified = await models.Message.get(id=message.id)
    assert classified.classifier == "rules" and classified.reply_class is not None


async def test_the_thread_is_found_by_references_then_by_the_sender(
        gql: Any, setup: Setup, smtp_port: int, owner: Person, project: models.Project) -> None:
    other_account = await make_account(owner, project, "Beta")
    other = await make_campaign(owner, project, "Autumn push", accounts=[other_account])
    other_row = await models.CampaignAccount.get(campaign_id=other.id)
    await _sent_attempt(setup, "<first@acme.example>")
    address = await _address(gql, setup)
    assert address is not None
    await _send(smtp_port, _reply(address, in_reply_to="<unknown@elsewhere.example>",
                                  references="<first@acme.example> <unknown@elsewhere.example>"))
    # No Message-ID it names: the thread where a mail last went to the sender's address.
    beta_contact = await models.Contact.get(account_id=other_account.id)
    await models.Message.create(project_id=project.id, campaign_account_id=other_row.id, contact_id=beta_contact.id,
                                direction=Direction.OUTBOUND, status=MessageStatus.SENT, mode="log_sent",
                                original_text="Hi Beta", sent_at=datetime.now(UTC))
    await _send(smtp_port, _reply(address, sender="p@example.com", in_reply_to=None, message_id="<reply-2@x>"))
    assert [(m.campaign_account_id, m.contact_id) for m in await _inbound(setup)] == [
        (setup.row.id, setup.contact.id), (other_row.id, beta_contact.id)]


async def test_a_mail_that_answers_nothing_or_comes_to_a_forged_address_is_refused(
        gql: Any, setup: Setup, smtp_port: int, owner: Person, make_project: Any) -> None:
    await _sent_attempt(setup)
    address = await _address(gql, setup)
    assert address is not None
    with pytest.raises(aiosmtplib.SMTPDataError) as nothing:
        await _send(smtp_port, _reply(address, sender="nobody@unknown.example", in_reply_to="<x@y>"))
    assert nothing.value.code == 550 and "answers no conversation" in nothing.value.message
    forged = re.sub(r"-[0-9a-f]{20}@", "-" + "0" * 20 + "@", address)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await _send(smtp_port, _reply(forged))
    elsewhere = await make_project(owner, "Elsewhere")
    theirs = reply_mail.reply_address(elsewhere.id)  # another project's address cannot reach this one's threads
    with pytest.raises(aiosmtplib.SMTPDataError):
        await _send(smtp_port, _reply(theirs))
    assert await _inbound(setup) == []
    assert await models.Message.filter(direction=Direction.INBOUND).count() == 0


async def test_the_same_mail_twice_is_logged_once_and_an_html_mail_as_its_text(
        gql: Any, setup: Setup, smtp_port: int) -> None:
    await _sent_attempt(setup)
    address = await _address(gql, setup)
    assert address is not None
    mail = _reply(address, html="<p>Not <b>interested</b>, thanks.</p><div>Ana</div>")
    await _send(smtp_port, mail)
    await _send(smtp_port, mail)  # a server delivering again
    [message] = await _inbound(setup)
    assert message.original_text == "Not interested, thanks.\nAna"
