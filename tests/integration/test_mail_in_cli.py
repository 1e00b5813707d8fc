"""``outboundql mail-in`` as a real process on a SQLite file: a mail sent with a real SMTP client to a campaign's
import address becomes an import job that the process runs itself (no Redis), and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from tortoise.context import TortoiseContext

from outboundql import models
from outboundql.models.config import tortoise_config
from outboundql.services import import_mail
from outboundql.services.access import Access
from outboundql.services.projects import CreateProject, create_project
from tests.integration.conftest import STARTUP_DEADLINE, Child, child_env, cli_command, free_port, run_cli

pytestmark = pytest.mark.integration  # a real process (no services needed: SQLite in a temporary directory)


async def _campaign_with_an_address(db_url: str) -> tuple[int, str]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(db_url))
        user = await models.User.create(email="ada@example.com", name="Ada")
        access = await Access.for_user(user)
        project = (await create_project(access, CreateProject(name="Launch"))).project
        access = await Access.for_user(user)
        product = await models.Product.create(project=project, name="Widget", slug="widget", created_by=user)
        campaign = await models.Campaign.create(project=project, product=product, name="Camp", slug="camp",
                                                goal_key="sales", created_by=user)
        configured = await import_mail.configure_campaign_import(access, import_mail.ConfigureCampaignImport(
            campaign_id=campaign.id, sender="lists@partner.example"))
        address = import_mail.import_address(configured.campaign)
        assert address is not None
        return campaign.id, address


def _job(path: Path) -> tuple[str, int] | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT status, created FROM import_job").fetchone()
    finally:
        conn.close()
    return None if row is None else (str(row[0]), int(row[1]))


async def test_the_command_receives_a_mail_runs_its_import_and_stops_on_sigterm(tmp_path: Path) -> None:
    db_url = f"sqlite://{tmp_path / 'x.db'}"
    env = child_env(OUTBOUNDQL_DATABASE_URL=db_url)
    assert run_cli("migrate", cwd=tmp_path, env=env).returncode == 0
    campaign_id, address = await _campaign_with_an_address(db_url)
    port = free_port()
    child = Child.start([*cli_command(), "mail-in", "--port", str(port)], cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while "Receiving import mail" not in child.output:
            assert child.proc.poll() is None and time.monotonic() < deadline, child.output
            await asyncio.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "Lists <LISTS@partner.example>", address, "Leads"
        message.set_content("Attached.")
        message.add_attachment(b"Company,City\nAcme,Paris\nBolt,Lyon\n", maintype="text", subtype="csv",
                               filename="leads.csv")
        _, reply = await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=30)
        assert "started" in reply
        while _job(tmp_path / "x.db") != ("completed", 2):
            assert child.proc.poll() is None and time.monotonic() < deadline, child.output
            await asyncio.sleep(0.2)
    finally:
        child.stop()
    assert child.proc.returncode == 0, child.output
    assert "Stopped receiving import mail." in child.output
    conn = sqlite3.connect(tmp_path / "x.db")
    try:
        in_campaign = conn.execute("SELECT COUNT(*) FROM campaign_account WHERE campaign_id = ?",
                                   (campaign_id,)).fetchone()[0]
    finally:
        conn.close()
    assert in_campaign == 2
