"""The headcount scorer keeps outboundql's scorer contract and rates headcount against the persona."""

import outboundql_scorer_headcount as plugin

from outboundql.scoring.testing import check_scorer, registry_with


async def test_it_keeps_the_contract() -> None:
    outcome = await check_scorer(plugin.HEADCOUNT)  # sample persona: 50–2000 employees
    scores = {s.account_id: s.score for s in outcome.scored}
    assert scores == {1: 10.0, 2: 6.4, 3: 5.0}  # 400 inside; 4 is 3.6 doublings under 50; unknown


def test_it_registers_beside_the_builtins() -> None:
    registry = registry_with(plugin)
    assert "headcount" in registry and "rubric" in registry and "llm" in registry
