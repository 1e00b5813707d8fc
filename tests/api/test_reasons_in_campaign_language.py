"""Reasons in the campaign's words: score reasons name each criterion by its description in the campaign's
language (a goal plugin's own translation first, then outboundql's catalogs, then English), and personas derived
for a campaign write their prose in its language while keeping the terms matched against account data."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.app import create_app
from outboundql.goals import Block, Criterion, Goal, Guardrail, RegisterGoal, hookimpl
from outboundql.goals.testing import registry_with
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id

CREATE = """
mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) {
    campaign { id icp { name summary painPoints industries jobTitles keywords countries exclusions } }
    errors { code field message }
  }
}
"""
ADD = """
mutation($input: AddAccountsToCampaignInput!) { addAccountsToCampaign(input: $input) { errors { code message } } }
"""
SCORE = """
mutation($input: ScoreCampaignInput!) { scoreCampaign(input: $input) { errors { code field message } } }
"""
REASONS = """
query($id: ID!) {
  node(id: $id) {
    ... on Campaign {
      accounts(first: 10) { edges { node { account { name } aiScore { justifications { kind criterion text } } } } }
    }
  }
}
"""
DERIVE = """
mutation($input: DerivePersonaInput!) {
  derivePersona(input: $input) {
    persona { name summary painPoints industries jobTitles keywords } created errors { code field message }
  }
}
"""

# A podcast goal whose criteria bring their own Spanish; French and Japanese have none.
PODCAST = Goal(
    key="podcast", label="Podcast guest", description="Get invited onto podcasts.", message_intent="Pitch an episode.",
    guardrails={"press": Guardrail(Block.TARGET)},
    rubric=(
        Criterion("topic_fit", 0.6, "keywords", "The show covers the topics our buyers care about.",
                  translations={"es": "El programa trata los temas que interesan a nuestros compradores."}),
        Criterion("market_fit", 0.4, "country"),  # no description: named by its key, made readable
    ),
)


def podcast_plugin() -> types.ModuleType:
    module = types.ModuleType("outboundql_goal_podcast_words")

    @hookimpl
    def outboundql_register_goals(register: RegisterGoal) -> None:
        register(PODCAST)

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    return module


@pytest.fixture
async def client(db: Any, settings: Settings, clock: Any, channels: Any, classifiers: Any, scorers: Any,
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the podcast goal installed beside the built-in ones."""
    app = create_app(settings, manage_db=False, run_worker=False, goals=registry_with(podcast_plugin()), clock=clock,
                     channels=channels, classifiers=classifiers, scorers=scorers)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture
async def sales_persona(product: models.Product) -> models.Persona:
    return await models.Persona.create(
        project_id=product.project_id, product=product, goal_key="sales", name="Warehouse managers",
        summary="Run warehouses.", industries=["Logistics"], job_titles=["Warehouse Manager"],
        pain_points=["picking errors"], company_size_min=50, company_size_max=500, countries=["ES"],
        keywords=["pallets", "warehouse"], exclusions=["Government"],
    )


@pytest.fixture
async def accounts(project: models.Project) -> list[models.Account]:
    fits = await models.Account.create(project=project, name="Almacenes Sur", industry="Logistics",
                                       employee_count=120, country="ES",
                                       description="Warehouse operator moving pallets for retailers.")
    far = await models.Account.create(project=project, name="Tokyo Bento", industry="Food", employee_count=9,
                                      country="JP", description="Lunch boxes.")
    return [fits, far]


async def create_campaign(gql: Any, owner: Person, project: models.Project, product: models.Product, goal: str,
                          language: str | None) -> dict[str, Any]:
    payload = data_of(await gql(CREATE, {"input": {
        "projectId": global_id("Project", project.id), "productId": global_id("Product", product.id),
        "name": f"{goal} {language}", "goal": goal, "communicationLanguage": language}}, as_=owner))["createCampaign"]
    assert payload["errors"] == []
    return payload["campaign"]


async def scored_reasons(gql: Any, jobs: Any, owner: Person, campaign_id: str,
                         accounts: list[models.Account]) -> dict[str, list[dict[str, str]]]:
    """Add ``accounts`` to the campaign, score it with the rubric, and answer each account's reasons (scored
    again: a score is kept per product, goal and account, and another campaign may have scored it before)."""
    added = data_of(await gql(ADD, {"input": {"campaignId": campaign_id, "accountIds": [
        global_id("Account", a.id) for a in accounts]}}, as_=owner))["addAccountsToCampaign"]
    assert added["errors"] == []
    started = data_of(await gql(SCORE, {"input": {"campaignId": campaign_id, "scorer": "rubric", "force": True}},
                                as_=owner))["scoreCampaign"]
    assert started["errors"] == []
    await jobs()
    node = data_of(await gql(REASONS, {"id": campaign_id}, as_=owner))["node"]
    return {e["node"]["account"]["name"]: e["node"]["aiScore"]["justifications"] for e in node["accounts"]["edges"]}


def texts(reasons: list[dict[str, str]]) -> dict[str, str]:
    return {r["criterion"]: r["text"] for r in reasons}


async def test_a_spanish_campaigns_reasons_read_the_spanish_descriptions(
    gql: Any, jobs: Any, owner: Person, project: models.Project, product: models.Product,
    sales_persona: models.Persona, accounts: list[models.Account],
) -> None:
    campaign = await create_campaign(gql, owner, project, product, "sales", "es")
    reasons = await scored_reasons(gql, jobs, owner, campaign["id"], accounts)
    fits, far = texts(reasons["Almacenes Sur"]), texts(reasons["Tokyo Bento"])
    # the typed criterion stays the key (frontends group by it); the text names it in Spanish
    assert set(fits) == {"industry_fit", "size_fit", "need_signals", "buyer_access", "market_fit", "exclusion_risk"}
    assert fits["industry_fit"] == "Opera en un sector al que apunta el perfil: sí (sector: Logistics)."
    assert fits["size_fit"] == "Tamaño de empresa dentro del rango del perfil: sí (tamaño de la empresa: 120)."
    assert fits["buyer_access"] == ("Tiene contactos en los puestos que compran: se desconoce, la cuenta no tiene "
                                    "datos al respecto (cargos de los contactos).")
    assert far["market_fit"] == ("Ubicada en un mercado que cubre el perfil: no (país: JP; el perfil espera ES).")
    for text in [*fits.values(), *far.values()]:
        assert not any(key in text for key in fits), text


async def test_a_plugin_goals_own_translations_show_and_other_languages_fall_back(
    gql: Any, jobs: Any, owner: Person, project: models.Project, product: models.Product,
    sales_persona: models.Persona, accounts: list[models.Account],
) -> None:
    spanish = await create_campaign(gql, owner, project, product, "podcast", "es")
    reasons = texts((await scored_reasons(gql, jobs, owner, spanish["id"], accounts[:1]))["Almacenes Sur"])
    assert reasons["topic_fit"].startswith("El programa trata los temas que interesan a nuestros compradores: sí (")
    assert reasons["market_fit"] == "Market fit: sí (país: ES)."  # no description: the key, readable

    french = await create_campaign(gql, owner, project, product, "podcast", "fr")
    reasons = texts((await scored_reasons(gql, jobs, owner, french["id"], accounts[:1]))["Almacenes Sur"])
    assert reasons["topic_fit"].startswith("The show covers the topics our buyers care about : oui (")  # no French

    japanese = await create_campaign(gql, owner, project, product, "sales", "ja")  # no catalog: all English
    reasons = texts((await scored_reasons(gql, jobs, owner, japanese["id"], accounts[:1]))["Almacenes Sur"])
    assert reasons["industry_fit"] == "Operates in an industry the persona targets: yes (industry: Logistics)."
    assert reasons["market_fit"] == "Located in a market the persona covers: yes (country: ES)."


@pytest.mark.parametrize(("language", "name", "summary", "pain_point"), [
    ("es", "Prensa que cubre el mercado de Widget",
     "Publicaciones, podcasts y periodistas cuya audiencia se preocupa por el problema que resuelve el producto.",
     "historias nuevas para su audiencia"),
    ("ca", "Premsa que cobreix el mercat de Widget",
     "Publicacions, pòdcasts i periodistes l'audiència dels quals es preocupa pel problema que resol el producte.",
     "històries noves per a la seva audiència"),
    ("fr", "Presse couvrant le marché de Widget",
     "Publications, podcasts et journalistes dont l'audience se soucie du problème que résout le produit.",
     "des histoires inédites pour leur audience"),
    ("ja", "Press covering Widget's market",  # no catalog: English
     "Publications, podcasts and journalists whose audience cares about the problem the product solves.",
     "fresh stories for their audience"),
])
async def test_a_campaigns_derived_persona_is_written_in_its_language(
    gql: Any, owner: Person, project: models.Project, product: models.Product, sales_persona: models.Persona,
    language: str, name: str, summary: str, pain_point: str,
) -> None:
    icp = (await create_campaign(gql, owner, project, product, "press", language))["icp"]
    assert (icp["name"], icp["summary"], icp["painPoints"][0]) == (name, summary, pain_point)
    assert len(icp["painPoints"]) == 3
    # the matching terms are compared with account data: never translated
    assert icp["industries"] == ["Media", "Publishing", "Podcasts", "News"]
    assert icp["jobTitles"] == ["Journalist", "Editor", "Reporter", "Podcast Host", "Analyst"]
    assert icp["keywords"] == ["Logistics", "pallets", "warehouse"]
    assert (icp["countries"], icp["exclusions"]) == (["ES"], ["Government"])


@pytest.mark.parametrize("product_fields", [{"communication_language": "de"}])
async def test_derive_persona_takes_a_language_else_the_products(
    gql: Any, owner: Person, product: models.Product, sales_persona: models.Persona,
) -> None:
    async def derive(goal: str, **extra: Any) -> dict[str, Any]:
        variables = {"input": {"productId": global_id("Product", product.id), "goal": goal, **extra}}
        return data_of(await gql(DERIVE, variables, as_=owner))["derivePersona"]

    spanish = await derive("renewal", language="es-ES")
    assert spanish["errors"] == [] and spanish["created"] is True
    assert spanish["persona"]["name"] == "Clientes de Widget pendientes de renovación"
    assert spanish["persona"]["painPoints"] == ["contrato a punto de terminar", "demostrar el valor aportado",
                                                "presupuesto para el año que viene"]
    assert spanish["persona"]["jobTitles"] == ["Warehouse Manager"]  # kept from the sales persona
    german = await derive("win_back")  # no language given: the product's (German)
    assert german["persona"]["name"] == "Ehemalige Widget-Kunden und verlorene Deals"
    refused = await derive("event", language="Spanish please")
    assert refused["persona"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "input.language")]
    assert not await models.Persona.filter(goal_key="event").exists()
