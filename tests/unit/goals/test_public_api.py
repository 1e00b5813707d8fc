"""The public plugin API: exactly these names, and every hook documented and tested."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from outboundql.goals import hookspecs

EXPECTED_PUBLIC_NAMES = [
    "ALWAYS_HARD",
    "MEASURES",
    "OVERRIDE_FLAGS",
    "AccountFacts",
    "Block",
    "Criterion",
    "Goal",
    "GoalRegistrationError",
    "Guardrail",
    "Persona",
    "Product",
    "RegisterGoal",
    "SignalKind",
    "hookimpl",
]

HOOKSPECS = sorted(name for name, value in vars(hookspecs).items()
                   if callable(value) and hasattr(value, f"{hookspecs.PROJECT_NAME}_spec"))


def test_public_names_are_exactly_these() -> None:
    import outboundql.goals

    assert sorted(outboundql.goals.__all__) == sorted(EXPECTED_PUBLIC_NAMES)
    assert len(set(outboundql.goals.__all__)) == len(outboundql.goals.__all__)


@pytest.mark.parametrize("name", EXPECTED_PUBLIC_NAMES)
def test_each_public_name_is_importable(name: str) -> None:
    module = importlib.import_module("outboundql.goals")
    assert getattr(module, name) is not None
    namespace: dict[str, object] = {}
    exec(f"from outboundql.goals import {name}", namespace)
    assert namespace[name] is getattr(module, name)


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from outboundql.goals import *", namespace)
    assert sorted(n for n in namespace if n != "__builtins__") == sorted(EXPECTED_PUBLIC_NAMES)


def test_public_values_are_frozen_dataclasses() -> None:
    import dataclasses

    from outboundql.goals import AccountFacts, Criterion, Goal, Guardrail, Persona, Product

    for cls in (AccountFacts, Criterion, Goal, Guardrail, Persona, Product):
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]


def test_hookimpl_marks_the_outboundql_project() -> None:
    from outboundql.goals import hookimpl

    assert hookimpl.project_name == hookspecs.PROJECT_NAME == "outboundql"


def test_there_are_hookspecs() -> None:
    assert HOOKSPECS == ["outboundql_register_channels", "outboundql_register_classifiers", "outboundql_register_goals",
                         "outboundql_register_scorers"]


@pytest.mark.parametrize("name", HOOKSPECS)
def test_every_hookspec_is_documented(name: str) -> None:
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec) or ""
    assert "versionadded" in doc
    assert ":param" in doc
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in doc, f"{name} does not document {param!r}"
    assert name.startswith(f"{hookspecs.PROJECT_NAME}_")


@pytest.mark.parametrize("name", HOOKSPECS)
def test_every_hookspec_has_a_test_hook_test(name: str) -> None:
    here = Path(__file__).parent
    sources = "\n".join(p.read_text() for p in sorted(here.glob("test_*.py")))
    assert f"def test_hook_{name}(" in sources, f"add a test_hook_{name} test to tests/unit/goals/"
