"""docs/plugins.md's "Writing a reply classifier" stays true: its listings are the example distribution's files,
every field, kit function and registration refusal is documented."""

from __future__ import annotations

import dataclasses
import re
import types
from pathlib import Path

import pytest

from outboundql import classifiers
from outboundql.classifiers import testing
from outboundql.classifiers.registry import ClassifierRegistrationError, ClassifierRegistry, registry_with

ROOT = Path(__file__).resolve().parents[3]
DOCS = (ROOT / "docs" / "plugins.md").read_text()
EXAMPLE = ROOT / "examples" / "outboundql-classifier-keywords"
CHAPTER = DOCS.split("\n## Writing a reply classifier\n", 1)[1].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", CHAPTER, re.M | re.S)


def test_the_listings_are_the_example_files() -> None:
    module, tests = blocks("python")
    assert module == (EXAMPLE / "src" / "outboundql_classifier_keywords" / "__init__.py").read_text()
    assert tests == (EXAMPLE / "tests" / "test_keywords.py").read_text()


def test_the_listed_classifier_registers_beside_the_builtin() -> None:
    module = types.ModuleType("docs_keywords_plugin")
    exec(compile(blocks("python")[0], "docs/plugins.md", "exec"), module.__dict__)
    registry = registry_with(module)
    assert registry.source("keywords") == "docs_keywords_plugin" and "rules" in registry


def test_every_field_and_kit_function_is_documented() -> None:
    for cls in (classifiers.Reply, classifiers.Classification, classifiers.Referral):
        for field in dataclasses.fields(cls):
            assert f"`{field.name}`" in CHAPTER, f"{cls.__name__}.{field.name}"
    for member in classifiers.ReplyClass:
        assert f"`{member.name}`" in CHAPTER
    for name in testing.__all__:
        assert f"`{name}(" in CHAPTER, name


class Fine:
    key, label = "fine", "Fine"

    async def classify(self, replies: object) -> list[object]:
        return []


@pytest.mark.parametrize("change", [{"key": "Fine"}, {"key": "rules"}, {"label": ""}, {"classify": lambda _: []}])
def test_every_registration_refusal_is_documented(change: dict[str, object]) -> None:
    classifier = Fine()
    for name, value in change.items():
        setattr(classifier, name, value)
    registry = ClassifierRegistry()
    registry.register(types.SimpleNamespace(key="rules", label="Rules", classify=Fine.classify))
    with pytest.raises(ClassifierRegistrationError) as error:
        registry.register(classifier, plugin="docs")
    message = re.sub(r"^plugin 'docs'(, classifier '[^']*')?: ", "", str(error.value))
    assert re.split(r"[:;(]", message)[0].strip() in CHAPTER.replace("\n  ", " "), message
