"""derivePersona / upsertPersona on goals: personas derived by the goal plugin's ICP tweak."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import PersonaStatus
from outboundql.goals import Criterion, Goal, Persona, Product, RegisterGoal, hookimpl
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id

PERSONA_FIELDS = """
  id goalKey status version name summary industries jobTitles painPoints companySizeMin companySizeMax
  countries keywords exclusions goal { key label }
"""
DERIVE = f"""
mutation($input: DerivePersonaInput!) {{
  derivePersona(input: $input) {{ persona {{ {PERSONA_FIELDS} }} created errors {{ code field message }} }}
}}
"""
UPSERT = f"""
mutation($input: UpsertPersonaInput!) {{
  upsertPersona(input: $input) {{ persona {{ {PERSONA_FIELDS} }} errors {{ code field message }} }}
}}
"""
PERSONAS = """
query($slug: String!) {
  project(slug: $slug) { product(slug: "widget") { personas { goalKey goal { key label } } } }
}
"""


@pytest.fixture
def product_fields() -> dict[str, Any]:
    return {"description": "Widgets for warehouses."}  # the sales persona derived from it is asserted


@pytest.fixture
async def sales_persona(product: models.Product) -> models.Persona:
    return await models.Persona.create(
        project_id=product.project_id, product=product, goal_key="sales", status=PersonaStatus.APPROVED,
        name="Warehouse managers", summary="Run warehouses.", industries=["Logistics", "Retail"],
        job_titles=["Warehouse Manager"], pain_points=["picking errors"], company_size_min=50,
        company_size_max=500, countries=["ES"], keywords=["pallets", "Logistics"], exclusions=["Government"],
    )


@pytest.fixture
def derive(gql: Any, owner: Person, product: models.Product) -> Any:
    async def run(goal: str) -> dict[str, Any]:
        variables = {"input": {"productId": global_id("Product", product.id), "goal": goal}}
        return data_of(await gql(DERIVE, variables, as_=owner))["derivePersona"]

    return run


@pytest.fixture
def upsert(gql: Any, owner: Person, product: models.Product) -> Any:
    async def run(**fields: Any) -> dict[str, Any]:
        variables = {"input": {"productId": global_id("Product", product.id), **fields}}
        return data_of(await gql(UPSERT, variables, as_=owner))["upsertPersona"]

    return run


async def test_derive_press_from_the_sales_persona(derive: Any, sales_persona: models.Persona) -> None:
    result = await derive("press")
    assert result["errors"] == []
    assert result["created"] is True
    persona = result["persona"]
    assert persona["goalKey"] == "press"
    assert persona["goal"] == {"key": "press", "label": "Press coverage"}
    assert (persona["status"], persona["version"]) == ("DRAFT", 1)
    assert persona["name"] == "Press covering Widget's market"
    assert persona["industries"] == ["Media", "Publishing", "Podcasts", "News"]
    assert persona["jobTitles"][0] == "Journalist"
    assert persona["keywords"] == ["Logistics", "Retail", "pallets"]  # the buyers' industries become the beat
    # what the press tweak leaves alone comes from the sales persona
    assert persona["countries"] == ["ES"]
    assert (persona["companySizeMin"], persona["companySizeMax"]) == (50, 500)
    assert persona["exclusions"] == ["Government"]

    row = await models.Persona.get(goal_key="press")
    assert row.status is PersonaStatus.DRAFT
    [event] = await models.AuditEvent.filter(action="persona.derive")
    assert event.project_id == sales_persona.project_id
    assert (await models.Persona.get(goal_key="sales")).version == 1  # the base is untouched


async def test_deriving_again_returns_the_existing_persona(derive: Any, sales_persona: models.Persona) -> None:
    first = await derive("press")
    second = await derive("press")
    assert second["errors"] == []
    assert second["created"] is False
    assert second["persona"] == first["persona"]
    assert await models.Persona.filter(goal_key="press").count() == 1
    assert await models.AuditEvent.filter(action="persona.derive").count() == 1


async def test_deriving_keeps_an_edited_persona(derive: Any, upsert: Any, sales_persona: models.Persona) -> None:
    await derive("press")
    edited = (await upsert(goal="press", name="Trade press"))["persona"]
    again = await derive("press")
    assert again["created"] is False
    assert again["persona"]["name"] == "Trade press"
    assert again["persona"]["version"] == edited["version"] == 2


async def test_deriving_sales_returns_the_sales_persona(derive: Any, sales_persona: models.Persona) -> None:
    result = await derive("sales")
    assert result["created"] is False
    assert result["persona"]["id"] == global_id("Persona", sales_persona.id)


async def test_without_a_sales_persona_the_product_is_the_base(derive: Any, product: models.Product) -> None:
    sales = await derive("sales")  # sales keeps its base as it is
    assert sales["created"] is True
    assert (sales["persona"]["name"], sales["persona"]["summary"]) == ("Widget", "Widgets for warehouses.")
    assert sales["persona"]["industries"] == []
    assert sales["persona"]["companySizeMin"] is None

    press = (await derive("press"))["persona"]
    assert press["name"] == "Press covering Widget's market"
    assert press["industries"][0] == "Media"
    assert press["keywords"] == []
    assert await models.AuditEvent.filter(action="persona.derive").count() == 2


async def test_unknown_goal_is_invalid_and_writes_nothing(derive: Any, sales_persona: models.Persona) -> None:
    result = await derive("podcast")
    assert result["persona"] is None
    assert result["created"] is False
    [error] = result["errors"]
    assert (error["code"], error["field"]) == ("INVALID", "input.goal")
    assert "'podcast'" in error["message"]
    assert "registered goals: customer_expansion, event" in error["message"]
    assert "win_back" in error["message"]
    assert await models.Persona.all().count() == 1
    assert await models.AuditEvent.filter(action="persona.derive").count() == 0


async def test_upsert_for_a_goal_without_persona_starts_from_the_derived_one(
    upsert: Any, sales_persona: models.Persona
) -> None:
    result = await upsert(goal="press", name="Trade journalists", countries=["fr"])
    assert result["errors"] == []
    persona = result["persona"]
    assert (persona["goalKey"], persona["version"], persona["status"]) == ("press", 1, "DRAFT")
    assert persona["name"] == "Trade journalists"  # given
    assert persona["countries"] == ["FR"]  # given, normalised
    assert persona["industries"] == ["Media", "Publishing", "Podcasts", "News"]  # derived
    assert persona["keywords"] == ["Logistics", "Retail", "pallets"]  # derived
    assert persona["goal"] == {"key": "press", "label": "Press coverage"}
    assert await models.AuditEvent.filter(action="persona.create").count() == 1
    assert await models.AuditEvent.filter(action="persona.derive").count() == 0


async def test_upsert_checks_sizes_against_the_derived_persona(upsert: Any, sales_persona: models.Persona) -> None:
    result = await upsert(goal="press", companySizeMin=1000)  # derived max is 500
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.companySizeMin")]
    assert await models.Persona.filter(goal_key="press").count() == 0


async def test_upsert_with_an_unknown_goal_is_invalid(upsert: Any) -> None:
    result = await upsert(goal="podcast", name="Hosts")
    assert result["persona"] is None
    [error] = result["errors"]
    assert (error["code"], error["field"]) == ("INVALID", "input.goal")
    assert "registered goals:" in error["message"]
    assert await models.Persona.all().count() == 0


async def test_persona_goal_resolves(
    derive: Any, gql: Any, owner: Person, project: models.Project, sales_persona: models.Persona
) -> None:
    await derive("win_back")
    product = data_of(await gql(PERSONAS, {"slug": project.slug}, as_=owner))["project"]["product"]
    assert sorted(product["personas"], key=lambda p: p["goalKey"]) == [
        {"goalKey": "sales", "goal": {"key": "sales", "label": "Sales"}},
        {"goalKey": "win_back", "goal": {"key": "win_back", "label": "Win-back"}},
    ]


async def test_persona_of_an_uninstalled_goal_still_renders(
    gql: Any, owner: Person, project: models.Project, product: models.Product
) -> None:
    await models.Persona.create(project_id=product.project_id, product=product, goal_key="gone")
    product_data = data_of(await gql(PERSONAS, {"slug": project.slug}, as_=owner))["project"]["product"]
    assert product_data["personas"] == [{"goalKey": "gone", "goal": {"key": "gone", "label": "Unknown goal (gone)"}}]


# --- goal plugins whose tweak misbehaves --------------------------------------------------------


def exploding_tweak(base: Persona, product: Product) -> Persona:
    raise RuntimeError("tweak exploded")


def wrong_type_tweak(base: Persona, product: Product) -> Persona:
    return {"name": "not a persona"}  # type: ignore[return-value]


def long_name_tweak(base: Persona, product: Product) -> Persona:
    return base.replace(name="x" * 500)


def goal_with(key: str, tweak: Callable[[Persona, Product], Persona]) -> Goal:
    return Goal(key=key, label=key.title(), description=f"The {key} goal.", rubric=(Criterion("fit", 1.0, "keywords"),),
                message_intent="Hello.", tweak_icp=tweak)


def misbehaving_plugin() -> types.ModuleType:
    module = types.ModuleType("outboundql_goal_misbehaving")

    @hookimpl
    def outboundql_register_goals(register: RegisterGoal) -> None:
        register(goal_with("exploding", exploding_tweak))
        register(goal_with("wrong_type", wrong_type_tweak))
        register(goal_with("long_name", long_name_tweak))

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    return module


@pytest.fixture
async def plugin_mutate(db: Any, settings: Settings, owner: Person, product: models.Product) -> AsyncIterator[Any]:
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with(misbehaving_plugin()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:

        async def run(mutation: str, payload: str, /, **fields: Any) -> dict[str, Any]:
            variables = {"input": {"productId": global_id("Product", product.id), **fields}}
            response = await client.post("/graphql", json={"query": mutation, "variables": variables},
                                         headers=owner.headers)
            assert response.status_code == 200, response.text
            return data_of(response.json())[payload]

        yield run


@pytest.mark.parametrize(("goal", "says"), [
    ("exploding", "The 'exploding' goal plugin failed to derive a persona: tweak exploded"),
    ("wrong_type", "The 'wrong_type' goal plugin's tweak_icp returned dict, not a Persona."),
])
async def test_a_misbehaving_tweak_is_invalid_naming_the_goal(
    plugin_mutate: Any, sales_persona: models.Persona, goal: str, says: str
) -> None:
    for mutation, name, extra in ((DERIVE, "derivePersona", {}), (UPSERT, "upsertPersona", {"name": "X"})):
        result = await plugin_mutate(mutation, name, goal=goal, **extra)
        assert result["persona"] is None
        [error] = result["errors"]
        assert (error["code"], error["field"]) == ("INVALID", "input.goal")
        assert error["message"] == says
    assert await models.Persona.all().count() == 1
    assert await models.AuditEvent.filter(action__in=["persona.derive", "persona.create"]).count() == 0


async def test_a_tweak_returning_invalid_fields_is_invalid(plugin_mutate: Any, sales_persona: models.Persona) -> None:
    result = await plugin_mutate(DERIVE, "derivePersona", goal="long_name")
    assert result["persona"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "derived.name")]
    assert await models.Persona.all().count() == 1


async def test_a_plugin_goal_derives_through_the_same_mutation(plugin_mutate: Any, product: models.Product) -> None:
    misbehaving = await plugin_mutate(DERIVE, "derivePersona", goal="exploding")
    assert misbehaving["errors"]
    builtin = await plugin_mutate(DERIVE, "derivePersona", goal="press")
    assert builtin["errors"] == [] and builtin["created"] is True
