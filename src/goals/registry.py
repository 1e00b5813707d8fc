"""The registry of goals: validation at registration, lookup by key."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from outboundql.goals.api import (
    _KEY,
    ACCOUNT_STATUSES,
    ALWAYS_HARD,
    MAX_OUTCOME_LABEL,
    MAX_SIGNAL_KINDS,
    MEASURES,
    OTHER_SIGNAL_KIND,
    OVERRIDE_FLAGS,
    ROLE_KINDS,
    Block,
    Criterion,
    Goal,
    GoalRegistrationError,
    Guardrail,
    SignalKind,
)
from outboundql.i18n import catalog_names

_PIPELINE_AND_PARTNER = frozenset({"new", "initiated", "engaged", "qualified", "lost", "churned", "partner"})
#: A BCP 47 tag as plugins write one: language[-Script][-REGION] (``es``, ``pt-BR``, ``zh-Hant``, ``es-419``).
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}))*\Z")


@dataclass(frozen=True, slots=True)
class RegisteredGoal:
    """A validated goal with its complete guardrail table and where it came from."""

    goal: Goal
    source: str  # "built-in" or "<distribution> <version>" or the plugin name

    @property
    def key(self) -> str:
        return self.goal.key


class GoalRegistry:
    """Goals by key. Iteration is sorted by key, so plugin load order never matters."""

    def __init__(self) -> None:
        self._goals: dict[str, RegisteredGoal] = {}

    def register(self, goal: object, *, source: str = "built-in", plugin: str = "?") -> None:
        """Validate ``goal`` and add it; raise `GoalRegistrationError` naming ``plugin``."""
        checked = validate_goal(goal, plugin=plugin)
        if checked.key in self._goals:
            other = self._goals[checked.key].source
            raise GoalRegistrationError(
                f"plugin {plugin!r}: goal key {checked.key!r} is already registered by {other}; "
                "pick another key (keys are stable identifiers stored in campaigns)"
            )
        self._goals[checked.key] = RegisteredGoal(goal=checked, source=source)

    def __getitem__(self, key: str) -> Goal:
        return self._goals[key].goal

    def __contains__(self, key: object) -> bool:
        return key in self._goals

    def __iter__(self) -> Iterator[Goal]:
        return (self._goals[k].goal for k in sorted(self._goals))

    def __len__(self) -> int:
        return len(self._goals)

    def get(self, key: str) -> Goal | None:
        entry = self._goals.get(key)
        return entry.goal if entry else None

    def source(self, key: str) -> str:
        return self._goals[key].source

    def keys(self) -> list[str]:
        return sorted(self._goals)


def _error(plugin: str, goal: object, message: str) -> GoalRegistrationError:
    return GoalRegistrationError(f"plugin {plugin!r}, goal {getattr(goal, 'key', '?')!r}: {message}")


def validate_goal(goal: object, *, plugin: str = "?") -> Goal:
    """Check a goal and return it with its guardrail table completed for every account status."""
    if not isinstance(goal, Goal):
        raise GoalRegistrationError(
            f"plugin {plugin!r} registered {type(goal).__name__!r}; register(...) takes an outboundql.goals.Goal"
        )
    if not isinstance(goal.key, str) or not _KEY.match(goal.key):
        raise _error(plugin, goal, "the key must be lowercase snake_case, 1–64 characters, starting with a letter "
                                   "(e.g. 'podcast')")
    for name in ("label", "description", "message_intent", "outcome_label"):
        value = getattr(goal, name)
        if not isinstance(value, str) or not value.strip():
            raise _error(plugin, goal, f"{name} must be a non-empty string")
    if len(goal.outcome_label) > MAX_OUTCOME_LABEL or not goal.outcome_label.isprintable():
        raise _error(plugin, goal, f"outcome_label must be one line of at most {MAX_OUTCOME_LABEL} characters, "
                                   "e.g. 'meeting booked'")
    if goal.target_role_kind is not None and goal.target_role_kind not in ROLE_KINDS:
        raise _error(plugin, goal, f"target_role_kind {goal.target_role_kind!r} is not one of {', '.join(ROLE_KINDS)}")
    if not callable(goal.tweak_icp) or not callable(goal.is_target):
        raise _error(plugin, goal, "tweak_icp and is_target must be callables")
    return replace(goal, guardrails=_complete_guardrails(goal, plugin), rubric=_check_rubric(goal, plugin),
                   signal_kinds=_check_signal_kinds(goal, plugin))


def _complete_guardrails(goal: Goal, plugin: str) -> dict[str, Guardrail]:
    if not isinstance(goal.guardrails, Mapping):
        raise _error(plugin, goal, "guardrails must be a mapping of account status to Guardrail")
    table: dict[str, Guardrail] = {}
    for status, rule in goal.guardrails.items():
        table[status] = _check_guardrail(goal, plugin, status, rule)
    for status in ACCOUNT_STATUSES:
        if status in table:
            continue
        if status in ALWAYS_HARD:
            table[status] = Guardrail(Block.HARD)
        elif status in _PIPELINE_AND_PARTNER:
            table[status] = Guardrail(Block.ALLOWED)
        else:
            table[status] = Guardrail(Block.SOFT, OVERRIDE_FLAGS[status])
    return {s: table[s] for s in ACCOUNT_STATUSES}


def _check_guardrail(goal: Goal, plugin: str, status: object, rule: object) -> Guardrail:
    if status not in ACCOUNT_STATUSES:
        raise _error(plugin, goal, f"guardrail for unknown account status {status!r}; "
                                   f"statuses are {', '.join(ACCOUNT_STATUSES)}")
    if not isinstance(rule, Guardrail) or not isinstance(rule.block, Block):
        raise _error(plugin, goal, f"the guardrail for {status!r} must be a Guardrail(Block.…)")
    if status in ALWAYS_HARD and rule.block is not Block.HARD:
        raise _error(plugin, goal, f"cannot admit {status!r} accounts: do_not_contact, competitor and "
                                   "personal_network are always hard-blocked in every goal")
    if rule.block is Block.SOFT:
        flag = OVERRIDE_FLAGS.get(str(status))
        if flag is None:
            raise _error(plugin, goal, f"{status!r} cannot be soft-blocked: only {', '.join(OVERRIDE_FLAGS)} have "
                                       "an override flag; use Block.HARD or Block.ALLOWED")
        if rule.override_flag not in (None, flag):
            raise _error(plugin, goal, f"the override flag for {status!r} is {flag!r}, not {rule.override_flag!r}")
        return Guardrail(Block.SOFT, flag)
    if rule.override_flag is not None:
        raise _error(plugin, goal, f"only SOFT guardrails take an override flag ({status!r} is {rule.block.name})")
    return rule


def _check_rubric(goal: Goal, plugin: str) -> tuple[Criterion, ...]:
    if isinstance(goal.rubric, Criterion):
        raise _error(plugin, goal, "rubric must be a tuple of Criterion: write rubric=(Criterion(...),) with a "
                                   "trailing comma for a single criterion")
    if isinstance(goal.rubric, (str, bytes, Mapping)) or not isinstance(goal.rubric, Iterable):
        raise _error(plugin, goal, f"rubric must be a tuple of Criterion, got {type(goal.rubric).__name__}")
    rubric = tuple(goal.rubric)
    if not rubric:
        raise _error(plugin, goal, "the rubric needs at least one Criterion")
    seen: set[str] = set()
    checked: list[Criterion] = []
    for c in rubric:
        if not isinstance(c, Criterion):
            raise _error(plugin, goal, f"rubric items must be Criterion, got {type(c).__name__}")
        if not isinstance(c.key, str) or not _KEY.match(c.key) or c.key in seen:
            raise _error(plugin, goal, f"criterion key {c.key!r} must be unique lowercase snake_case")
        seen.add(c.key)
        if c.measure not in MEASURES:
            raise _error(plugin, goal, f"criterion {c.key!r} measures {c.measure!r}; known measures: "
                                       f"{', '.join(MEASURES)}")
        if isinstance(c.weight, bool) or not isinstance(c.weight, (int, float)) or not 0 < c.weight <= 1:
            raise _error(plugin, goal, f"criterion {c.key!r} weight must be in (0, 1], got {c.weight!r}")
        checked.append(replace(c, translations=_check_translations(goal, plugin, c)))
    total = sum(c.weight for c in rubric)
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise _error(plugin, goal, f"rubric weights must sum to 1.0, got {total:g}")
    return tuple(checked)


def _check_translations(goal: Goal, plugin: str, c: Criterion) -> dict[str, str]:
    """A criterion's translated descriptions, trimmed, one per language (``"es"`` and ``"ES"`` are one)."""
    if not isinstance(c.description, str):
        raise _error(plugin, goal, f"criterion {c.key!r} description must be a string")
    if isinstance(c.translations, (str, bytes)) or not isinstance(c.translations, Mapping):
        raise _error(plugin, goal, f"criterion {c.key!r} translations must be a mapping of language tag to "
                                   "description, e.g. {'es': 'Cubre los temas del sector.'}")
    if c.translations and not c.description.strip():
        raise _error(plugin, goal, f"criterion {c.key!r} has translations but no description; give the English "
                                   "description too (it is used for every other language)")
    out: dict[str, str] = {}
    seen: set[str] = set()
    for tag, text in c.translations.items():
        if not isinstance(tag, str) or not _LANGUAGE_TAG.match(tag.strip()):
            raise _error(plugin, goal, f"criterion {c.key!r} translations: {tag!r} is not a language tag; use a "
                                       "BCP 47 tag such as 'es', 'fr' or 'pt-BR'")
        if not isinstance(text, str) or not text.strip() or not text.strip().isprintable():
            raise _error(plugin, goal, f"criterion {c.key!r} translation for {tag!r} must be one non-empty line "
                                       "of text")
        name = catalog_names(tag)[0]  # how the host looks a language up: "pt-br" and "pt_BR" are one
        if name in seen:
            raise _error(plugin, goal, f"criterion {c.key!r} translates {tag!r} twice")
        seen.add(name)
        out[tag.strip()] = text.strip()
    return out


def _check_signal_kinds(goal: Goal, plugin: str) -> tuple[SignalKind, ...]:
    """The goal's signal kinds, checked, with ``other`` last (added when the plugin left it out)."""
    kinds = goal.signal_kinds
    if isinstance(kinds, (SignalKind, str, bytes, Mapping)) or not isinstance(kinds, Iterable):
        raise _error(plugin, goal, "signal_kinds must be a tuple of SignalKind: write signal_kinds=(SignalKind(...),)")
    kinds = tuple(kinds)
    seen: set[str] = set()
    for kind in kinds:
        if not isinstance(kind, SignalKind):
            raise _error(plugin, goal, f"signal_kinds items must be SignalKind, got {type(kind).__name__}")
        if not isinstance(kind.key, str) or not _KEY.match(kind.key):
            raise _error(plugin, goal, f"signal kind key {kind.key!r} must be lowercase snake_case, e.g. 'budget'")
        if kind.key in seen:
            raise _error(plugin, goal, f"signal kind {kind.key!r} is declared twice")
        if not isinstance(kind.label, str) or not kind.label.strip() or not isinstance(kind.description, str):
            raise _error(plugin, goal, f"signal kind {kind.key!r} needs a label (and a description string)")
        seen.add(kind.key)
    own = tuple(k for k in kinds if k.key != OTHER_SIGNAL_KIND.key)
    if len(own) > MAX_SIGNAL_KINDS:
        raise _error(plugin, goal, f"at most {MAX_SIGNAL_KINDS} signal kinds, got {len(own)}")
    other = next((k for k in kinds if k.key == OTHER_SIGNAL_KIND.key), OTHER_SIGNAL_KIND)
    return (*own, other)
