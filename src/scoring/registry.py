"""The registry of scorer plugins: validation at registration, lookup by key, and `get_scorer`.

Scorers are registered through the ``outboundql_register_scorers`` hook by the same plugin manager as goals,
channels and classifiers (built-ins first, then the ``outboundql.goals`` entry-point group, then extras); the
built-in ``rubric`` and ``llm`` scorers use the same hook. `default_scorers()` is the process-wide registry (built
on first use, never at import); `registry_with(...)` builds one with extra plugins (tests, the plugin author's kit).
`get_scorer` returns the scorer of a key, configured for the settings (``configure(settings)`` when the plugin has
one: the ``llm`` scorer needs ``OUTBOUNDQL_LLM_*``).
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import pluggy

from outboundql.goals.api import GoalRegistrationError
from outboundql.goals.manager import make_plugin_manager, plugin_sources
from outboundql.scoring.rubric import Justification, band
from outboundql.scoring.scorers import (
    BatchOutcome,
    Scored,
    ScoreFailed,
    Scorer,
    ScorerUnavailable,
    ScoringItem,
    UnknownScorer,
    Usage,
)
from outboundql.settings import Settings

RegisterScorer = Callable[[Scorer], None]
"""What ``outboundql_register_scorers`` receives: call it once per scorer."""

LOG = logging.getLogger("outboundql.scoring")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")  # \Z: "$" would accept a trailing newline; 32: the stored column
#: The scorer runs fall back to when the configured default (``OUTBOUNDQL_SCORER``) is not installed.
FALLBACK_SCORER = "rubric"
MAX_BATCH_SIZE = 5000


class ScorerRegistrationError(GoalRegistrationError):
    """A scorer plugin supplied something the host refuses; the message names the plugin and the fix. (A kind of
    `GoalRegistrationError`, so whatever refuses to start on a bad plugin refuses on a bad scorer too.)"""


@dataclass(frozen=True, slots=True)
class RegisteredScorer:
    """A validated scorer and where it came from."""

    scorer: Scorer
    source: str  # "built-in" or "<distribution> <version>" or the plugin name

    @property
    def key(self) -> str:
        return self.scorer.key

    def unavailable_reason(self, settings: Settings) -> str | None:
        """Why this scorer cannot run with ``settings`` (what to set), or None when it can."""
        try:
            configured(self.scorer, settings)
        except ScorerUnavailable as exc:
            return str(exc)
        return None


class ScorerRegistry:
    """Scorers by key. Iteration (`all`) is sorted by key, so plugin load order never matters."""

    def __init__(self) -> None:
        self._scorers: dict[str, RegisteredScorer] = {}

    def register(self, scorer: object, *, source: str = "built-in", plugin: str = "?") -> None:
        """Validate ``scorer`` and add it; raise `ScorerRegistrationError` naming ``plugin``."""
        checked = validate_scorer(scorer, plugin=plugin)
        if checked.key in self._scorers:
            other = self._scorers[checked.key].source
            raise ScorerRegistrationError(
                f"plugin {plugin!r}: scorer key {checked.key!r} is already registered by {other}; "
                "pick another key (keys are stable identifiers stored with every fit score)")
        self._scorers[checked.key] = RegisteredScorer(scorer=checked, source=source)

    def get(self, key: str) -> Scorer | None:
        entry = self._scorers.get(key)
        return entry.scorer if entry else None

    def source(self, key: str) -> str:
        return self._scorers[key].source

    def keys(self) -> list[str]:
        return sorted(self._scorers)

    def all(self) -> list[RegisteredScorer]:
        return [self._scorers[k] for k in sorted(self._scorers)]

    def default_key(self, settings: Settings) -> str:
        """``OUTBOUNDQL_SCORER`` when installed; else `FALLBACK_SCORER`, with a warning naming both."""
        if settings.scorer in self._scorers:
            return settings.scorer
        LOG.warning("OUTBOUNDQL_SCORER=%s names no installed scorer (installed: %s); runs without a scorer use %r",
                    settings.scorer, ", ".join(self.keys()), FALLBACK_SCORER)
        return FALLBACK_SCORER

    def __contains__(self, key: object) -> bool:
        return key in self._scorers

    def __iter__(self) -> Iterator[Scorer]:
        return (self._scorers[k].scorer for k in sorted(self._scorers))

    def __len__(self) -> int:
        return len(self._scorers)


def validate_scorer(scorer: object, *, plugin: str = "?") -> Scorer:
    """``scorer`` if it fulfils the `Scorer` contract, else `ScorerRegistrationError` saying what to fix."""
    key = getattr(scorer, "key", None)

    def error(message: str) -> ScorerRegistrationError:
        return ScorerRegistrationError(f"plugin {plugin!r}, scorer {key!r}: {message}")

    if not isinstance(key, str) or not _KEY.match(key):
        raise error("the key must be lowercase snake_case (a letter, then letters, digits or _; at most 32), "
                    "e.g. 'rubric' or 'clearbit_fit'")
    if key == "external":
        raise error("'external' is reserved for scores attached from outside (attachExternalScores); pick another key")
    for name in ("label", "description"):
        value = getattr(scorer, name, None)
        if not isinstance(value, str) or not value.strip():
            raise error(f"{name} must be a non-empty string (what a frontend shows)")
    batch_size = getattr(scorer, "batch_size", None)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise error(f"batch_size must be an int between 1 and {MAX_BATCH_SIZE} (accounts per job message), "
                    f"not {batch_size!r}")
    if not inspect.iscoroutinefunction(getattr(scorer, "score", None)):
        raise error("score must be an async function: async def score(self, context, items) -> BatchOutcome")
    configure = getattr(scorer, "configure", None)
    if configure is not None and not callable(configure):
        raise error("configure, when present, must be a method: def configure(self, settings) -> Scorer")
    return typing.cast(Scorer, scorer)


def configured(scorer: Scorer, settings: Settings) -> Scorer:
    """``scorer`` set up for ``settings``: what its ``configure(settings)`` returns when it has one (which raises
    `ScorerUnavailable` saying what to set), else ``scorer`` itself."""
    configure = getattr(scorer, "configure", None)
    if configure is None:
        return scorer
    ready = configure(settings)
    return validate_scorer(ready, plugin=f"{scorer.key}.configure")


def get_scorer(key: str, settings: Settings, registry: ScorerRegistry | None = None) -> Scorer:
    """The scorer called ``key``, configured for ``settings``; `UnknownScorer` (naming the installed keys) when no
    plugin registers it, `ScorerUnavailable` when it is not configured."""
    registry = default_scorers() if registry is None else registry
    scorer = registry.get(key)
    if scorer is None:
        raise UnknownScorer(f"Unknown scorer {key!r}; installed scorers: {', '.join(registry.keys())}.")
    return configured(scorer, settings)


def collect_scorers(pm: pluggy.PluginManager) -> ScorerRegistry:
    """Ask every plugin for its scorers; each registration is attributed to its plugin."""
    registry = ScorerRegistry()
    sources = plugin_sources(pm)
    hooktrace = pm.trace.root.get("hook")
    for impl in pm.hook.outboundql_register_scorers.get_hookimpls():  # registration order
        hooktrace("outboundql_register_scorers", "plugin:", impl.plugin_name)
        register = partial(registry.register, source=sources.get(impl.plugin_name, impl.plugin_name),
                           plugin=impl.plugin_name)
        result = impl.function(**{name: arg for name, arg in {"register": register}.items() if name in impl.argnames})
        if result is not None:
            raise ScorerRegistrationError(
                f"plugin {impl.plugin_name!r}: outboundql_register_scorers must call register(scorer) and return "
                f"None, not {type(result).__name__}")
    return registry


def registry_with(*plugins: object) -> ScorerRegistry:
    """The built-in scorers plus ``plugins`` (modules or objects with hook implementations); no installed ones."""
    return collect_scorers(make_plugin_manager(entry_points=False, extra=plugins))


@functools.cache
def default_scorers() -> ScorerRegistry:
    """The process-wide registry (built-in and installed scorers, minus disabled plugins), built on first use."""
    from outboundql.settings import get_settings

    settings = get_settings()
    return collect_scorers(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))


def checked_outcome(scorer: Scorer, items: Sequence[ScoringItem], outcome: object) -> BatchOutcome:
    """``outcome`` of ``scorer`` for ``items``, made safe to store: anything but a `BatchOutcome` fails the whole
    batch (every account, with the reason); an answer for an account not in the batch, or a second one, is
    dropped; a score that is not a number from 0 to 10 or justifications that are not `Justification`\\ s fail
    that account; an account without an answer fails with "no answer". Scores are rounded to one decimal and
    banded by the host. Every problem is logged naming the scorer."""
    key = getattr(scorer, "key", "?")
    wanted = {item.account_id for item in items}
    if not isinstance(outcome, BatchOutcome):
        LOG.error("scorer %r answered %r, not a BatchOutcome; the batch's accounts are marked failed", key, outcome)
        return BatchOutcome(failed=[ScoreFailed(a, f"The scorer {key!r} answered no BatchOutcome.") for a in wanted])
    checked = BatchOutcome(usage=[u for u in outcome.usage if isinstance(u, Usage)])
    answered: set[int] = set()
    for answer in [*outcome.scored, *outcome.failed]:
        account_id = getattr(answer, "account_id", None)
        if account_id not in wanted or account_id in answered:
            LOG.error("scorer %r answered %r for an account not in its batch or twice; dropped", key, answer)
            continue
        assert isinstance(account_id, int)
        answered.add(account_id)
        if isinstance(answer, ScoreFailed):
            checked.failed.append(answer)
        elif (isinstance(answer, Scored) and isinstance(answer.score, (int, float))
              and not isinstance(answer.score, bool) and math.isfinite(answer.score) and 0 <= answer.score <= 10
              and all(isinstance(j, Justification) for j in answer.justifications)):
            value = round(float(answer.score), 1)
            checked.scored.append(Scored(account_id, value, band(value), tuple(answer.justifications),
                                         model=answer.model if isinstance(answer.model, str) else None))
        else:
            LOG.error("scorer %r answered %r; the account is marked failed", key, answer)
            checked.failed.append(ScoreFailed(account_id, f"The scorer {key!r} answered no score from 0 to 10 "
                                                          "with Justification reasons."))
    for account_id in sorted(wanted - answered):
        checked.failed.append(ScoreFailed(account_id, f"The scorer {key!r} gave no answer for this account."))
    return checked
