"""A third-party classifier is found through the ``outboundql.goals`` entry-point group (real dist-info
metadata in a temporary directory, nothing installed), attributed to its distribution, and blockable."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from outboundql.classifiers import Reply, ReplyClass
from outboundql.classifiers.registry import classify_with, collect_classifiers, default_classifiers
from outboundql.goals.manager import ENTRY_POINT_GROUP, make_plugin_manager
from outboundql.settings import get_settings

SHOUTING = '''
from outboundql.classifiers import Classification, ReplyClass
from outboundql.goals import hookimpl


class Shouting:
    key = "shouting"
    label = "Shouting"

    async def classify(self, replies):
        return [Classification(ReplyClass.UNSUBSCRIBE if r.text.isupper() else ReplyClass.OTHER, 0.5)
                for r in replies]


@hookimpl
def outboundql_register_classifiers(register):
    register(Shouting())
'''


@pytest.fixture
def shouting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "shouting_classifier.py").write_text(textwrap.dedent(SHOUTING))
    info = tmp_path / "shouting_classifier-0.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shouting-classifier\nVersion: 0.2\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nshouting = shouting_classifier\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shouting_classifier", raising=False)
    yield tmp_path
    sys.modules.pop("shouting_classifier", None)


async def test_an_installed_classifier_is_discovered_beside_the_builtin(shouting: Path) -> None:
    registry = collect_classifiers(make_plugin_manager())
    assert [c.key for c in registry.all()] == ["rules", "shouting"]
    assert registry.source("shouting") == "shouting-classifier 0.2"
    assert registry.source("rules") == "built-in"
    classifier = registry.get("shouting")
    assert classifier is not None
    answers = await classify_with(classifier, [Reply("STOP"), Reply("ok")])
    assert [a.label for a in answers] == [ReplyClass.UNSUBSCRIBE, ReplyClass.OTHER]


def test_a_blocked_plugin_is_not_loaded(shouting: Path) -> None:
    assert "shouting" not in collect_classifiers(make_plugin_manager(blocked=["shouting"]))


def test_the_default_registry_is_built_on_first_use(shouting: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOUNDQL_DISABLE_PLUGINS", "shouting")
    get_settings.cache_clear()
    default_classifiers.cache_clear()
    try:
        assert [c.key for c in default_classifiers().all()] == ["rules"]
    finally:
        get_settings.cache_clear()
        default_classifiers.cache_clear()
