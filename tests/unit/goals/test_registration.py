"""Registration: every malformed goal or hook is refused with an error naming the plugin and the fix."""

from __future__ import annotations

from typing import Any

import pluggy
import pytest

from outboundql.goals import (
    ALWAYS_HARD,
    OVERRIDE_FLAGS,
    Block,
    Criterion,
    Goal,
    GoalRegistrationError,
    Guardrail,
    RegisterGoal,
    hookimpl,
)
from outboundql.goals.manager import collect_goals, make_plugin_manager
from outboundql.goals.registry import GoalRegistry

PLUGIN = "acme_goals"
PIPELINE_AND_PARTNER = ("new", "initiated", "engaged", "qualified", "lost", "churned", "partner")


def make_goal(**changes: Any) -> Goal:
    fields: dict[str, Any] = {
        "key": "podcast",
        "label": "Podcast guest",
        "description": "Get invited as a guest on podcasts your buyers listen to.",
        "target_role_kind": "influencer",
        "guardrails": {"press": Guardrail(Block.TARGET)},
        "rubric": (Criterion("topic_fit", 0.6, "keywords"), Criterion("host_reachable", 0.4, "role_kind")),
        "message_intent": "Pitch a guest episode.",
    }
    fields.update(changes)
    return Goal(**fields)


def plugin(*goals: object, name: str = PLUGIN) -> object:
    """A plugin object whose hook registers ``goals`` (pluggy names it by ``__name__``)."""

    class GoalPlugin:
        @hookimpl
        def outboundql_register_goals(self, register: RegisterGoal) -> None:
            for goal in goals:
                register(goal)  # type: ignore[arg-type]

    instance = GoalPlugin()
    instance.__name__ = name  # type: ignore[attr-defined]
    return instance


def collect(*plugins: object) -> GoalRegistry:
    return collect_goals(make_plugin_manager(entry_points=False, extra=plugins))


def refused(*plugins: object, says: tuple[str, ...], names: str = PLUGIN) -> str:
    with pytest.raises(GoalRegistrationError) as info:
        collect(*plugins)
    message = str(info.value)
    assert repr(names) in message, message
    for fragment in says:
        assert fragment in message, message
    return message


def test_hook_outboundql_register_goals() -> None:
    registry = collect(plugin(make_goal()))
    assert "podcast" in registry
    assert registry["podcast"].label == "Podcast guest"
    assert registry.source("podcast") == PLUGIN  # no distribution: the plugin's name
    assert len(registry) == 13


def test_one_plugin_may_register_several_goals() -> None:
    registry = collect(plugin(make_goal(), make_goal(key="webinar", label="Webinar")))
    assert {"podcast", "webinar"} <= set(registry.keys())


def test_module_plugins_are_named_by_module() -> None:
    import types

    module = types.ModuleType("outboundql_goal_podcast")

    @hookimpl
    def outboundql_register_goals(register: RegisterGoal) -> None:
        register(make_goal())

    module.outboundql_register_goals = outboundql_register_goals  # type: ignore[attr-defined]
    assert collect(module).source("podcast") == "outboundql_goal_podcast"


# --- duplicates -------------------------------------------------------------------------------


def test_duplicate_of_a_builtin_key() -> None:
    refused(plugin(make_goal(key="sales")), says=("'sales'", "already registered by built-in", "pick another key"))


@pytest.mark.parametrize("order", ["first_a", "first_b"])
def test_duplicate_key_whichever_plugin_comes_first(order: str) -> None:
    a, b = plugin(make_goal(), name="plugin_a"), plugin(make_goal(label="Another podcast"), name="plugin_b")
    first, second = (a, b) if order == "first_a" else (b, a)
    second_name = "plugin_b" if order == "first_a" else "plugin_a"
    first_name = "plugin_a" if order == "first_a" else "plugin_b"
    refused(first, second, names=second_name, says=("'podcast'", f"already registered by {first_name}",
                                                    "pick another key"))


def test_duplicate_key_within_one_plugin() -> None:
    refused(plugin(make_goal(), make_goal()), says=("already registered", "pick another key"))


# --- identity fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["Podcast", "1podcast", "pod-cast", "pod cast", "", "_podcast", "p" * 65, "podcast\n"])
def test_bad_key_format(key: str) -> None:
    refused(plugin(make_goal(key=key)), says=("lowercase snake_case", "e.g. 'podcast'"))


@pytest.mark.parametrize("key", ["p", "podcast_2", "p" * 64])
def test_good_key_formats(key: str) -> None:
    assert key in collect(plugin(make_goal(key=key)))


@pytest.mark.parametrize("field", ["label", "description", "message_intent", "outcome_label"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_text_field(field: str, value: Any) -> None:
    refused(plugin(make_goal(**{field: value})), says=(f"{field} must be a non-empty string",))


@pytest.mark.parametrize("value", [42, b"placed", ("placed",)])
def test_outcome_label_must_be_a_string(value: Any) -> None:
    refused(plugin(make_goal(outcome_label=value)), says=("outcome_label must be a non-empty string",))


@pytest.mark.parametrize("value", ["x" * 61, "meeting\nbooked", "placed\t"])
def test_outcome_label_is_one_short_line(value: str) -> None:
    refused(plugin(make_goal(outcome_label=value)), says=("outcome_label must be one line of at most 60 characters",))


def test_outcome_label_defaults_and_is_kept() -> None:
    assert collect(plugin(make_goal()))["podcast"].outcome_label == "goal achieved"
    assert collect(plugin(make_goal(outcome_label="x" * 60)))["podcast"].outcome_label == "x" * 60
    assert collect(plugin(make_goal(outcome_label="episode booked")))["podcast"].outcome_label == "episode booked"


def test_unknown_target_role_kind() -> None:
    refused(plugin(make_goal(target_role_kind="ceo")), says=("'ceo'", "is not one of", "journalist", "influencer"))


def test_no_target_role_kind_is_fine() -> None:
    assert collect(plugin(make_goal(target_role_kind=None)))["podcast"].target_role_kind is None


def test_non_callable_tweak() -> None:
    refused(plugin(make_goal(tweak_icp="press")), says=("tweak_icp and is_target must be callables",))


# --- guardrails ---------------------------------------------------------------------------------


@pytest.mark.parametrize("block", [Block.SOFT, Block.ALLOWED, Block.TARGET])
@pytest.mark.parametrize("status", sorted(ALWAYS_HARD))
def test_a_guardrail_cannot_admit_protected_statuses(status: str, block: Block) -> None:
    refused(plugin(make_goal(guardrails={status: Guardrail(block)})),
            says=(f"cannot admit {status!r}", "always hard-blocked in every goal"))


@pytest.mark.parametrize("status", sorted(ALWAYS_HARD))
def test_hard_on_protected_statuses_is_accepted(status: str) -> None:
    registry = collect(plugin(make_goal(guardrails={status: Guardrail(Block.HARD)})))
    assert registry["podcast"].guardrails[status] == Guardrail(Block.HARD)


@pytest.mark.parametrize("status", ["new", "partner", "churned", "do_not_contact"])
def test_soft_needs_a_status_with_an_override_flag(status: str) -> None:
    expected = "always hard-blocked" if status in ALWAYS_HARD else "cannot be soft-blocked"
    refused(plugin(make_goal(guardrails={status: Guardrail(Block.SOFT)})), says=(expected,))
    if status not in ALWAYS_HARD:
        refused(plugin(make_goal(guardrails={status: Guardrail(Block.SOFT)})),
                says=("use Block.HARD or Block.ALLOWED", "press"))


def test_wrong_override_flag() -> None:
    refused(plugin(make_goal(guardrails={"press": Guardrail(Block.SOFT, "include_customers")})),
            says=("the override flag for 'press' is 'include_press', not 'include_customers'",))


def test_camel_case_override_flag_is_wrong_too() -> None:
    refused(plugin(make_goal(guardrails={"press": Guardrail(Block.SOFT, "includePress")})),
            says=("'include_press'",))


@pytest.mark.parametrize("block", [Block.HARD, Block.TARGET, Block.ALLOWED])
def test_override_flag_on_a_non_soft_rule(block: Block) -> None:
    refused(plugin(make_goal(guardrails={"press": Guardrail(block, "include_press")})),
            says=("only SOFT guardrails take an override flag", block.name))


def test_soft_with_its_own_flag_or_none_is_accepted() -> None:
    registry = collect(plugin(make_goal(guardrails={"press": Guardrail(Block.SOFT, "include_press"),
                                                    "analyst": Guardrail(Block.SOFT)})))
    rules = registry["podcast"].guardrails
    assert rules["press"] == Guardrail(Block.SOFT, "include_press")
    assert rules["analyst"] == Guardrail(Block.SOFT, "include_analysts")  # filled in by the host


def test_unknown_status() -> None:
    refused(plugin(make_goal(guardrails={"prospect": Guardrail(Block.ALLOWED)})),
            says=("unknown account status 'prospect'", "do_not_contact"))


@pytest.mark.parametrize("value", ["soft", Block.SOFT, None, ("soft", "include_press"), Guardrail("soft")])
def test_non_guardrail_value(value: Any) -> None:
    refused(plugin(make_goal(guardrails={"press": value})), says=("must be a Guardrail(Block.…)",))


def test_guardrails_not_a_mapping() -> None:
    refused(plugin(make_goal(guardrails=[("press", Guardrail(Block.TARGET))])),
            says=("guardrails must be a mapping",))


def test_omitted_statuses_get_the_documented_defaults() -> None:
    rules = collect(plugin(make_goal(guardrails={})))["podcast"].guardrails
    assert len(rules) == 16
    for status in ALWAYS_HARD:
        assert rules[status] == Guardrail(Block.HARD)
    for status in PIPELINE_AND_PARTNER:
        assert rules[status] == Guardrail(Block.ALLOWED)
    for status, flag in OVERRIDE_FLAGS.items():
        assert rules[status] == Guardrail(Block.SOFT, flag)


def test_given_rules_override_the_defaults() -> None:
    rules = collect(plugin(make_goal(guardrails={"new": Guardrail(Block.HARD), "customer": Guardrail(Block.ALLOWED)})))
    goal = rules["podcast"]
    assert goal.guardrails["new"] == Guardrail(Block.HARD)
    assert goal.guardrails["customer"] == Guardrail(Block.ALLOWED)
    assert goal.guardrails["initiated"] == Guardrail(Block.ALLOWED)


# --- rubric -------------------------------------------------------------------------------------


def test_empty_rubric() -> None:
    refused(plugin(make_goal(rubric=())), says=("the rubric needs at least one Criterion",))


def test_unknown_measure() -> None:
    refused(plugin(make_goal(rubric=(Criterion("vibes", 1.0, "vibes"),))),
            says=("criterion 'vibes' measures 'vibes'", "known measures", "keywords"))


@pytest.mark.parametrize("weight", [0, -0.2, 1.5, True, "1"])
def test_weight_out_of_range(weight: Any) -> None:
    refused(plugin(make_goal(rubric=(Criterion("topic_fit", weight, "keywords"),))),
            says=("criterion 'topic_fit' weight must be in (0, 1]",))


@pytest.mark.parametrize("weights", [(0.5, 0.4), (0.7, 0.4), (0.3,)])
def test_weights_not_summing_to_one(weights: tuple[float, ...]) -> None:
    rubric = tuple(Criterion(f"c{i}", w, "keywords") for i, w in enumerate(weights))
    refused(plugin(make_goal(rubric=rubric)), says=("rubric weights must sum to 1.0",))


def test_weights_summing_to_one_with_float_noise_are_fine() -> None:
    rubric = tuple(Criterion(f"c{i}", 0.1, "keywords") for i in range(10))
    assert "podcast" in collect(plugin(make_goal(rubric=rubric)))


def test_duplicate_criterion_key() -> None:
    rubric = (Criterion("fit", 0.5, "keywords"), Criterion("fit", 0.5, "industry"))
    refused(plugin(make_goal(rubric=rubric)), says=("criterion key 'fit' must be unique",))


def test_bad_criterion_key() -> None:
    refused(plugin(make_goal(rubric=(Criterion("Topic Fit", 1.0, "keywords"),))), says=("lowercase snake_case",))


def test_rubric_item_not_a_criterion() -> None:
    refused(plugin(make_goal(rubric=(("topic_fit", 1.0, "keywords"),))), says=("rubric items must be Criterion",))


# --- what the hook hands over -------------------------------------------------------------------


@pytest.mark.parametrize("value", [{"key": "podcast"}, "podcast", None])
def test_registering_a_non_goal(value: object) -> None:
    refused(plugin(value), says=("register(...) takes an outboundql.goals.Goal",))


def test_a_hook_implementation_that_returns_a_value() -> None:
    class Returning:
        __name__ = PLUGIN

        @hookimpl
        def outboundql_register_goals(self, register: RegisterGoal) -> list[Goal]:
            return [make_goal()]

    refused(Returning(), says=("must call register(goal) and return None", "not list"))


def test_a_misspelt_hook_name_fails_at_check_pending() -> None:
    class Misspelt:
        @hookimpl
        def outboundql_register_goal(self, register: RegisterGoal) -> None:
            register(make_goal())

    plug = Misspelt()
    plug.__name__ = PLUGIN  # type: ignore[attr-defined]
    with pytest.raises(GoalRegistrationError) as info:
        make_plugin_manager(entry_points=False, extra=[plug])
    message = str(info.value)
    assert repr(PLUGIN) in message
    assert "unknown hook 'outboundql_register_goal'" in message
    assert "outboundql_register_goals" in message.replace("'outboundql_register_goal'", "")
    assert "fix the spelling" in message
    assert isinstance(info.value.__cause__, pluggy.PluginValidationError)


def test_an_optional_unknown_hook_is_tolerated() -> None:
    class Future:
        @hookimpl(optionalhook=True)
        def outboundql_register_webhooks(self, register: Any) -> None:
            raise AssertionError("never called")

    make_plugin_manager(entry_points=False, extra=[Future()])


def test_a_wrong_argument_name_fails_at_register() -> None:
    class WrongArgument:
        __name__ = PLUGIN

        @hookimpl
        def outboundql_register_goals(self, registrar: RegisterGoal) -> None:
            registrar(make_goal())

    with pytest.raises(pluggy.PluginValidationError) as info:
        make_plugin_manager(entry_points=False, extra=[WrongArgument()])
    message = str(info.value)
    assert repr(PLUGIN) in message
    assert "registrar" in message and "can not be found in the hookspec" in message


def test_an_implementation_may_take_fewer_arguments() -> None:
    class NoArguments:
        @hookimpl
        def outboundql_register_goals(self) -> None:
            pass

    assert len(collect(NoArguments())) == 12


def test_a_refused_registration_leaves_no_half_registry() -> None:
    with pytest.raises(GoalRegistrationError):
        collect(plugin(make_goal(), make_goal(key="sales")))
    registry = collect(plugin(make_goal()))

    def contents() -> dict[str, tuple[Goal, str]]:
        return {goal.key: (goal, registry.source(goal.key)) for goal in registry}

    before = contents()
    # a taken key, and a goal refused by a check that runs late (the rubric, after the guardrails)
    for goal in (make_goal(key="sales"), make_goal(key="webinar", rubric=())):
        with pytest.raises(GoalRegistrationError):
            registry.register(goal, source="acme-goals 1.0", plugin=PLUGIN)
        assert contents() == before
