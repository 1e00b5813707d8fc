"""Scorer plugins through GraphQL: the `scorers` listing, a plugin's scorer chosen by key for a scoring run (on the
embedded default's real dramatiq worker), unknown and uninstalled keys, the fallback of an uninstalled default,
and what the host does with a plugin's malformed answers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ScoringStatus
from outboundql.goals import hookimpl
from outboundql.scoring import Justification, band
from outboundql.scoring.registry import ScorerRegistry, registry_with
from outboundql.scoring.scorers import BatchOutcome, Scored, ScoreFailed, ScoringContext, ScoringItem
from outboundql.services import runtime
from outboundql.settings import Settings
from tests.api import test_score_campaign as scoring_suite
from tests.api.test_score_campaign import Setup, score
from tests.helpers import data_of

setup = scoring_suite.setup  # the fixture: seven accounts of a sales campaign

SCORERS = "{ scorers { key label description isDefault source available unavailableReason } }"


class Constant:
    """Gives every account 7.0, except accounts whose name starts with "Bad" (an out-of-range answer) or "Skip"
    (no answer at all) or "Fail" (its own failure)."""

    key = "constant"
    label = "Constant"
    description = "Seven for everyone."
    batch_size = 2

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        outcome = BatchOutcome()
        for item in items:
            if item.account.name.startswith("Skip"):
                continue
            if item.account.name.startswith("Fail"):
                outcome.failed.append(ScoreFailed(item.account_id, "no data to score"))
                continue
            value = 11.0 if item.account.name.startswith("Bad") else 7.04
            reason = Justification("fit", "constant", f"{context.goal.key}: seven")
            outcome.scored.append(Scored(item.account_id, value, "excellent", (reason,), model="k-1"))
        outcome.scored.append(Scored(999_999, 7.0, band(7.0), ()))  # not in the batch: dropped
        return outcome


class ConstantPlugin:
    @hookimpl
    def outboundql_register_scorers(self, register: Any) -> None:
        register(Constant())


@pytest.fixture
def scorers() -> ScorerRegistry:
    return registry_with(ConstantPlugin())


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None, scoring_batch_size=3)


async def test_scorers_lists_builtins_and_plugins_without_authentication(gql) -> None:
    listed = {s["key"]: s for s in data_of(await gql(SCORERS))["scorers"]}
    assert list(listed) == ["constant", "llm", "rubric"]
    assert listed["rubric"] == {
        "key": "rubric", "label": "Rubric", "description": listed["rubric"]["description"], "isDefault": True,
        "source": "built-in", "available": True, "unavailableReason": None}
    assert "rubric" in listed["rubric"]["description"]
    llm = listed["llm"]
    assert (llm["source"], llm["isDefault"], llm["available"]) == ("built-in", False, False)
    assert "OUTBOUNDQL_LLM_URL" in llm["unavailableReason"]
    constant = listed.pop("constant")
    assert constant.pop("source") not in ("built-in", "")  # the plugin's name: it was not installed
    assert constant == {"key": "constant", "label": "Constant", "description": "Seven for everyone.",
                        "isDefault": False, "available": True, "unavailableReason": None}


async def test_a_run_scores_with_the_plugin_chosen_by_key(gql, setup: Setup, jobs) -> None:
    await models.Account.filter(id=setup.accounts[1].id).update(name="Bad answer")
    await models.Account.filter(id=setup.accounts[2].id).update(name="Skipped")
    await models.Account.filter(id=setup.accounts[3].id).update(name="Failing")
    started = await score(gql, setup, scorer="constant")
    assert started["errors"] == [] and started["run"]["scorer"] == "constant"
    await jobs()
    run = await models.ScoringRun.get()
    assert (run.status, run.scorer, run.total, run.done, run.failed) == (ScoringStatus.COMPLETED, "constant", 7, 7, 3)
    scores = {s.account_id: s for s in await models.FitScore.filter(product_id=setup.product.id)}
    assert set(scores) == {a.id for a in setup.accounts} - {a.id for a in setup.accounts[1:4]}
    one = scores[setup.accounts[0].id]
    assert (float(one.score), one.band, one.scorer, one.model) == (7.0, "moderate", "constant", "k-1")
    errors = {item.account_id: item.error for item in await models.ScoringRunItem.filter(run_id=run.id)
              if item.error}
    assert "no score from 0 to 10" in errors[setup.accounts[1].id]
    assert "gave no answer" in errors[setup.accounts[2].id]
    assert errors[setup.accounts[3].id] == "no data to score"


async def test_an_unknown_key_is_invalid_and_names_the_installed_ones(gql, setup: Setup) -> None:
    result = await score(gql, setup, scorer="headcount")
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.scorer")]
    assert result["errors"][0]["message"] == "Unknown scorer 'headcount'; installed scorers: constant, llm, rubric."
    assert await models.ScoringRun.all().count() == 0


async def test_a_run_whose_scorer_was_uninstalled_fails_saying_so(gql, setup: Setup, jobs) -> None:
    started = await score(gql, setup, scorer="constant")
    assert started["errors"] == []
    with runtime.using(dataclasses.replace(runtime.current(), scorers=registry_with())):
        await jobs()
    run = await models.ScoringRun.get()
    assert run.status is ScoringStatus.FAILED
    assert run.error == ("This run's scorer is no longer installed: Unknown scorer 'constant'; installed scorers: "
                         "llm, rubric. Score the campaign again to use the default scorer or choose one.")
    assert await models.FitScore.all().count() == 0


class TestUninstalledDefault:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(database_url="sqlite://:memory:", redis_url=None, scorer="gone_plugin")

    async def test_falls_back_to_rubric_and_says_so(self, gql, setup: Setup, jobs, caplog) -> None:
        listed = data_of(await gql(SCORERS))["scorers"]
        assert [s["key"] for s in listed if s["isDefault"]] == ["rubric"]
        started = await score(gql, setup)
        assert started["errors"] == [] and started["run"]["scorer"] == "rubric"
        await jobs()
        assert {s.scorer for s in await models.FitScore.all()} == {"rubric"}
        assert any("OUTBOUNDQL_SCORER=gone_plugin names no installed scorer" in r.getMessage()
                   for r in caplog.records)


class TestPluginAsDefault:
    @pytest.fixture
    def settings(self) -> Settings:
        return Settings(database_url="sqlite://:memory:", redis_url=None, scorer="constant")

    async def test_runs_without_a_scorer_use_it(self, gql, setup: Setup, jobs) -> None:
        assert [s["key"] for s in data_of(await gql(SCORERS))["scorers"] if s["isDefault"]] == ["constant"]
        started = await score(gql, setup)
        assert started["run"]["scorer"] == "constant"
        await jobs()
        assert {s.scorer for s in await models.FitScore.all()} == {"constant"}

