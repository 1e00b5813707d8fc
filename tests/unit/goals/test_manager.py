"""The plugin manager: entry-point discovery (real dist-info metadata, nothing installed), sources,
blocking, broken plugins, ordering, and no manager built at import."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from outboundql.goals import Block, Criterion, Goal, GoalRegistrationError, Guardrail, RegisterGoal, hookimpl
from outboundql.goals.manager import (
    BUILTIN_PLUGINS,
    ENTRY_POINT_GROUP,
    collect_goals,
    default_registry,
    make_plugin_manager,
)
from outboundql.settings import get_settings

FAKE_GOAL = '''
from outboundql.goals import Block, Criterion, Goal, Guardrail, hookimpl

FAKE = Goal(
    key="fake",
    label="Fake goal",
    description="A goal installed only as dist-info metadata in a temporary directory.",
    target_role_kind="other",
    guardrails={"analyst": Guardrail(Block.TARGET)},
    rubric=(Criterion("fit", 1.0, "keywords"),),
    message_intent="Say hello.",
)


@hookimpl
def outboundql_register_goals(register):
    register(FAKE)
'''


def install_fake(root: Path, module: str, dist: str, entry_point: str, source: str) -> None:
    """Write ``module.py`` and a ``<dist>-0.1.dist-info`` declaring it under our entry-point group."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_point} = {module}\n")


@pytest.fixture
def fake_goal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install_fake(tmp_path, "fake_goal", "fake-goal", "fake", FAKE_GOAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_goal", raising=False)
    yield tmp_path
    sys.modules.pop("fake_goal", None)


@pytest.fixture
def broken_goal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install_fake(tmp_path, "broken_goal", "broken-goal", "broken", "raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("broken_goal", None)


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    get_settings.cache_clear()
    default_registry.cache_clear()
    yield
    get_settings.cache_clear()
    default_registry.cache_clear()


def test_the_fake_distribution_is_visible_to_importlib_metadata(fake_goal: Path) -> None:
    dist = importlib.metadata.distribution("fake-goal")
    assert (dist.metadata["Name"], dist.version) == ("fake-goal", "0.1")
    [ep] = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    assert (ep.name, ep.value) == ("fake", "fake_goal")


def test_discovery_through_entry_point_metadata(fake_goal: Path) -> None:
    pm = make_plugin_manager()
    assert pm.get_plugin("fake") is sys.modules["fake_goal"]
    assert ("fake-goal", "0.1") in {(d.project_name, d.version) for _, d in pm.list_plugin_distinfo()}
    registry = collect_goals(pm)
    assert "fake" in registry
    assert registry["fake"].label == "Fake goal"
    assert registry.source("fake") == "fake-goal 0.1"
    assert registry["fake"].guardrails["analyst"] == Guardrail(Block.TARGET)


def test_load_setuptools_entrypoints_counts_the_fake(fake_goal: Path) -> None:
    pm = make_plugin_manager(entry_points=False)
    assert pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name="fake") == 1


def test_builtins_report_built_in(fake_goal: Path) -> None:
    registry = collect_goals(make_plugin_manager())
    assert {registry.source(g.key) for g in registry if g.key != "fake"} == {"built-in"}


def test_without_entry_points_the_installed_plugin_is_ignored(fake_goal: Path) -> None:
    assert "fake" not in collect_goals(make_plugin_manager(entry_points=False))


def test_a_blocked_plugin_is_skipped(fake_goal: Path) -> None:
    pm = make_plugin_manager(blocked=["fake"])
    assert pm.is_blocked("fake")
    assert pm.get_plugin("fake") is None
    assert "fake_goal" not in sys.modules  # a blocked plugin is never imported
    assert "fake" not in collect_goals(pm)


def test_default_registry_honours_outboundql_disable_plugins(
    fake_goal: Path, fresh_caches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOUNDQL_DISABLE_PLUGINS", "other, fake")
    assert get_settings().disabled_plugins == ["other", "fake"]
    assert "fake" not in default_registry()
    assert "sales" in default_registry()

    monkeypatch.delenv("OUTBOUNDQL_DISABLE_PLUGINS")
    get_settings.cache_clear()
    default_registry.cache_clear()
    registry = default_registry()
    assert "fake" in registry
    assert registry.source("fake") == "fake-goal 0.1"
    assert default_registry() is registry  # built once, then cached


def test_a_plugin_that_fails_to_import_stops_startup_naming_the_way_out(broken_goal: Path) -> None:
    with pytest.raises(GoalRegistrationError) as info:
        make_plugin_manager()
    message = str(info.value)
    assert "'broken'" in message
    assert "boom at import" in message
    assert "OUTBOUNDQL_DISABLE_PLUGINS=broken" in message
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_broken_plugin_can_be_blocked(broken_goal: Path) -> None:
    registry = collect_goals(make_plugin_manager(blocked=["broken"]))
    assert "sales" in registry
    assert "broken_goal" not in sys.modules


def test_default_registry_with_a_broken_plugin_then_disabled(
    broken_goal: Path, fresh_caches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTBOUNDQL_DISABLE_PLUGINS", raising=False)
    with pytest.raises(GoalRegistrationError, match="OUTBOUNDQL_DISABLE_PLUGINS"):
        default_registry()
    monkeypatch.setenv("OUTBOUNDQL_DISABLE_PLUGINS", "broken")
    get_settings.cache_clear()
    assert len(default_registry()) >= 11


def named_plugin(name: str, *keys: str) -> object:
    class KeyPlugin:
        @hookimpl
        def outboundql_register_goals(self, register: RegisterGoal) -> None:
            for key in keys:
                register(Goal(key=key, label=key.title(), description=f"The {key} goal.",
                              rubric=(Criterion("fit", 1.0, "keywords"),), message_intent="Hello."))

    plugin = KeyPlugin()
    plugin.__name__ = name  # type: ignore[attr-defined]
    return plugin


@pytest.mark.parametrize("reverse", [False, True])
def test_registry_iteration_is_sorted_by_key_whatever_the_order(reverse: bool) -> None:
    plugins = [named_plugin("zed", "zzz_last", "aaa_first"), named_plugin("mid", "mmm_middle")]
    if reverse:
        plugins.reverse()
    registry = collect_goals(make_plugin_manager(entry_points=False, extra=plugins))
    keys = [g.key for g in registry]
    assert keys == sorted(keys) == registry.keys()
    assert keys[0] == "aaa_first" and keys[-1] == "zzz_last"
    assert registry.source("mmm_middle") == "mid"


def test_builtins_are_registered_in_a_fixed_order_but_listed_sorted() -> None:
    registry = collect_goals(make_plugin_manager(entry_points=False))
    assert [g.key for g in registry] == sorted(m.rsplit(".", 1)[1] for m in BUILTIN_PLUGINS)


def test_each_call_builds_a_fresh_manager() -> None:
    assert make_plugin_manager(entry_points=False) is not make_plugin_manager(entry_points=False)


def test_tracing_writes_hook_calls(capsys: pytest.CaptureFixture[str]) -> None:
    pm = make_plugin_manager(entry_points=False, trace=True)
    pm.hook.outboundql_register_goals(register=lambda goal: None)
    assert "outboundql_register_goals" in capsys.readouterr().out


def test_no_manager_is_built_at_import() -> None:
    script = textwrap.dedent("""
        import pluggy

        built = []
        original = pluggy.PluginManager.__init__

        def spy(self, *args, **kwargs):
            built.append(args)
            original(self, *args, **kwargs)

        pluggy.PluginManager.__init__ = spy

        import outboundql.goals
        import outboundql.goals.builtin.sales
        import outboundql.goals.guardrails
        import outboundql.goals.manager
        import outboundql.goals.registry
        import outboundql.goals.testing
        import outboundql.app
        import outboundql.gql.schema

        assert built == [], built
        assert outboundql.goals.manager.default_registry.cache_info().currsize == 0
        for module in (outboundql.goals, outboundql.goals.manager, outboundql.goals.registry):
            for name, value in vars(module).items():
                assert not isinstance(value, pluggy.PluginManager), (module.__name__, name)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
