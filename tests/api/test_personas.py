"""Personas: upsert (versioned drafts), approval with optimistic version check, validation."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from tests.helpers import data_of, global_id

PERSONA_FIELDS = """
  id goalKey status version name summary industries jobTitles painPoints companySizeMin companySizeMax
  countries keywords exclusions approvedAt product { slug }
"""

UPSERT = f"""
mutation($input: UpsertPersonaInput!) {{
  upsertPersona(input: $input) {{ persona {{ {PERSONA_FIELDS} }} errors {{ code field message }} }}
}}
"""

APPROVE = """
mutation($input: ApprovePersonaInput!) {
  approvePersona(input: $input) { persona { id status version approvedAt } errors { code field message } }
}
"""

PRODUCT = """
query($slug: String!) {
  project(slug: $slug) {
    product(slug: "widget") {
      personas { goalKey version }
      sales: persona { goalKey name }
      press: persona(goal: "press") { goalKey name status }
      none: persona(goal: "recruiting") { goalKey }
    }
  }
}
"""


@pytest.fixture
def upsert(gql: Any, owner: Any, product: models.Product) -> Any:
    async def run(**fields: Any) -> dict[str, Any]:
        variables = {"input": {"productId": global_id("Product", product.id), **fields}}
        return data_of(await gql(UPSERT, variables, as_=owner))["upsertPersona"]

    return run


@pytest.fixture
def approve(gql: Any, owner: Any) -> Any:
    async def run(persona_id: str, version: int | None = None) -> dict[str, Any]:
        variables = {"input": {"id": persona_id, "version": version}}
        return data_of(await gql(APPROVE, variables, as_=owner))["approvePersona"]

    return run


async def test_upsert_creates_version_one_draft(upsert: Any) -> None:
    p = await upsert(name="Ops leads", industries=["Logistics", "Retail", "Logistics"], countries=["es", "FR"],
                     companySizeMin=10, companySizeMax=500, jobTitles=["COO"])
    assert p["errors"] == []
    persona = p["persona"]
    assert persona["goalKey"] == "sales"
    assert persona["version"] == 1
    assert persona["status"] == "DRAFT"
    assert persona["industries"] == ["Logistics", "Retail"]
    assert persona["countries"] == ["ES", "FR"]
    assert (persona["companySizeMin"], persona["companySizeMax"]) == (10, 500)
    assert persona["product"] == {"slug": "widget"}
    assert persona["approvedAt"] is None
    assert await models.AuditEvent.filter(action="persona.create").count() == 1


async def test_each_edit_bumps_version_and_resets_to_draft(upsert: Any, approve: Any) -> None:
    created = (await upsert(name="Ops leads"))["persona"]
    approved = await approve(created["id"], 1)
    assert approved["errors"] == []
    assert approved["persona"]["status"] == "APPROVED"
    assert approved["persona"]["approvedAt"] is not None

    edited = (await upsert(summary="Runs operations"))["persona"]
    assert edited["id"] == created["id"]
    assert edited["version"] == 2
    assert edited["status"] == "DRAFT"
    assert edited["approvedAt"] is None
    assert edited["name"] == "Ops leads"  # omitted fields keep their value

    edited = (await upsert(keywords=["fleet"]))["persona"]
    assert edited["version"] == 3
    assert await models.AuditEvent.filter(action="persona.update").count() == 2


async def test_edit_without_change_does_not_bump(upsert: Any, approve: Any) -> None:
    created = (await upsert(name="Ops leads", industries=["Retail"]))["persona"]
    await approve(created["id"])
    same = (await upsert(name="Ops leads", industries=["Retail"]))["persona"]
    assert same["version"] == 1
    assert same["status"] == "APPROVED"
    assert await models.AuditEvent.filter(action="persona.update").count() == 0


async def test_approve_is_idempotent(upsert: Any, approve: Any) -> None:
    created = (await upsert(name="Ops"))["persona"]
    first = (await approve(created["id"]))["persona"]
    second = (await approve(created["id"], 1))["persona"]
    assert first["approvedAt"] == second["approvedAt"]
    assert await models.AuditEvent.filter(action="persona.approve").count() == 1


async def test_approve_with_stale_version_is_a_conflict(upsert: Any, approve: Any) -> None:
    created = (await upsert(name="Ops"))["persona"]
    await upsert(name="Ops leads")  # now version 2
    p = await approve(created["id"], 1)
    assert p["persona"] is None
    [error] = p["errors"]
    assert error["code"] == "CONFLICT"
    assert error["field"] == "input.version"
    assert "version 2" in error["message"]
    assert (await models.Persona.get()).status == "draft"
    assert (await approve(created["id"], 2))["persona"]["status"] == "APPROVED"


async def test_size_min_above_max_is_invalid(upsert: Any) -> None:
    p = await upsert(name="Ops", companySizeMin=500, companySizeMax=10)
    assert p["persona"] is None
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("INVALID", "input.companySizeMin")]
    assert await models.Persona.all().count() == 0


async def test_size_min_above_existing_max_is_invalid_on_edit(upsert: Any) -> None:
    await upsert(name="Ops", companySizeMin=10, companySizeMax=50)
    p = await upsert(companySizeMin=100)
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("INVALID", "input.companySizeMin")]
    row = await models.Persona.get()
    assert (row.company_size_min, row.version) == (10, 1)


async def test_bad_goal_key_is_invalid(upsert: Any) -> None:
    p = await upsert(goal="Not A Goal!", name="X")
    assert p["persona"] is None
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("INVALID", "input.goal")]


async def test_bad_fields_are_reported_together(upsert: Any) -> None:
    p = await upsert(goal="BAD", countries=["Spain"], companySizeMin=-5)
    assert {e["field"] for e in p["errors"]} == {"input.goal", "input.countries", "input.companySizeMin"}


async def test_product_persona_by_goal(upsert: Any, gql: Any, owner: Any, project: models.Project) -> None:
    await upsert(name="Buyers")
    await upsert(goal="press", name="Journalists")
    product = data_of(await gql(PRODUCT, {"slug": project.slug}, as_=owner))["project"]["product"]
    assert product["personas"] == [{"goalKey": "press", "version": 1}, {"goalKey": "sales", "version": 1}]
    assert product["sales"] == {"goalKey": "sales", "name": "Buyers"}
    assert product["press"] == {"goalKey": "press", "name": "Journalists", "status": "DRAFT"}
    assert product["none"] is None


async def test_upsert_on_unknown_product(gql: Any, owner: Any) -> None:
    p = data_of(await gql(UPSERT, {"input": {"productId": global_id("Product", 4242), "name": "X"}},
                          as_=owner))["upsertPersona"]
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("NOT_FOUND", "input.productId")]
