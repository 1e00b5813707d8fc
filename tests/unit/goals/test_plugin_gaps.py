"""What a plugin author learns from the docs holds: a module registered with no @hookimpl is an error naming it,
``rubric=Criterion(...)`` without a tuple is a GoalRegistrationError that says how to write it, an ``is_target`` match
is worded as the goal's own test (not as a status rule) in guardrail messages and score reasons, the testing kit
finds installed plugins without the internal manager, and ``outboundql serve --demo`` refuses a bad plugin before
it prints a token."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from outboundql.goals import (
    AccountFacts,
    Block,
    Criterion,
    Goal,
    GoalRegistrationError,
    Guardrail,
    Persona,
    Product,
    hookimpl,
)
from outboundql.goals.guardrails import Decision, Verdict, decide, message
from outboundql.goals.registry import validate_goal
from outboundql.goals.testing import installed_goals, installed_plugin, registry_with
from outboundql.scoring import rubric
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot
from tests.unit.goals.test_manager import install_fake

TODAY = date(2026, 3, 2)


def has_host(goal: Goal, facts: AccountFacts, today: date) -> bool:
    return facts.status == "press" or "influencer" in facts.contact_role_kinds


SHOW = Goal(key="show", label="Podcast guest", description="D", message_intent="M",
            guardrails={"press": Guardrail(Block.TARGET)}, rubric=(Criterion("is_media", 1.0, "status"),),
            is_target=has_host, target_description="press accounts and accounts with a podcast host")


# --- a module with no @hookimpl ----------------------------------------------------------------------------


def test_a_module_with_an_undecorated_hook_function_is_refused_naming_it() -> None:
    module = types.ModuleType("forgetful_plugin")

    def outboundql_register_goals(register: object) -> None:  # no @hookimpl: pluggy cannot see it
        raise AssertionError("never called")

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    with pytest.raises(GoalRegistrationError) as error:
        registry_with(module)
    assert "'forgetful_plugin' implements no outboundql hook" in str(error.value)
    assert "outboundql_register_goals is not decorated with @outboundql.goals.hookimpl" in str(error.value)


def test_a_module_with_nothing_to_offer_is_refused_listing_the_hooks() -> None:
    with pytest.raises(GoalRegistrationError) as error:
        registry_with(types.ModuleType("empty_plugin"))
    assert str(error.value).startswith("plugin 'empty_plugin' implements no outboundql hook: define one of ")
    assert "outboundql_register_goals" in str(error.value)


@pytest.fixture
def hookless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution whose entry point names a module without any @hookimpl."""
    install_fake(tmp_path, "hookless_goal", "hookless-goal", "hookless",
                 "def outboundql_register_goals(register):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("hookless_goal", None)


def test_an_installed_plugin_without_hookimpl_stops_startup(hookless: Path) -> None:
    with pytest.raises(GoalRegistrationError) as error:
        installed_goals()
    assert str(error.value).startswith("plugin 'hookless' (module 'hookless_goal') implements no outboundql hook")


def test_a_plugin_with_a_hookimpl_still_registers() -> None:
    module = types.ModuleType("fine_plugin")

    @hookimpl
    def outboundql_register_goals(register: object) -> None:
        register(SHOW)  # type: ignore[operator]

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    assert "show" in registry_with(module)


# --- rubric=Criterion(...) ---------------------------------------------------------------------------------


def test_a_single_criterion_not_in_a_tuple_says_how_to_write_it() -> None:
    goal = replace(SHOW, rubric=Criterion("is_media", 1.0, "status"))  # type: ignore[arg-type]
    with pytest.raises(GoalRegistrationError) as error:
        validate_goal(goal, plugin="podcast")
    assert str(error.value) == (
        "plugin 'podcast', goal 'show': rubric must be a tuple of Criterion: write rubric=(Criterion(...),) with a "
        "trailing comma for a single criterion")


@pytest.mark.parametrize("rubric", ["is_media", 1.0, {"is_media": 1.0}])
def test_a_rubric_of_another_type_is_a_registration_error(rubric: object) -> None:
    with pytest.raises(GoalRegistrationError, match="rubric must be a tuple of Criterion, got"):
        validate_goal(replace(SHOW, rubric=rubric), plugin="podcast")  # type: ignore[arg-type]


def test_a_list_of_criteria_is_accepted() -> None:
    checked = validate_goal(replace(SHOW, rubric=[Criterion("is_media", 1.0, "status")]),  # type: ignore[arg-type]
                            plugin="podcast")
    assert checked.rubric == (Criterion("is_media", 1.0, "status"),)


# --- is_target is the goal's own test, not a status rule ---------------------------------------------------


def test_guardrail_messages_word_an_is_target_match_as_the_goals_test() -> None:
    goal = validate_goal(SHOW, plugin="podcast")
    host = decide(goal, AccountFacts(status="new", contact_role_kinds=frozenset({"influencer"})), today=TODAY)
    assert host.verdict is Verdict.TARGET
    assert message(goal, host) == ("This new account is in the target audience of this Podcast guest campaign: "
                                   "press accounts and accounts with a podcast host.")
    plain = decide(goal, AccountFacts(status="new"), today=TODAY)
    assert message(goal, plain) == "New accounts are admitted in this Podcast guest campaign."


def test_a_status_rule_target_is_still_worded_by_its_status() -> None:
    press = registry_with()["press"]  # no is_target of its own: Block.TARGET on press decides
    assert message(press, Decision(Verdict.TARGET, "press")) == (
        "Press accounts are the target audience of this Press coverage campaign.")


def test_score_reasons_word_an_is_target_match_as_the_goals_test() -> None:
    goal = validate_goal(SHOW, plugin="podcast")
    snapshot = AccountSnapshot(name="Deep Dive FM", status="new")
    host = [ContactSnapshot(role_kind="influencer")]
    reasons = rubric.score(goal, Persona(), Product(name="P"), snapshot, host, today=TODAY).justifications
    assert [r.text for r in reasons] == [
        "Is media: yes, the account is in this goal's target audience by the goal's own test (status new)."]
    press = rubric.score(goal, Persona(), Product(name="P"), replace(snapshot, status="press"), [], today=TODAY)
    assert [r.text for r in press.justifications] == ["Is media: yes, status press is this goal's target audience."]
    nobody = rubric.score(goal, Persona(), Product(name="P"), snapshot, [], today=TODAY)
    assert [r.text for r in nobody.justifications] == [
        "Is media: partly, status new is allowed but not this goal's target audience."]


# --- the testing kit, without the internal manager --------------------------------------------------------


def test_the_kit_finds_installed_plugins(hookless: Path) -> None:
    (hookless / "hookless_goal.py").write_text(
        "from outboundql.goals import hookimpl\n"
        "from tests.unit.goals.test_plugin_gaps import SHOW\n\n"
        "@hookimpl\ndef outboundql_register_goals(register):\n    register(SHOW)\n")
    assert "show" in installed_goals()
    plugin = installed_plugin("hookless")
    assert plugin is not None and getattr(plugin, "__name__", None) == "hookless_goal"
    assert installed_plugin("nothing_installed_by_that_name") is None


# --- serve --demo ------------------------------------------------------------------------------------------


def test_serve_demo_refuses_a_bad_plugin_before_printing_a_token(hookless: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(hookless), "HOME": str(tmp_path),
           "OUTBOUNDQL_DATABASE_URL": f"sqlite://{tmp_path / 'demo.sqlite3'}"}
    result = subprocess.run([sys.executable, "-c", "from outboundql.cli import main; main()", "serve", "--demo",
                             "--port", "9"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stdout == ""  # no token, no GraphiQL address
    assert result.stderr.startswith("error: plugin 'hookless' (module 'hookless_goal') implements no outboundql hook")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "demo.sqlite3").exists()  # nothing migrated or seeded


def test_worker_refuses_a_bad_plugin_before_starting_processes(hookless: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(hookless), "HOME": str(tmp_path),
           "OUTBOUNDQL_REDIS_URL": "redis://127.0.0.1:1/0"}  # never reached: the plugin is refused first
    result = subprocess.run([sys.executable, "-c", "from outboundql.cli import main; main()", "worker"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: plugin 'hookless' (module 'hookless_goal') implements no outboundql hook")
