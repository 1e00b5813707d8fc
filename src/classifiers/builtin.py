"""The built-in reply classifiers, registered through the public hook exactly like a third party's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from outboundql.classifiers.rules import RULES
from outboundql.goals import hookimpl

if TYPE_CHECKING:
    from outboundql.classifiers.registry import RegisterClassifier


@hookimpl
def outboundql_register_classifiers(register: RegisterClassifier) -> None:
    register(RULES)
