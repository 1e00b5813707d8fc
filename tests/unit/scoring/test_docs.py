"""docs/plugins.md's "Writing a scorer" stays true: its listings are the example distribution's files, and every
field, kit function and registration refusal is documented."""

from __future__ import annotations

import dataclasses
import re
import types
from pathlib import Path

import pytest

from outboundql.scoring import scorers, testing
from outboundql.scoring.registry import ScorerRegistrationError, ScorerRegistry, registry_with

ROOT = Path(__file__).resolve().parents[3]
DOCS = (ROOT / "docs" / "plugins.md").read_text()
EXAMPLE = ROOT / "examples" / "outboundql-scorer-headcount"
CHAPTER = DOCS.split("\n## Writing a scorer\n", 1)[1].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", CHAPTER, re.M | re.S)


def test_the_listings_are_the_example_files() -> None:
    module, tests = blocks("python")
    assert module == (EXAMPLE / "src" / "outboundql_scorer_headcount" / "__init__.py").read_text()
    assert tests == (EXAMPLE / "tests" / "test_headcount.py").read_text()


def test_the_listed_scorer_registers_beside_the_builtins() -> None:
    module = types.ModuleType("docs_headcount_plugin")
    exec(compile(blocks("python")[0], "docs/plugins.md", "exec"), module.__dict__)
    registry = registry_with(module)
    assert registry.source("headcount") == "docs_headcount_plugin" and "rubric" in registry and "llm" in registry


def test_every_field_and_kit_function_is_documented() -> None:
    for cls in (scorers.ScoringContext, scorers.ScoringItem, scorers.Scored, scorers.ScoreFailed, scorers.Usage,
                scorers.AccountSnapshot, scorers.ContactSnapshot):
        for field in dataclasses.fields(cls):
            assert f"`{field.name}`" in CHAPTER, f"{cls.__name__}.{field.name}"
    for name in testing.__all__:
        assert f"`{name}(" in CHAPTER, name


class Fine:
    key, label, description, batch_size = "fine", "Fine", "Fine.", 10

    async def score(self, context: object, items: object) -> scorers.BatchOutcome:
        return scorers.BatchOutcome()


@pytest.mark.parametrize("change", [{"key": "Bad"}, {"key": "external"}, {"label": ""}, {"batch_size": 0},
                                    {"score": lambda context, items: None}])
def test_every_registration_refusal_is_documented(change: dict[str, object]) -> None:
    scorer = Fine()
    for name, value in change.items():
        setattr(scorer, name, value)
    with pytest.raises(ScorerRegistrationError) as error:
        ScorerRegistry().register(scorer)
    documented = re.findall(r"\(`([^`]*) …`\)", CHAPTER)
    assert any(text in str(error.value) for text in documented), str(error.value)
