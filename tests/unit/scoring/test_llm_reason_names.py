"""The llm scorer's reasons name criteria as the rubric scorer's do: by their description in the campaign's
language, never by their key (the key stays in ``criterion``)."""

from __future__ import annotations

from datetime import date

from outboundql.goals import Criterion, Goal, Persona, Product
from outboundql.goals.builtin.sales import SALES
from outboundql.scoring import AccountSnapshot
from outboundql.scoring.llm import LlmScorer, name_criteria, prompt_document
from outboundql.scoring.registry import get_scorer
from outboundql.scoring.scorers import ScoringContext, ScoringItem
from tests.fakes.openai_server import FakeOpenAI, answer

NAMES = {"beat_match": "Cubre los temas", "location": "En un país donde podemos contratar"}


def test_a_key_the_model_wrote_becomes_the_description() -> None:
    assert name_criteria("beat_match: covers logistics.", NAMES) == "Cubre los temas: covers logistics."
    assert name_criteria("Location (country): Spain.", NAMES) == "En un país donde podemos contratar (country): Spain."
    assert name_criteria("Fits beat_match well.", NAMES) == "Fits Cubre los temas well."
    assert name_criteria("feedback: close to approved ones.", NAMES) == "Close to approved ones."
    assert name_criteria("The location is good.", NAMES) == "The location is good."  # a plain word stays a word


async def test_reasons_and_prompt_use_the_description_in_the_language(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(answer([{"account_id": 7, "score": 6.0, "justifications": [
        {"kind": "fit", "criterion": "industry_fit", "text": "industry_fit: logística."},
        {"kind": "gap", "criterion": "size_fit", "text": "Demasiado pequeña para size_fit."},
    ]}]))
    scorer = get_scorer("llm", openai_server.settings())
    assert isinstance(scorer, LlmScorer)
    context = ScoringContext(goal=SALES, persona=Persona(), product=Product(name="RouteWise"), language="es",
                             today=date(2026, 6, 1))
    outcome = await scorer.score(context, [ScoringItem(7, AccountSnapshot(name="FleetCo"))])
    [scored] = outcome.scored
    assert [(j.criterion, j.text) for j in scored.justifications] == [
        ("industry_fit", "Opera en un sector al que apunta el perfil: logística."),
        ("size_fit", "Demasiado pequeña para Tamaño de empresa dentro del rango del perfil."),
    ]
    (request,) = openai_server.requests
    assert request.document is not None
    described = {c["key"]: c["description"] for c in request.document["rubric"]}
    assert described["industry_fit"] == "Opera en un sector al que apunta el perfil"
    assert "by its `description`" in request.messages[0]["content"]


def test_a_plugins_own_translation_is_what_the_model_is_given() -> None:
    own = Criterion("topic_fit", 1.0, "keywords", "Covers our topics.",
                    translations={"ca": "Tracta els nostres temes."})
    goal = Goal(key="podcast", label="Podcast", description="D", message_intent="M", rubric=(own,))
    context = ScoringContext(goal=goal, persona=Persona(), product=Product(name="P"), language="ca",
                             today=date(2026, 6, 1))
    assert prompt_document(context, [])["rubric"][0]["description"] == "Tracta els nostres temes"
