"""The ``outboundql_register_classifiers`` hook: built-ins through the public hook, extra plugins beside them,
and a malformed registration refused with an error naming its plugin. (Each validation rule is tested in
tests/unit/classifiers/test_registry.py.)"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

import pytest

from outboundql.classifiers import Classification, Reply, ReplyClass
from outboundql.classifiers.registry import ClassifierRegistrationError, registry_with
from outboundql.classifiers.rules import RULES
from outboundql.goals import GoalRegistrationError, hookimpl


class Constant:
    key = "constant"
    label = "Constant"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        return [Classification(ReplyClass.INTERESTED, 1.0) for _ in replies]


def test_hook_outboundql_register_classifiers() -> None:
    @hookimpl
    def outboundql_register_classifiers(register: Any) -> None:
        register(Constant())

    registry = registry_with(types.SimpleNamespace(__name__="constant_plugin",
                                                   outboundql_register_classifiers=outboundql_register_classifiers))
    assert [c.key for c in registry.all()] == ["constant", "rules"]
    assert registry.get("rules") is RULES
    assert registry.source("rules") == "built-in"
    assert isinstance(registry.get("constant"), Constant)


def test_returning_something_is_refused() -> None:
    @hookimpl
    def outboundql_register_classifiers(register: Any) -> list[object]:
        return [Constant()]

    with pytest.raises(ClassifierRegistrationError, match="must call register\\(classifier\\) and return None"):
        registry_with(types.SimpleNamespace(outboundql_register_classifiers=outboundql_register_classifiers))


def test_a_classifier_error_is_a_goal_registration_error() -> None:
    assert issubclass(ClassifierRegistrationError, GoalRegistrationError)
