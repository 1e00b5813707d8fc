"""The unsubscribe link of an e-mail (``/unsubscribe/<token>``): GET shows a page with one button and changes
nothing; POST — the button, or a mailbox provider's RFC 8058 one-click POST — suppresses the address in the project,
cancels every attempt to it that did not go out (in every campaign), moves its rows on to the account's next
contact (or disqualifies them), audits it and tells the campaign pages; a second click answers the same page; a
bad token answers 404."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.channels import links
from outboundql.enums import AttemptStatus, ExecutionStatus, SuppressionKind
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step, gid
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_campaign_subscriptions import subscribed

DANA = {"name": "Dana Diaz", "email": "Dana.Diaz@globex.example", "is_decision_maker": True}
EVE = {"name": "Eve Ortiz", "email": "eve@globex.example"}
THREE_MAILS = {"steps": [email_step(subject="Hello", body="Hi"), email_step(delayMinutes=2 * 24 * 60, body="Again"),
                         email_step(delayMinutes=4 * 24 * 60, body="Last")], "executionMode": "ON_ADD",
               "campaignType": "FOLLOW_UP"}
EVENTS = """
subscription($id: ID!) { campaignEvents(campaignId: $id) { kind execution { campaignAccountIds attemptIds } } }
"""
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def planned_to(world: World, row: models.CampaignAccount) -> models.OutreachAttempt:
    return await models.OutreachAttempt.get(campaign_account_id=row.id, status=AttemptStatus.SCHEDULED)


async def test_get_shows_the_page_and_changes_nothing(world: World, client: httpx.AsyncClient) -> None:
    row = await world.account("Globex", DANA, EVE)
    await world.cadence(**THREE_MAILS)
    await world.go_live()
    attempt = await planned_to(world, row)
    page = await client.get(f"/unsubscribe/{links.token(links.UNSUBSCRIBE, attempt.id)}",
                            headers={"accept-language": "de-CH, es;q=0.9"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="de">' in page.text and "Keine E-Mails mehr von Acme Outbound an d•••@globex.example?" \
        in page.text
    assert '<form method="post"><button type="submit">Abmelden</button></form>' in page.text
    assert await models.Suppression.filter(project_id=world.project.id).count() == 0
    assert (await planned_to(world, row)).id == attempt.id


async def test_one_click_suppresses_cancels_and_moves_on(world: World, client: httpx.AsyncClient) -> None:
    row = await world.account("Globex", DANA, EVE)
    alone = await world.account("Initech", {"name": "Dana Diaz", "email": "dana.diaz@globex.example"})
    await world.cadence(**THREE_MAILS)
    await world.go_live()
    first = await planned_to(world, row)
    other = await planned_to(world, alone)
    assert first.address == "Dana.Diaz@globex.example"
    url = f"/unsubscribe/{links.token(links.UNSUBSCRIBE, first.id)}"
    world.clock.advance(timedelta(minutes=5))

    async with subscribed(world.owner, EVENTS, world.gid) as stream:
        async def first_event() -> dict[str, Any]:
            async for result in stream:
                assert result.errors is None, result.errors
                return dict(result.data["campaignEvents"])
            raise AssertionError("no event")

        listening = asyncio.ensure_future(first_event())
        await asyncio.sleep(0.05)  # the resolver listens
        done = await client.post(url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        event = await asyncio.wait_for(listening, timeout=10)
    assert done.status_code == 200
    assert "d•••@globex.example is unsubscribed: Acme Outbound will not e-mail it again." in done.text
    assert "<form" not in done.text
    assert event == {"kind": "EXECUTION_CHANGED", "execution": {
        "campaignAccountIds": sorted([gid("CampaignAccount", row), gid("CampaignAccount", alone)]),
        "attemptIds": sorted([gid("OutreachAttempt", first.id), gid("OutreachAttempt", other.id)])}}
    [entry] = await models.Suppression.filter(project_id=world.project.id)
    assert (entry.kind, entry.value, entry.source) == (SuppressionKind.EMAIL, "dana.diaz@globex.example",
                                                       "unsubscribe")
    for cancelled in (first, other):
        await cancelled.refresh_from_db()
        assert cancelled.status is AttemptStatus.CANCELLED
        assert cancelled.error == "The recipient unsubscribed: the address is suppressed."
    nxt = await planned_to(world, row)  # the account's next contact, from the same step
    assert (nxt.address, nxt.step) == ("eve@globex.example", 1)
    await alone.refresh_from_db()
    assert alone.execution_status is ExecutionStatus.DISQUALIFIED  # nobody else there
    [audit] = await models.AuditEvent.filter(project_id=world.project.id, action="suppression.unsubscribe")
    assert audit.actor_id is None and audit.after is not None
    assert (audit.after["address"], audit.after["cancelled"]) == ("Dana.Diaz@globex.example", 2)

    again = await client.post(url)  # the person's own click after their mail client's: the same page
    assert again.status_code == 200 and "is unsubscribed" in again.text
    assert await models.Suppression.filter(project_id=world.project.id).count() == 1
    assert await models.AuditEvent.filter(action="suppression.unsubscribe").count() == 1
    assert (await planned_to(world, row)).id == nxt.id
    shown = await client.get(url)
    assert "is unsubscribed" in shown.text and "<form" not in shown.text


@pytest.mark.parametrize("token", ["nope", "u1.AAAAAAAAAAAAAAAAAAAAAA", "x" * 300])
async def test_a_bad_token_answers_404(world: World, client: httpx.AsyncClient, token: str) -> None:
    for response in (await client.get(f"/unsubscribe/{token}"), await client.post(f"/unsubscribe/{token}")):
        assert response.status_code == 404
        assert "This unsubscribe link is not valid." in response.text
    assert await models.Suppression.all().count() == 0


async def test_a_link_of_another_purpose_or_a_deleted_attempt_answers_404(
        world: World, client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/unsubscribe/{links.token(links.RESULT, 1)}")).status_code == 404
    assert (await client.post(f"/unsubscribe/{links.token(links.UNSUBSCRIBE, 987654)}")).status_code == 404
