"""Import by e-mail: configureCampaignImport gives a campaign an address and its one authorised sender; the SMTP
receiver (started on loopback, mails sent with a real SMTP client) turns a mail from that sender with a CSV
attachment into an import job of the campaign, and refuses anything else with an SMTP code, keeping the refusal as a
failed job in the campaign's import history."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from outboundql import models
from outboundql.enums import ImportOrigin, ImportStatus, Role
from outboundql.mail_in import start_receiver
from outboundql.services import import_mail, runtime
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id

UPLOAD_LIMIT = 20_000
SENDER = "Ana.Ruiz@Partner.example"

CONFIGURE = """
mutation($input: ConfigureCampaignImportInput!) {
  configureCampaignImport(input: $input) {
    campaign { id importAddress importSender importMapping { column field } }
    errors { code field message }
  }
}
"""

HISTORY = """
query($id: ID!, $campaignId: ID) {
  node(id: $id) { ... on Project {
    importJobs(campaignId: $campaignId) { edges { node { status origin sender filename error rows created } } }
  } }
}
"""

CSV = "Empresa;Sitio web;Ciudad;País\nPanadería Peña;pena.example;Cádiz;ES\nCafé “Olé”;ole.example;Málaga;ES\n"


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, max_upload_bytes=UPLOAD_LIMIT)


@pytest.fixture
async def smtp_port(db: Any) -> AsyncIterator[int]:
    """The receiver of `outboundql mail-in`, on a free loopback port of the test's loop."""
    server = await start_receiver(runtime.goals(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def configure(gql: Any, owner: Person, campaign: models.Campaign) -> Any:
    async def run(as_: Person | None = None, **fields: Any) -> dict[str, Any]:
        variables = {"campaignId": global_id("Campaign", campaign.id), **fields}
        return data_of(await gql(CONFIGURE, {"input": variables}, as_=as_ or owner))["configureCampaignImport"]

    return run


@pytest.fixture
async def address(configure: Any) -> str:
    result = await configure(sender=SENDER, mapping=[])
    assert result["errors"] == []
    return str(result["campaign"]["importAddress"])


def mail(to: str, *, sender: str = "Ana Ruiz <ana.ruiz@partner.example>", files: list[tuple[str, bytes, str]] | None
         = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "Accounts for the campaign"
    message.set_content("The list is attached.\n")
    for filename, content, content_type in files or []:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


async def send(port: int, message: EmailMessage) -> Any:
    return await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=30)


async def history(gql: Any, owner: Person, project: models.Project, campaign: models.Campaign) -> list[dict[str, Any]]:
    result = await gql(HISTORY, {"id": global_id("Project", project.id), "campaignId": global_id("Campaign",
                                                                                              campaign.id)}, as_=owner)
    return [edge["node"] for edge in data_of(result)["node"]["importJobs"]["edges"]]


# --- configuring ----------------------------------------------------------------------------------------


async def test_a_member_gives_the_campaign_an_address_and_turns_it_off(
    configure: Any, campaign: models.Campaign, owner: Person
) -> None:
    on = await configure(sender=" ANA.RUIZ@partner.EXAMPLE ",
                         mapping=[{"column": "Empresa", "field": "name"}, {"column": "Web", "field": "website"}])
    assert on["errors"] == []
    first = on["campaign"]["importAddress"]
    assert re.fullmatch(r"import\+[0-9a-f]{32}@localhost", first)
    assert on["campaign"]["importSender"] == "ana.ruiz@partner.example"
    assert on["campaign"]["importMapping"] == [{"column": "Empresa", "field": "name"},
                                               {"column": "Web", "field": "website"}]
    again = await configure(sender=SENDER)  # the address stays; the saved mapping too
    assert again["campaign"]["importAddress"] == first
    assert len(again["campaign"]["importMapping"]) == 2
    rotated = await configure(sender=SENDER, newAddress=True)
    assert rotated["campaign"]["importAddress"] not in (None, first)
    off = await configure(enabled=False)
    assert off["campaign"]["importAddress"] is None
    assert off["campaign"]["importSender"] == "ana.ruiz@partner.example"
    assert (await models.Campaign.get(id=campaign.id)).import_token is None
    back = await configure(sender=SENDER)
    assert back["campaign"]["importAddress"] not in (None, first, rotated["campaign"]["importAddress"])
    actions = await models.AuditEvent.filter(object_type="Campaign", object_id=campaign.id,
                                             action="campaign.configure_import").values_list("actor_id", flat=True)
    assert actions == [owner.user.id] * 4  # the second call changed nothing


async def test_configuring_is_checked(configure: Any) -> None:
    result = await configure(sender="not an address")
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.sender")]
    assert (await configure())["errors"][0]["field"] == "input.sender"
    result = await configure(sender=SENDER, mapping=[{"column": "Empresa", "field": "name"},
                                                     {"column": "Color", "field": "favourite_colour"},
                                                     {"column": "Web", "field": "name"}])
    assert [e["field"] for e in result["errors"]] == ["input.mapping[1].field", "input.mapping[2].field"]
    result = await configure(sender=SENDER, mapping=[{"column": "Web", "field": "website"}])
    assert [e["field"] for e in result["errors"]] == ["input.mapping"]


async def test_viewers_cannot_configure_nor_see_the_address(
    configure: Any, gql: Any, make_user: Any, add_member: Any, project: models.Project, campaign: models.Campaign,
    address: str,
) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    result = await configure(as_=viewer, sender="viewer@example.com")
    assert [e["code"] for e in result["errors"]] == ["FORBIDDEN"]
    shown = await gql("query($id: ID!) { node(id: $id) { ... on Campaign { importAddress importSender } } }",
                      {"id": global_id("Campaign", campaign.id)}, as_=viewer)
    assert data_of(shown)["node"] == {"importAddress": None, "importSender": "ana.ruiz@partner.example"}
    stranger = await make_user("stranger@example.com")
    result = await configure(as_=stranger, sender="stranger@example.com")
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("NOT_FOUND", "input.campaignId")]


# --- receiving --------------------------------------------------------------------------------------------


async def test_a_mail_from_the_sender_imports_its_csv_into_the_campaign(
    smtp_port: int, address: str, jobs: Any, gql: Any, owner: Person, project: models.Project,
    campaign: models.Campaign,
) -> None:
    files = [("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
             ("cuentas.csv", CSV.encode("cp1252"), "application/vnd.ms-excel")]
    errors, reply = await send(smtp_port, mail(address.upper(), files=files))
    assert errors == {}
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert f"Import job {job.id} started" in reply
    assert (job.origin, job.sender, job.filename, job.created_by_id) == (
        ImportOrigin.EMAIL, "ana.ruiz@partner.example", "cuentas.csv", owner.user.id)
    await jobs()
    names = await models.Account.filter(project_id=project.id).order_by("name").values_list("name", flat=True)
    assert names == ["Café “Olé”", "Panadería Peña"]
    in_campaign = await models.CampaignAccount.filter(campaign_id=campaign.id).count()
    assert in_campaign == 2
    assert await history(gql, owner, project, campaign) == [{
        "status": "COMPLETED", "origin": "EMAIL", "sender": "ana.ruiz@partner.example", "filename": "cuentas.csv",
        "error": None, "rows": 2, "created": 2,
    }]


async def test_the_saved_mapping_is_used(
    smtp_port: int, configure: Any, jobs: Any, project: models.Project, campaign: models.Campaign
) -> None:
    result = await configure(sender=SENDER, mapping=[{"column": "Firm", "field": "name"},
                                                     {"column": "Town", "field": "city"}])
    csv = b"Firm,Town,Other\nAcme,Paris,x\n"
    await send(smtp_port, mail(result["campaign"]["importAddress"], files=[("a.txt", csv, "text/plain")]))
    await jobs()
    assert await models.Account.filter(project_id=project.id).values_list("name", "city") == [("Acme", "Paris")]
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert job.column_mapping == {"Firm": "name", "Town": "city"}


async def expect_refused(port: int, message: EmailMessage, code: int) -> str:
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await send(port, message)
    assert refused.value.code == code
    return str(refused.value.message)


async def test_a_mail_from_another_sender_is_refused_and_logged(
    smtp_port: int, address: str, gql: Any, owner: Person, project: models.Project, campaign: models.Campaign
) -> None:
    files = [("accounts.csv", CSV.encode(), "text/csv")]
    reply = await expect_refused(smtp_port, mail(address, sender="mallory@evil.example", files=files), 550)
    assert "mallory@evil.example" in reply
    assert await history(gql, owner, project, campaign) == [{
        "status": "FAILED", "origin": "EMAIL", "sender": "mallory@evil.example", "filename": "",
        "error": "The mail came from mallory@evil.example, not from the address allowed to import into this "
                 "campaign.", "rows": 0, "created": 0,
    }]
    assert await models.Account.filter(project_id=project.id).count() == 0


async def test_an_unknown_address_is_refused_at_rcpt_without_a_trace(
    smtp_port: int, address: str, campaign: models.Campaign
) -> None:
    token = address.split("+")[1].split("@")[0]
    for wrong in (f"import+{'0' * 32}@localhost", f"import+{token}@other.example", f"sales+{token}@localhost",
                  "postmaster@localhost"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(smtp_port, mail(wrong, files=[("a.csv", CSV.encode(), "text/csv")]))
        assert refused.value.recipients[0].code == 550
    assert await models.ImportJob.all().count() == 0


async def test_a_mail_without_a_csv_attachment_is_refused_and_logged(
    smtp_port: int, address: str, gql: Any, owner: Person, project: models.Project, campaign: models.Campaign
) -> None:
    await expect_refused(smtp_port, mail(address), 554)
    await expect_refused(smtp_port, mail(address, files=[("logo.png", b"\x89PNG\r\n\x1a\n", "image/png")]), 554)
    rows = await history(gql, owner, project, campaign)
    assert [(r["status"], r["sender"], r["filename"]) for r in rows] == [("FAILED", "ana.ruiz@partner.example", "")] * 2
    assert all("no CSV attachment" in r["error"] for r in rows)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00", "binary data"),
        (b"", "empty"),
        (b"Colour,Size\nred,2\n", "No column is mapped to the account's name"),
    ],
    ids=["binary", "empty", "no-name-column"],
)
async def test_a_file_that_cannot_be_imported_is_refused_and_logged(
    smtp_port: int, address: str, project: models.Project, campaign: models.Campaign, content: bytes, why: str
) -> None:
    reply = await expect_refused(smtp_port, mail(address, files=[("accounts.csv", content, "text/csv")]), 554)
    assert why in reply
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert (job.status, job.origin, job.filename) == (ImportStatus.FAILED, ImportOrigin.EMAIL, "accounts.csv")
    assert why in (job.error or "")
    assert await models.Account.filter(project_id=project.id).count() == 0


async def test_an_attachment_over_the_upload_limit_is_refused_and_logged(
    smtp_port: int, address: str, campaign: models.Campaign
) -> None:
    big = b"name\n" + b"Acme Corporation Limited\n" * (UPLOAD_LIMIT // 20)
    reply = await expect_refused(smtp_port, mail(address, files=[("big.csv", big, "text/csv")]), 552)
    assert f"{UPLOAD_LIMIT:,}" in reply
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert (job.status, job.filename) == (ImportStatus.FAILED, "big.csv")


async def test_mail_stops_when_the_member_who_set_it_up_left(
    smtp_port: int, configure: Any, make_user: Any, add_member: Any, project: models.Project,
    campaign: models.Campaign,
) -> None:
    member = await make_user("member@example.com")
    await add_member(member, project, Role.MEMBER)
    address = (await configure(as_=member, sender=SENDER))["campaign"]["importAddress"]
    await models.Membership.filter(user_id=member.user.id).delete()
    await expect_refused(smtp_port, mail(address, files=[("a.csv", CSV.encode(), "text/csv")]), 550)
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert job.status == ImportStatus.FAILED and job.created_by_id == member.user.id
    assert "no longer" in (job.error or "")


async def test_unstorable_or_blank_columns_are_refused(configure: Any) -> None:
    result = await configure(sender=SENDER, mapping=[{"column": "Empresa\x00", "field": "name"},
                                                     {"column": " ", "field": "city"},
                                                     {"column": "Web", "field": "website\x00"}])
    assert [e["field"] for e in result["errors"]] == [
        "input.mapping[0].column", "input.mapping[1].column", "input.mapping[2].field"]


async def test_a_flood_of_refused_mails_is_not_recorded_past_the_hourly_cap(
    smtp_port: int, address: str, campaign: models.Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_mail, "MAX_REFUSALS_PER_HOUR", 2)
    for _ in range(3):
        await expect_refused(smtp_port, mail(address, sender="spam@evil.example"), 550)
    assert await models.ImportJob.filter(campaign_id=campaign.id).count() == 2
    await send(smtp_port, mail(address, files=[("a.csv", CSV.encode(), "text/csv")]))  # the sender still gets in
    assert await models.ImportJob.filter(campaign_id=campaign.id, status=ImportStatus.QUEUED).count() == 1


async def test_unstorable_characters_of_a_mail_are_dropped_from_the_record(
    address: str, campaign: models.Campaign
) -> None:
    raw = (f"From: mallory\x00\x07@evil.example\r\nTo: {address}\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n'
           'Content-Type: text/csv\r\nContent-Disposition: attachment; filename="a\x00b.csv"\r\n\r\nname\r\nAcme\r\n'
           "--b--\r\n").encode()
    outcome = await import_mail.receive_mail(runtime.goals(), import_mail.MailReceived(address, raw))
    assert outcome.refusal == import_mail.Refusal.SENDER
    job = await models.ImportJob.get(campaign_id=campaign.id)
    assert (job.sender, job.status) == ("mallory@evil.example", ImportStatus.FAILED)


async def test_sessions_over_the_cap_are_answered_421(db: Any, settings: Settings) -> None:
    base = runtime.current()
    capped = runtime.Runtime(settings.model_copy(update={"mail_in_max_sessions": 2}), base.goals, base.jobs,
                             base.clock)
    with runtime.using(capped):
        server = await start_receiver(runtime.goals(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        held = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30) for _ in range(2)]
        try:
            for client in held:
                assert (await client.connect()).code == 220
            with pytest.raises(aiosmtplib.SMTPConnectResponseError) as refused:
                await aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30).connect()
            assert refused.value.code == 421
            await held.pop().quit()
            for _ in range(50):  # the receiver frees the slot once it sees the connection closed
                try:
                    late = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
                    assert (await late.connect()).code == 220
                    break
                except aiosmtplib.SMTPConnectResponseError:
                    await asyncio.sleep(0.01)
            else:
                pytest.fail("The freed session was never given to a new connection.")
            held.append(late)
        finally:
            for client in held:
                client.close()
            server.close()
            await server.wait_closed()
