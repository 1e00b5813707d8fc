"""A test kit for scorer authors (like `outboundql.classifiers.testing` for reply classifiers).

Example:
    from outboundql.scoring.testing import check_scorer, registry_with, sample_context, sample_items

    async def test_scorer_satisfies_the_contract():
        outcome = await check_scorer(Constant())
        assert {s.score for s in outcome.scored} == {5.0}

    def test_coexists_with_builtins():
        assert "constant" in registry_with(my_plugin_module)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from outboundql.goals.api import Persona, Product
from outboundql.goals.manager import default_registry
from outboundql.scoring.registry import ScorerRegistry, checked_outcome, configured, validate_scorer
from outboundql.scoring.registry import registry_with as _registry_with
from outboundql.scoring.scorers import BatchOutcome, ScoringContext, ScoringItem
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot
from outboundql.settings import Settings

__all__ = ["check_scorer", "registry_with", "sample_context", "sample_items"]


def registry_with(*plugins: object) -> ScorerRegistry:
    """The built-in scorers plus ``plugins`` (modules or objects with hook implementations), none installed."""
    return _registry_with(*plugins)


def sample_context(goal: str = "sales", language: str = "en") -> ScoringContext:
    """A run's context: the built-in ``goal``, a persona for warehouse robots sold to logistics companies in
    Spain and France, on 1 March 2027."""
    persona = Persona(name="Operations lead", summary="Runs warehouses of a logistics company.",
                      industries=("logistics",), job_titles=("Head of Operations",),
                      pain_points=("picking errors",), company_size_min=50, company_size_max=2000,
                      countries=("ES", "FR"), keywords=("warehouse", "automation"))
    product = Product(name="PickBot", description="Autonomous picking robots for warehouses.")
    found = default_registry().get(goal)
    if found is None:
        raise ValueError(f"no installed goal {goal!r}")
    return ScoringContext(goal=found, persona=persona, product=product, language=language, today=date(2027, 3, 1))


def sample_items() -> list[ScoringItem]:
    """Three accounts: a close fit (account 1), a poor fit (2) and one with almost no data (3)."""
    return [
        ScoringItem(1, AccountSnapshot(name="Iberia Logistics", industry="logistics", employee_count=400,
                                       country="ES", description="Warehouse automation for retailers."),
                    (ContactSnapshot(title="Head of Operations"),)),
        ScoringItem(2, AccountSnapshot(name="Sweet Bakery", industry="food", employee_count=4, country="US",
                                       description="Cakes and bread.")),
        ScoringItem(3, AccountSnapshot(name="Unknown Ltd")),
    ]


async def check_scorer(scorer: object, items: Sequence[ScoringItem] | None = None, *,
                       context: ScoringContext | None = None, settings: Settings | None = None) -> BatchOutcome:
    """Run the host's registration checks on ``scorer``, configure it for ``settings`` (default: the defaults),
    score ``items`` (default `sample_items`) in ``context`` (default `sample_context`) and check the answer: a
    `BatchOutcome` with exactly one `Scored` (a number from 0 to 10, `Justification` reasons) or `ScoreFailed` per
    item, for no other account. Returns the outcome; raises `ScorerRegistrationError` or `AssertionError` saying
    what to fix."""
    ready = configured(validate_scorer(scorer, plugin="test"), settings or Settings())
    items = list(sample_items() if items is None else items)
    outcome = await ready.score(context or sample_context(), items)
    if not isinstance(outcome, BatchOutcome):
        raise AssertionError(f"score answered a {type(outcome).__name__}, not an outboundql.scoring.scorers."
                             "BatchOutcome")
    answered = [getattr(a, "account_id", None) for a in [*outcome.scored, *outcome.failed]]
    wanted = [item.account_id for item in items]
    if sorted(map(str, answered)) != sorted(map(str, wanted)):
        raise AssertionError(f"score answered accounts {answered} for items {wanted}: answer one "
                             "Scored or ScoreFailed per item, for no other account")
    checked = checked_outcome(ready, items, outcome)
    if len(checked.scored) != len(outcome.scored):
        bad = sorted({s.account_id for s in outcome.scored} - {s.account_id for s in checked.scored})
        raise AssertionError(f"the answers for accounts {bad} are not Scored with a number from 0 to 10 and "
                             "Justification reasons")
    return outcome
