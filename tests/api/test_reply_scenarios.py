"""Replies in their own languages, through GraphQL, read by the built-in ``rules`` classifier (the default of a
campaign without an LLM) and acting on a live campaign's row: a Spanish out-of-office reply with its return date
pauses the row until then, a German request to be removed suppresses the address and stops the plan, an English
referral naming a person proposes them as a contact of the account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, call_step, email_step, gid, iso
from tests.api.cadence_world import world as world  # the fixture
from tests.helpers import data_of

NINE = MONDAY_8 + timedelta(hours=1)
DANA = {"name": "Dana Diaz", "phone": "+34600000001", "email": "dana@acme.example", "is_decision_maker": True}
ROW = """
query($id: ID!) {
  node(id: $id) { ... on CampaignAccount { goalOutcome
    execution { status pausedUntil nextAttempt { channel status dueAt } }
    messages { direction classification { label classifier returnsOn referral { name email } } }
    account { contacts { name email } } } }
}
"""
SUPPRESSIONS = """
query($id: ID!) {
  node(id: $id) { ... on Project { suppressions(first: 50) { edges { node { kind value source } } } } }
}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


async def _live(world: World) -> models.CampaignAccount:
    """A live campaign (an e-mail, then a call two days later) whose row's e-mail went out on Monday at nine."""
    row = await world.account("Acme", DANA)
    await world.cadence(campaignType="FOLLOW_UP", executionMode="ON_ADD", steps=[
        email_step(subject="Hi", body="Hello {{contact.first_name}}"), call_step(delayMinutes=2880)])
    await world.go_live()
    first = await world.only_attempt(row)
    await world.at(NINE)
    await world.record(first["id"], "SENT")
    return row


async def _reply(world: World, row: models.CampaignAccount, text: str) -> dict[str, Any]:
    await world.ok("logMessage", {"campaignAccountId": gid("CampaignAccount", row), "direction": "INBOUND",
                                  "text": text})
    await world.jobs()
    node: dict[str, Any] = data_of(await world.gql(ROW, {"id": gid("CampaignAccount", row)}, as_=world.owner))["node"]
    return node


def _classes(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["classification"] for m in row["messages"] if m["direction"] == "INBOUND"]


async def test_a_spanish_absence_with_its_return_date_pauses_the_row_until_then(world: World) -> None:
    row = await _live(world)
    world.clock.set(NINE + timedelta(days=1))
    seen = await _reply(world, row, "Hola, estoy fuera de la oficina. Estaré de vuelta el 9 de marzo; hasta "
                                    "entonces tengo acceso limitado al correo.")
    assert _classes(seen) == [{"label": "OUT_OF_OFFICE", "classifier": "rules", "returnsOn": "2026-03-09",
                               "referral": None}]
    back = datetime(2026, 3, 9, tzinfo=UTC)
    assert seen["execution"]["pausedUntil"] == iso(back)
    assert seen["execution"]["nextAttempt"]["dueAt"] == iso(back + timedelta(hours=9))
    assert seen["goalOutcome"] == "OPEN"


async def test_a_german_request_to_be_removed_suppresses_the_address_and_stops_the_plan(world: World) -> None:
    row = await _live(world)
    seen = await _reply(world, row, "Guten Tag, bitte entfernen Sie mich aus Ihrem Verteiler. Ich möchte keine "
                                    "weiteren E-Mails erhalten.")
    assert [c["label"] for c in _classes(seen)] == ["UNSUBSCRIBE"]
    assert seen["execution"] == {"status": "COMPLETED", "pausedUntil": None, "nextAttempt": None}
    listed = data_of(await world.gql(SUPPRESSIONS, {"id": gid("Project", world.project)}, as_=world.owner))
    entries = [e["node"] for e in listed["node"]["suppressions"]["edges"]]
    assert {"kind": "EMAIL", "value": "dana@acme.example", "source": "UNSUBSCRIBE"} in entries


async def test_an_english_referral_naming_a_person_proposes_them_as_a_contact(world: World) -> None:
    row = await _live(world)
    seen = await _reply(world, row, "Thanks for reaching out. I'm not the right person for this, please contact "
                                    "Maria Lopez (maria.lopez@acme.example), she runs purchasing.")
    assert _classes(seen) == [{"label": "REFERRAL", "classifier": "rules", "returnsOn": None,
                               "referral": {"name": "Maria Lopez", "email": "maria.lopez@acme.example"}}]
    assert {"name": "Maria Lopez", "email": "maria.lopez@acme.example"} in seen["account"]["contacts"]
