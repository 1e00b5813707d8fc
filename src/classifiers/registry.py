"""The registry of reply classifier plugins: validation at registration, lookup by key, and `classify_with`.

Classifiers are registered through the ``outboundql_register_classifiers`` hook by the same plugin manager as
goals and channels (built-ins first, then the ``outboundql.goals`` entry-point group, then extras).
`default_classifiers()` is the process-wide registry (built on first use, never at import); `registry_with(...)`
builds one with extra plugins (tests, the plugin author's kit). `classify_with` calls a classifier and never
raises: a classifier that fails, or answers the wrong number of results, yields ``OTHER`` with confidence 0 for
every reply, and the failure is logged.
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

from outboundql.classifiers import Classification, Reply, ReplyClass, ReplyClassifier
from outboundql.goals.api import GoalRegistrationError
from outboundql.goals.manager import make_plugin_manager, plugin_sources

RegisterClassifier = Callable[[ReplyClassifier], None]
"""What ``outboundql_register_classifiers`` receives: call it once per classifier."""

LOG = logging.getLogger("outboundql.classifiers")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" would accept a trailing newline


class ClassifierRegistrationError(GoalRegistrationError):
    """A classifier plugin supplied something the host refuses; the message names the plugin and the fix. (A kind
    of `GoalRegistrationError`, so whatever refuses to start on a bad plugin refuses on a bad classifier too.)"""


@dataclass(frozen=True, slots=True)
class RegisteredClassifier:
    """A validated classifier and where it came from."""

    classifier: ReplyClassifier
    source: str  # "built-in" or "<distribution> <version>" or the plugin name

    @property
    def key(self) -> str:
        return self.classifier.key


class ClassifierRegistry:
    """Classifiers by key. Iteration (`all`) is sorted by key, so plugin load order never matters."""

    def __init__(self) -> None:
        self._classifiers: dict[str, RegisteredClassifier] = {}

    def register(self, classifier: object, *, source: str = "built-in", plugin: str = "?") -> None:
        """Validate ``classifier`` and add it; raise `ClassifierRegistrationError` naming ``plugin``."""
        checked = validate_classifier(classifier, plugin=plugin)
        if checked.key in self._classifiers:
            other = self._classifiers[checked.key].source
            raise ClassifierRegistrationError(
                f"plugin {plugin!r}: classifier key {checked.key!r} is already registered by {other}; "
                "pick another key (keys are stable identifiers stored with classifications)")
        self._classifiers[checked.key] = RegisteredClassifier(classifier=checked, source=source)

    def get(self, key: str) -> ReplyClassifier | None:
        entry = self._classifiers.get(key)
        return entry.classifier if entry else None

    def source(self, key: str) -> str:
        return self._classifiers[key].source

    def all(self) -> list[RegisteredClassifier]:
        return [self._classifiers[k] for k in sorted(self._classifiers)]

    def __contains__(self, key: object) -> bool:
        return key in self._classifiers

    def __iter__(self) -> Iterator[ReplyClassifier]:
        return (self._classifiers[k].classifier for k in sorted(self._classifiers))

    def __len__(self) -> int:
        return len(self._classifiers)


def validate_classifier(classifier: object, *, plugin: str = "?") -> ReplyClassifier:
    """``classifier`` if it fulfils the `ReplyClassifier` contract, else `ClassifierRegistrationError` saying what
    to fix."""
    key = getattr(classifier, "key", None)

    def error(message: str) -> ClassifierRegistrationError:
        return ClassifierRegistrationError(f"plugin {plugin!r}, classifier {key!r}: {message}")

    if not isinstance(key, str) or not _KEY.match(key):
        raise error("the key must be lowercase snake_case (a letter, then letters, digits or _; at most 64), "
                    "e.g. 'rules' or 'openai_replies'")
    label = getattr(classifier, "label", None)
    if not isinstance(label, str) or not label.strip():
        raise error("label must be a non-empty string (what a frontend shows)")
    classify = getattr(classifier, "classify", None)
    if not inspect.iscoroutinefunction(classify):
        raise error("classify must be an async function: async def classify(self, replies) -> classifications")
    return typing.cast(ReplyClassifier, classifier)


def _unclassified(count: int) -> list[Classification]:
    return [Classification(ReplyClass.OTHER, 0.0) for _ in range(count)]


async def classify_with(classifier: ReplyClassifier, replies: Sequence[Reply]) -> list[Classification]:
    """``classifier``'s answers for ``replies``, one per reply in the same order; never raises.

    A classifier that raises, answers a different number of results than replies, or answers something that is
    not a `Classification` with a `ReplyClass` label and a confidence between 0 and 1, is logged and every reply
    gets ``OTHER`` with confidence 0.
    """
    replies = list(replies)
    if not replies:
        return []
    key = getattr(classifier, "key", "?")
    try:
        answers = list(await classifier.classify(replies))
    except Exception:
        LOG.exception("classifier %r failed on %d replies; they are left unclassified (other)", key, len(replies))
        return _unclassified(len(replies))
    if len(answers) != len(replies):
        LOG.error("classifier %r answered %d results for %d replies; they are left unclassified (other)",
                  key, len(answers), len(replies))
        return _unclassified(len(replies))
    for answer in answers:
        if not _well_formed(answer):
            LOG.error("classifier %r answered %r, not a Classification with a ReplyClass label and a confidence "
                      "between 0 and 1; the replies are left unclassified (other)", key, answer)
            return _unclassified(len(replies))
    return answers


def _well_formed(answer: object) -> bool:
    if not isinstance(answer, Classification) or not isinstance(answer.label, ReplyClass):
        return False
    confidence = answer.confidence
    return (isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
            and math.isfinite(confidence) and 0.0 <= confidence <= 1.0)


def collect_classifiers(pm: pluggy.PluginManager) -> ClassifierRegistry:
    """Ask every plugin for its classifiers; each registration is attributed to its plugin."""
    registry = ClassifierRegistry()
    sources = plugin_sources(pm)
    hooktrace = pm.trace.root.get("hook")
    for impl in pm.hook.outboundql_register_classifiers.get_hookimpls():  # registration order
        hooktrace("outboundql_register_classifiers", "plugin:", impl.plugin_name)
        register = partial(registry.register, source=sources.get(impl.plugin_name, impl.plugin_name),
                           plugin=impl.plugin_name)
        result = impl.function(**{name: arg for name, arg in {"register": register}.items() if name in impl.argnames})
        if result is not None:
            raise ClassifierRegistrationError(
                f"plugin {impl.plugin_name!r}: outboundql_register_classifiers must call register(classifier) and "
                f"return None, not {type(result).__name__}")
    return registry


def registry_with(*plugins: object) -> ClassifierRegistry:
    """The built-in classifiers plus ``plugins`` (modules or objects with hook implementations); no installed
    ones."""
    return collect_classifiers(make_plugin_manager(entry_points=False, extra=plugins))


@functools.cache
def default_classifiers() -> ClassifierRegistry:
    """The process-wide registry (built-in and installed classifiers, minus disabled plugins), built on first
    use."""
    from outboundql.settings import get_settings

    settings = get_settings()
    return collect_classifiers(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))
