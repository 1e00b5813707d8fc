"""The llm scorer: batched requests, validated answers, re-asks, retries and paid usage.

Every test talks HTTP to the fake OpenAI-compatible server (``tests/fakes/openai_server.py``).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from outboundql.goals import Persona, Product
from outboundql.goals.builtin.sales import SALES
from outboundql.llm.client import LlmUnavailable
from outboundql.scoring import AccountSnapshot, ContactSnapshot
from outboundql.scoring.llm import LlmScorer
from outboundql.scoring.registry import get_scorer
from outboundql.scoring.scorers import ScorerUnavailable, ScoringContext, ScoringItem, Usage
from outboundql.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, answer, default_score, scores, slow, status, text

TODAY = date(2026, 6, 1)
KEYS = [c.key for c in SALES.rubric]
PERSONA = Persona(
    name="Operations leader at a growing fleet", industries=("Logistics",), job_titles=("Head of Operations",),
    company_size_min=50, company_size_max=2000, countries=("ES",), keywords=("fleet", "dispatch"),
    exclusions=("freight brokers",),
)
PRODUCT = Product(name="RouteWise", description="Route optimisation software for delivery fleets.")
ITEMS = [
    ScoringItem(11, AccountSnapshot(name="FleetCo", industry="Logistics", employee_count=300, country="ES",
                                    description="Last-mile delivery fleet."),
                (ContactSnapshot(title="Head of Operations"), ContactSnapshot(title="CFO"))),
    ScoringItem(12, AccountSnapshot(name="Corner Bakery", industry="Food", employee_count=8, country="JP")),
    ScoringItem(13, AccountSnapshot(name="Vans & Co", custom_fields={"fleet_size": 40}),
                (ContactSnapshot(title="Dispatcher", role_kind="user"),)),
]
APPROVED = [AccountSnapshot(name=f"Approved {n}", industry="Logistics") for n in range(6)]
REJECTED = [AccountSnapshot(name=f"Rejected {n}", industry="Banking") for n in range(6)]
#: gpt-4o-mini at the default 1000 prompt / 200 completion tokens of the fake: 0.00015 + 0.00012.
CALL_COST = Decimal("0.000270")


def context(language: str = "fr", examples=()) -> ScoringContext:
    return ScoringContext(goal=SALES, persona=PERSONA, product=PRODUCT, language=language, today=TODAY,
                          examples=examples)


def scorer(server: FakeOpenAI, **settings: object) -> LlmScorer:
    made = get_scorer("llm", server.settings(**settings))
    assert isinstance(made, LlmScorer)
    return made


def entry(account_id: int, score: object, criterion: str = "industry_fit", kind: str = "fit") -> dict:
    return {"account_id": account_id, "score": score,
            "justifications": [{"kind": kind, "criterion": criterion, "text": "Une raison."}]}


def expected_usage(calls: int, cost: Decimal = CALL_COST, model: str = "gpt-4o-mini",
                   asked: list[tuple[int, ...]] | None = None) -> list[Usage]:
    """``calls`` billed calls, each about the accounts ``asked`` (default: the whole batch, 11, 12 and 13)."""
    return [Usage("openai-compatible", model, 1000, 200, cost, ids) for ids in asked or [(11, 12, 13)] * calls]


async def test_one_request_scores_the_whole_batch(openai_server: FakeOpenAI) -> None:
    outcome = await scorer(openai_server).score(context(), ITEMS)

    assert len(openai_server.requests) == 1
    assert openai_server.requests[0].account_ids == [11, 12, 13]
    assert [s.account_id for s in outcome.scored] == [11, 12, 13] and outcome.failed == []
    for scored in outcome.scored:
        assert scored.score == round(default_score(scored.account_id), 1)
        assert scored.model == "gpt-4o-mini"
        assert [j.criterion for j in scored.justifications] == KEYS
        assert {j.kind for j in scored.justifications} == {"fit"}
    assert [s.band for s in outcome.scored] == ["mismatch", "mismatch", "excellent"]  # 0.7, 4.4, 8.1
    assert outcome.usage == expected_usage(1)


async def test_the_prompt_carries_goal_rubric_persona_accounts_language_and_examples(
    openai_server: FakeOpenAI,
) -> None:
    examples = [(a, True) for a in APPROVED] + [(a, False) for a in REJECTED]
    await scorer(openai_server).score(context("fr", examples), ITEMS)
    (request,) = openai_server.requests
    assert request.headers["authorization"] == "Bearer test-key"
    assert "French (fr)" in request.messages[0]["content"]
    document = request.document
    assert document is not None and document["language"] == "fr"
    assert document["goal"]["label"] == SALES.label and document["goal"]["message_intent"] == SALES.message_intent
    assert [(c["key"], c["weight"]) for c in document["rubric"]] == [(c.key, c.weight) for c in SALES.rubric]
    assert document["persona"]["job_titles"] == ["Head of Operations"]
    assert document["product"]["name"] == "RouteWise"
    assert [a["name"] for a in document["approved_examples"]] == [f"Approved {n}" for n in range(5)], "at most 5"
    assert [a["name"] for a in document["rejected_examples"]] == [f"Rejected {n}" for n in range(5)], "at most 5"
    assert "approved" in request.prompt and "rejected" in request.prompt
    fleetco = document["accounts"][0]
    assert fleetco["contacts"] == [{"title": "Head of Operations", "role_kind": "buyer"},
                                   {"title": "CFO", "role_kind": "buyer"}]
    assert document["accounts"][2]["custom_fields"] == {"fleet_size": 40}
    schema = request.body["response_format"]["json_schema"]
    assert schema["name"] == "fit_scores"
    criterion_enum = schema["schema"]["properties"]["scores"]["items"]["properties"]["justifications"]["items"][
        "properties"]["criterion"]["enum"]
    assert set(criterion_enum) == {*KEYS, "feedback"}


async def test_batch_size_comes_from_settings(openai_server: FakeOpenAI) -> None:
    assert scorer(openai_server).batch_size == 20
    assert scorer(openai_server, llm_batch_size=7).batch_size == 7
    assert scorer(openai_server).key == "llm"


async def test_scores_are_rounded_to_one_decimal_and_banded(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(answer({"scores": [entry(11, 7.96), entry(12, 4.95), entry(13, "5")]}))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    assert [(s.score, s.band) for s in outcome.scored] == [(8.0, "excellent"), (5.0, "moderate"), (5.0, "moderate")]


async def test_only_the_missing_accounts_are_asked_again(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(scores(omit={12}))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    assert [r.account_ids for r in openai_server.requests] == [[11, 12, 13], [12]]
    assert "account 12: missing from the answer" in openai_server.requests[1].prompt
    assert [s.account_id for s in outcome.scored] == [11, 12, 13] and outcome.failed == []
    assert outcome.usage == expected_usage(2, asked=[(11, 12, 13), (12,)]), "the re-ask is paid for too, by 12"


async def test_an_account_invalid_twice_fails_alone(openai_server: FakeOpenAI) -> None:
    out_of_range = entry(12, 14)
    openai_server.enqueue(scores(entries={12: out_of_range}), answer({"scores": [out_of_range]}))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    assert [r.account_ids for r in openai_server.requests] == [[11, 12, 13], [12]]
    assert [s.account_id for s in outcome.scored] == [11, 13]
    (failed,) = outcome.failed
    assert failed.account_id == 12
    assert "after two requests" in failed.error and "less than or equal to 10" in failed.error
    assert len(outcome.usage) == 2


@pytest.mark.parametrize("bad", [
    entry(12, 6, criterion="vibes"),            # not a rubric criterion
    entry(12, 6, kind="opinion"),               # not a kind
    {"account_id": 12, "score": 6, "justifications": []},
    {"account_id": 12, "justifications": [{"kind": "fit", "criterion": "industry_fit", "text": "x"}]},
    entry(12, "NaN"),
])
async def test_invalid_entries_are_rejected(openai_server: FakeOpenAI, bad: dict) -> None:
    openai_server.enqueue(scores(entries={12: bad}), answer({"scores": [bad]}))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    assert [f.account_id for f in outcome.failed] == [12]
    assert [s.account_id for s in outcome.scored] == [11, 13]


async def test_feedback_is_an_accepted_criterion_and_a_fixed_entry_is_taken(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(scores(entries={12: entry(12, 99)}), answer([entry(12, 6.5, criterion="Feedback")]))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    twelve = next(s for s in outcome.scored if s.account_id == 12)
    assert (twelve.score, twelve.band, twelve.justifications[0].criterion) == (6.5, "moderate", "feedback")
    assert outcome.failed == []


async def test_answers_unusable_twice_fail_the_accounts_not_the_batch(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(text("I cannot help with that."), text("{still not json"))
    outcome = await scorer(openai_server).score(context(), ITEMS)
    assert len(openai_server.requests) == 2, "the client's one re-ask, then no more"
    assert outcome.scored == []
    assert [f.account_id for f in outcome.failed] == [11, 12, 13]
    assert all("not valid JSON" in f.error for f in outcome.failed)
    assert outcome.usage == expected_usage(2)


async def test_429_500_and_timeout_are_retried(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(status(429, retry_after=0), status(500), slow(3))
    chosen = scorer(openai_server, llm_timeout_seconds=0.3, llm_max_attempts=4, llm_backoff_seconds=0.01)
    outcome = await chosen.score(context(), ITEMS)
    assert len(openai_server.requests) == 4
    assert len(outcome.scored) == 3
    assert outcome.usage == expected_usage(1), "only the answered call reported usage"


async def test_retries_exhausted_raise_with_the_calls_made(openai_server: FakeOpenAI) -> None:
    openai_server.enqueue(scores(omit={13}), status(503), status(503))
    with pytest.raises(LlmUnavailable, match=r"after 2 attempt\(s\).*HTTP 503") as caught:
        await scorer(openai_server, llm_max_attempts=2).score(context(), ITEMS)
    assert len(openai_server.requests) == 3
    assert len(caught.value.calls) == 1, "the first, billed answer is not forgotten"


async def test_costs_follow_the_price_table_from_settings(openai_server: FakeOpenAI) -> None:
    prices = {"gpt-4o-mini": {"input_per_million": "1.00", "output_per_million": "3.00"}}
    outcome = await scorer(openai_server, llm_prices=prices).score(context(), ITEMS)
    assert outcome.usage == expected_usage(1, Decimal("0.001600"))  # 1000 × 1/M + 200 × 3/M


async def test_a_model_missing_from_the_table_costs_zero_with_a_warning(
    openai_server: FakeOpenAI, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="outboundql.llm.pricing"):
        outcome = await scorer(openai_server, llm_model="scorer-test-unpriced").score(context(), ITEMS)
    assert outcome.usage == expected_usage(1, Decimal(0), model="scorer-test-unpriced")
    assert any("scorer-test-unpriced" in r.getMessage() and "$0" in r.getMessage() for r in caplog.records)


async def test_no_request_for_no_accounts(openai_server: FakeOpenAI) -> None:
    outcome = await scorer(openai_server).score(context(), [])
    assert openai_server.requests == [] and outcome.usage == []


def test_unconfigured_llm_scorer_is_unavailable_with_what_to_set() -> None:
    with pytest.raises(ScorerUnavailable, match="set OUTBOUNDQL_LLM_URL and OUTBOUNDQL_LLM_MODEL"):
        get_scorer("llm", Settings(llm_url=None, llm_model=None))
    with pytest.raises(ScorerUnavailable) as caught:
        get_scorer("llm", Settings(llm_url="http://127.0.0.1:9/v1", llm_model=None))
    assert "OUTBOUNDQL_LLM_MODEL" in str(caught.value) and "OUTBOUNDQL_LLM_URL" not in str(caught.value)
