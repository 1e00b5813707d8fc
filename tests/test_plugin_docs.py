"""docs/plugins.md stays true: every hook, public name and measure documented; its plugin works.

The hook reference must show each hookspec's signature and docstring verbatim, and the plugin under
"## A complete plugin" is executed and registered like a real one.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import outboundql.goals
from outboundql.goals import MEASURES, Block, Criterion, Goal, GoalRegistrationError, Guardrail, SignalKind, hookspecs
from outboundql.goals.registry import GoalRegistry, validate_goal
from outboundql.goals.testing import check_goal, registry_with

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "plugins.md").read_text()
EXAMPLE = ROOT / "examples" / "outboundql-goal-podcast"

HOOKSPECS = [fn for _, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")]


def section(heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level (fences skipped)."""
    level = len(heading.split(" ", 1)[0])
    lines, inside, fenced = [], False, False
    for line in DOCS.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#+) ", line)):
            if inside and len(match.group(1)) <= level:
                break
            if line.rstrip() == heading:
                inside = True
                continue
        if inside:
            lines.append(line)
    assert inside, f"docs/plugins.md has no {heading!r} section"
    return "".join(lines)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def signature_line(fn: Callable[..., object]) -> str:
    """``def name(args) -> ret`` as written in the source (annotations unevaluated)."""
    node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    assert isinstance(node, ast.FunctionDef)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}"


def test_the_hookspecs_are_found() -> None:
    assert "outboundql_register_goals" in [fn.__name__ for fn in HOOKSPECS]


@pytest.mark.parametrize("spec", HOOKSPECS, ids=lambda fn: fn.__name__)
def test_hook_reference_has_signature_and_docstring_verbatim(spec: Callable[..., object]) -> None:
    assert f"### `{spec.__name__}`" in section("## Hook reference")
    entry = section(f"### `{spec.__name__}`")
    assert f"{signature_line(spec)}\n" in code_blocks(entry, "python")
    doc = inspect.getdoc(spec)
    assert doc and "versionadded" in doc
    assert f"{doc}\n" in code_blocks(entry, "text"), f"copy the docstring of {spec.__name__} into the docs verbatim"


def test_signature_line_is_what_a_reader_would_type() -> None:
    assert signature_line(hookspecs.outboundql_register_goals) == (
        "def outboundql_register_goals(register: RegisterGoal) -> None")


@pytest.mark.parametrize("name", outboundql.goals.__all__)
def test_every_public_name_has_a_reference_entry(name: str) -> None:
    headings = re.findall(r"^###+ (.*)$", section("## Reference: `outboundql.goals`"), re.M)
    assert any(f"`{name}`" in h for h in headings), f"add a '### `{name}`' entry to the reference"


@pytest.mark.parametrize("measure", list(MEASURES))
def test_every_measure_is_listed_with_its_meaning(measure: str) -> None:
    assert f"| `{measure}` | {MEASURES[measure]} |" in section("### `MEASURES`")


@pytest.mark.parametrize("cls", [Goal, Guardrail, Criterion, SignalKind, outboundql.goals.Persona,
                                 outboundql.goals.Product, outboundql.goals.AccountFacts], ids=lambda c: c.__name__)
def test_every_field_of_the_public_dataclasses_is_documented(cls: type) -> None:
    reference = section("## Reference: `outboundql.goals`")
    for f in dataclasses.fields(cls):
        assert f"`{f.name}`" in reference or f"{f.name}=" in reference, f"{cls.__name__}.{f.name}"


def test_every_block_and_override_flag_is_documented() -> None:
    for block in Block:
        assert f"`Block.{block.name}`" in DOCS
    for status, flag in outboundql.goals.OVERRIDE_FLAGS.items():
        assert f"| `{status}` | `{flag}` |" in DOCS


def test_operating_variables_are_documented() -> None:
    assert "OUTBOUNDQL_DISABLE_PLUGINS=podcast" in DOCS
    assert "OUTBOUNDQL_TRACE_PLUGINS=1" in DOCS
    assert "Unknown goal (podcast)" in DOCS


# --- the plugin in the docs is real -----------------------------------------------------------------------


def docs_plugin() -> types.ModuleType:
    """The first python block under '## A complete plugin', executed as a module."""
    source = code_blocks(section("## A complete plugin"), "python")[0]
    module = types.ModuleType("docs_podcast_plugin")
    exec(compile(source, "docs/plugins.md", "exec"), module.__dict__)
    return module


def test_the_complete_plugin_registers_and_passes_check_goal() -> None:
    module = docs_plugin()
    registry = registry_with(module)
    assert "podcast" in registry and "sales" in registry
    assert registry.source("podcast") == "docs_podcast_plugin"
    checked = check_goal(module.PODCAST)
    assert checked == registry["podcast"]
    assert checked.label == "Podcast guest"
    assert checked.target_role_kind == "influencer"
    assert checked.guardrails["press"].block is Block.TARGET
    assert checked.outcome_label == "episode booked"


def test_the_complete_plugin_is_the_example_distributions_module() -> None:
    source = code_blocks(section("## A complete plugin"), "python")[0]
    assert source == (EXAMPLE / "src" / "outboundql_goal_podcast" / "__init__.py").read_text()


def test_the_examples_import_only_the_public_api_and_the_testing_kit() -> None:
    blocks = code_blocks(section("## A complete plugin"), "python") + code_blocks(section("## Testing it"), "python")
    for block in blocks:
        imported = {m.group(1) for m in re.finditer(r"^(?:from|import) (outboundql(?:\.\w+)*)(?=\s)", block, re.M)}
        assert imported <= {"outboundql.goals", "outboundql.goals.testing"}, imported


def test_packaging_and_test_listings_are_the_example_files() -> None:
    assert code_blocks(section("## Packaging: the entry point"), "toml")[0] == (EXAMPLE / "pyproject.toml").read_text()
    assert code_blocks(section("## Testing it"), "python")[0] == (EXAMPLE / "tests" / "test_podcast.py").read_text()


# --- every validation message in the docs is the one the host produces ------------------------------------

BASE = Goal(key="podcast", label="Podcast guest", description="D", message_intent="M",
            rubric=(Criterion("topic_fit", 1.0, "keywords"),))

BROKEN: dict[str, object] = {
    "not a goal": {"key": "podcast"},
    "key": replace(BASE, key="Podcast"),
    "label": replace(BASE, label=" "),
    "outcome label length": replace(BASE, outcome_label="x" * 61),
    "role kind": replace(BASE, target_role_kind="host"),
    "callable": replace(BASE, tweak_icp=None),  # type: ignore[arg-type]
    "guardrails mapping": replace(BASE, guardrails=[("press", Block.TARGET)]),  # type: ignore[arg-type]
    "unknown status": replace(BASE, guardrails={"vip": Guardrail(Block.TARGET)}),
    "not a guardrail": replace(BASE, guardrails={"press": Block.TARGET}),  # type: ignore[dict-item]
    "always hard": replace(BASE, guardrails={"do_not_contact": Guardrail(Block.ALLOWED)}),
    "soft without flag": replace(BASE, guardrails={"partner": Guardrail(Block.SOFT)}),
    "wrong flag": replace(BASE, guardrails={"press": Guardrail(Block.SOFT, "include_media")}),
    "flag on non-soft": replace(BASE, guardrails={"press": Guardrail(Block.TARGET, "include_press")}),
    "rubric not a tuple": replace(BASE, rubric=Criterion("topic_fit", 1.0, "keywords")),  # type: ignore[arg-type]
    "rubric a string": replace(BASE, rubric="topic_fit"),  # type: ignore[arg-type]
    "empty rubric": replace(BASE, rubric=()),
    "not a criterion": replace(BASE, rubric=(("topic_fit", 1.0, "keywords"),)),  # type: ignore[arg-type]
    "criterion key": replace(BASE, rubric=(Criterion("topic_fit", 0.5, "keywords"),
                                           Criterion("topic_fit", 0.5, "country"))),
    "measure": replace(BASE, rubric=(Criterion("topic_fit", 1.0, "vibes"),)),
    "description type": replace(BASE, rubric=(Criterion("topic_fit", 1.0, "keywords", None),)),  # type: ignore[arg-type]
    "translations mapping": replace(BASE, rubric=(
        Criterion("topic_fit", 1.0, "keywords", "Covers.", translations="es"),)),  # type: ignore[arg-type]
    "translations need a description": replace(BASE, rubric=(
        Criterion("topic_fit", 1.0, "keywords", translations={"es": "Cubre."}),)),
    "translation tag": replace(BASE, rubric=(
        Criterion("topic_fit", 1.0, "keywords", "Covers.", translations={"Spanish": "Cubre."}),)),
    "translation text": replace(BASE, rubric=(
        Criterion("topic_fit", 1.0, "keywords", "Covers.", translations={"es": "Cubre\nlos temas."}),)),
    "translation twice": replace(BASE, rubric=(
        Criterion("topic_fit", 1.0, "keywords", "Covers.", translations={"es": "Cubre.", "ES": "Trata."}),)),
    "weight": replace(BASE, rubric=(Criterion("topic_fit", 0, "keywords"), Criterion("b", 1.0, "country"))),
    "weights sum": replace(BASE, rubric=(Criterion("topic_fit", 0.5, "keywords"), Criterion("b", 0.4, "country"))),
    "signal kinds not a tuple": replace(BASE, signal_kinds=SignalKind("budget", "Budget")),  # type: ignore[arg-type]
    "not a signal kind": replace(BASE, signal_kinds=("budget",)),  # type: ignore[arg-type]
    "signal kind key": replace(BASE, signal_kinds=(SignalKind("Budget", "Budget"),)),
    "signal kind twice": replace(BASE, signal_kinds=(SignalKind("budget", "Budget"), SignalKind("budget", "B"))),
    "signal kind label": replace(BASE, signal_kinds=(SignalKind("budget", ""),)),
    "too many signal kinds": replace(BASE, signal_kinds=tuple(SignalKind(f"k{i}", "K") for i in range(21))),
}


def documented(message: str) -> str:
    """The message without the "plugin '…', goal '…': " prefix the docs describe once."""
    return re.sub(r"^plugin 'podcast', goal '[^']*': ", "", message)


@pytest.mark.parametrize("case", list(BROKEN))
def test_every_validation_message_is_documented(case: str) -> None:
    with pytest.raises(GoalRegistrationError) as error:
        validate_goal(BROKEN[case], plugin="podcast")
    assert f"`{documented(str(error.value))}`" in section("#### Validation rules and their messages")


def test_duplicate_key_message_is_documented() -> None:
    registry = GoalRegistry()
    registry.register(replace(BASE, key="press"))
    with pytest.raises(GoalRegistrationError) as error:
        registry.register(replace(BASE, key="press"), plugin="podcast")
    assert f"`{error.value}`" in section("#### Validation rules and their messages")


# --- the channel chapter ------------------------------------------------------------------------------------

CHANNEL_EXAMPLE = ROOT / "examples" / "outboundql-channel-smsgate"


def test_the_complete_channel_is_the_example_distributions_module() -> None:
    source = code_blocks(section("### A complete channel"), "python")[0]
    assert source == (CHANNEL_EXAMPLE / "src" / "outboundql_channel_smsgate" / "__init__.py").read_text()


def test_the_complete_channel_registers_beside_the_builtins() -> None:
    from outboundql.channels.testing import check_channel
    from outboundql.channels.testing import registry_with as channels_with

    module = types.ModuleType("docs_smsgate_plugin")
    exec(compile(code_blocks(section("### A complete channel"), "python")[0], "docs/plugins.md", "exec"),
         module.__dict__)
    registry = channels_with(module)
    assert registry.source("smsgate") == "docs_smsgate_plugin" and "email" in registry
    assert check_channel(module.SMSGATE).serves == frozenset({"sms", "whatsapp"})


def test_the_testing_excerpt_is_in_the_examples_tests() -> None:
    excerpt = code_blocks(section("### Testing a channel"), "python")[0]
    assert excerpt in (CHANNEL_EXAMPLE / "tests" / "test_smsgate.py").read_text()


def test_the_channel_interface_is_documented_field_by_field() -> None:
    from outboundql import channels
    from outboundql.channels import testing

    chapter = section("## Channel plugins")
    for cls in (channels.Setting, channels.Delivery, channels.Configured):
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in chapter, f"{cls.__name__}.{f.name}"
    for result in (channels.Delivered, channels.AwaitingResult, channels.Deferred, channels.DeliveryFailed):
        assert f"| `{result.__name__}(" in section("### The four results"), result.__name__
    for name in testing.__all__:
        assert f"`{name}(" in section("### Testing a channel"), name
