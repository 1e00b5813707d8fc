"""Inbound contacts by e-mail: a campaign's inbound address (Campaign.inboundEmailAddress) receives, through the
SMTP receiver of ``outboundql mail-in`` (started on loopback, mails sent with a real SMTP client), mails from
people. A known contact's mail is logged on their thread; a new person is added (account and contact deduplicated,
through the goal's guardrails) only while Campaign.addInboundContacts is on; the same mail twice is logged once; a
suppressed or refused sender's mail is taken without writing anything and without saying why; a forged address is
refused at RCPT; only members see the address."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Channel, Direction, Role, SuppressionKind, SuppressionSource
from outboundql.services import inbound_mail, suppressions
from tests.api.test_inbound_contacts import _counts, _toggle
from tests.api.test_reply_mail import smtp_port as smtp_port  # the fixture
from tests.helpers import Person, data_of, global_id

ADDRESS = "query($id: ID!) { node(id: $id) { ... on Campaign { inboundEmailAddress } } }"


async def _address(gql: Any, campaign: models.Campaign, as_: Person) -> str | None:
    found = data_of(await gql(ADDRESS, {"id": global_id("Campaign", campaign.id)}, as_=as_))
    return found["node"]["inboundEmailAddress"]  # type: ignore[no-any-return]


def _mail(to: str, *, sender: str = "Nia Noor <nia@noorbakery.example>", text: str = "Do you deliver to Girona?",
          message_id: str = "<ask-1@noorbakery.example>") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "Delivery question"
    message["Message-ID"] = message_id
    message["Date"] = "Mon, 02 Mar 2026 10:00:00 +0100"
    message.set_content(text)
    return message


async def _send(port: int, message: EmailMessage) -> Any:
    return await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=30)


async def test_the_inbound_address_is_shown_to_members_only(gql: Any, owner: Person, project: models.Project,
                                                            campaign: models.Campaign, make_user: Any,
                                                            add_member: Any) -> None:
    address = await _address(gql, campaign, owner)
    assert address is not None and re.fullmatch(rf"inbound\+{campaign.id}-[0-9a-f]{{20}}@localhost", address)
    assert inbound_mail.campaign_for_address(address.upper()) == campaign.id  # a server may change the case
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    assert await _address(gql, campaign, viewer) is None


async def test_a_new_person_is_added_and_the_same_mail_twice_is_logged_once(
        gql: Any, owner: Person, project: models.Project, campaign: models.Campaign, smtp_port: int) -> None:
    await _toggle(gql, owner, campaign, True)
    address = await _address(gql, campaign, owner)
    assert address is not None
    answer = await _send(smtp_port, _mail(address))
    assert answer[1] == "2.0.0 Received."
    again = await _send(smtp_port, _mail(address))  # a mail server delivering it twice
    assert again[1] == "2.0.0 Received."
    [account] = await models.Account.filter(project_id=project.id)
    assert (account.name, account.domain, account.source) == ("Nia Noor", "noorbakery.example", "inbound")
    [contact] = await models.Contact.filter(account_id=account.id)
    assert (contact.name, contact.email) == ("Nia Noor", "nia@noorbakery.example")
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=account.id)
    assert row.outreach_status.value == "responded"
    [message] = await models.Message.filter(campaign_account_id=row.id)
    assert (message.direction, message.channel, message.contact_id) == (Direction.INBOUND, Channel.EMAIL, contact.id)
    assert (message.subject, message.original_text) == ("Delivery question", "Do you deliver to Girona?")
    assert message.sent_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # as the mail's Date says


async def test_a_known_contact_is_logged_on_their_thread_with_inbound_contacts_off(
        gql: Any, owner: Person, project: models.Project, campaign: models.Campaign, smtp_port: int) -> None:
    acme = await models.Account.create(project=project, name="Acme", name_key="acme", domain="acme.example")
    dana = await models.Contact.create(project=project, account=acme, name="Dana Diaz", email="dana@acme.example")
    row = await models.CampaignAccount.create(campaign=campaign, account=acme)
    address = await _address(gql, campaign, owner)
    assert address is not None
    await _send(smtp_port, _mail(address, sender="Dana <DANA@acme.example>", text="Call me tomorrow."))
    [message] = await models.Message.filter(campaign_account_id=row.id)
    assert (message.contact_id, message.original_text) == (dana.id, "Call me tomorrow.")
    assert await models.Account.filter(project_id=project.id).count() == 1


async def test_a_new_person_with_inbound_contacts_off_is_refused_and_nothing_written(
        gql: Any, owner: Person, campaign: models.Campaign, smtp_port: int) -> None:
    address = await _address(gql, campaign, owner)
    assert address is not None
    before = await _counts()
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await _send(smtp_port, _mail(address))
    assert refused.value.code == 550 and "takes no mail from you" in refused.value.message
    assert await _counts() == before


async def test_a_suppressed_or_refused_sender_is_taken_without_a_trace_or_a_reason(
        gql: Any, owner: Person, project: models.Project, campaign: models.Campaign, smtp_port: int) -> None:
    await suppressions.add(project.id, [suppressions.Entry(SuppressionKind.DOMAIN, "blocked.example")],
                           SuppressionSource.MANUAL, None)
    rival = await models.Account.create(project=project, name="Rival", name_key="rival", domain="rival.example",
                                        status=AccountStatus.COMPETITOR)
    await _toggle(gql, owner, campaign, True)
    address = await _address(gql, campaign, owner)
    assert address is not None
    before = await _counts()
    answer = await _send(smtp_port, _mail(address, sender="x@blocked.example", message_id="<s@blocked.example>"))
    assert answer[1] == "2.0.0 Received."  # the same answer as a mail taken: nothing said of the list
    assert await _counts() == before
    answer = await _send(smtp_port, _mail(address, sender="Ray <ray@rival.example>", message_id="<r@rival.example>"))
    assert answer[1] == "2.0.0 Received."
    assert await models.CampaignAccount.filter(campaign_id=campaign.id).count() == 0  # the guardrails refused it
    assert await models.Contact.filter(account_id=rival.id, email="ray@rival.example").exists()  # kept, not added
    assert await models.Message.all().count() == 0


async def test_a_forged_address_a_mail_without_text_or_sender_is_refused(
        gql: Any, owner: Person, campaign: models.Campaign, smtp_port: int) -> None:
    await _toggle(gql, owner, campaign, True)
    address = await _address(gql, campaign, owner)
    assert address is not None
    forged = re.sub(r"-[0-9a-f]{20}@", "-" + "0" * 20 + "@", address)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await _send(smtp_port, _mail(forged))
    with pytest.raises(aiosmtplib.SMTPDataError) as empty:
        await _send(smtp_port, _mail(address, text=""))
    assert empty.value.code == 554 and "no text" in empty.value.message
    assert await models.Message.all().count() == 0
