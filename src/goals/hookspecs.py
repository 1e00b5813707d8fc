"""Hook specifications for outboundql plugins.

Implement a hook by decorating a function of the same name with ``outboundql.goals.hookimpl``
and listing your module under the ``outboundql.goals`` entry-point group. Hooks are always
called with keyword arguments, and an implementation may accept fewer arguments than its spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from outboundql.channels.registry import RegisterChannel
    from outboundql.classifiers.registry import RegisterClassifier
    from outboundql.goals.api import RegisterGoal
    from outboundql.scoring.registry import RegisterScorer

PROJECT_NAME = "outboundql"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def outboundql_register_goals(register: RegisterGoal) -> None:
    """Register the outreach goals this plugin provides.

    Call ``register(goal)`` once per :class:`outboundql.goals.Goal`. Registration fails with
    :class:`outboundql.goals.GoalRegistrationError`, naming the plugin, when the key is taken
    or malformed, a field is missing or of the wrong type, the rubric is empty or its weights
    do not sum to 1, or a guardrail admits ``do_not_contact``, ``competitor`` or
    ``personal_network``. Return nothing: the registered goals are the result.

    :param register: validates one goal and adds it to the registry.

    .. versionadded:: 0.1
    """


@hookspec
def outboundql_register_channels(register: RegisterChannel) -> None:
    """Register the channels this plugin provides (how outreach attempts leave the building).

    Call ``register(channel)`` once per channel: an object with ``key``, ``label``, ``serves`` (values of
    :class:`outboundql.enums.Channel`), ``settings`` (a tuple of :class:`outboundql.channels.Setting`) and an
    ``async def deliver(delivery, config)`` (see :class:`outboundql.channels.OutreachChannel`). Registration fails
    with :class:`outboundql.channels.registry.ChannelRegistrationError`, naming the plugin, when the key is taken
    or malformed, ``serves`` is empty or names an unknown message channel, a setting is malformed (key not
    camelCase or repeated, unknown type, a ``choice`` without choices), or ``deliver`` is not an async function.
    Return nothing: the registered channels are the result.

    :param register: validates one channel and adds it to the registry.

    .. versionadded:: 0.2
    """


@hookspec
def outboundql_register_classifiers(register: RegisterClassifier) -> None:
    """Register the reply classifiers this plugin provides (what a reply says: interested, out of office, ...).

    Call ``register(classifier)`` once per classifier: an object with ``key``, ``label`` and an
    ``async def classify(replies)`` answering one :class:`outboundql.classifiers.Classification` per
    :class:`outboundql.classifiers.Reply`, in the same order (see :class:`outboundql.classifiers.ReplyClassifier`).
    Registration fails with :class:`outboundql.classifiers.registry.ClassifierRegistrationError`, naming the
    plugin, when the key is taken or malformed, the label is missing, or ``classify`` is not an async function.
    Return nothing: the registered classifiers are the result.

    :param register: validates one classifier and adds it to the registry.

    .. versionadded:: 0.3
    """


@hookspec
def outboundql_register_scorers(register: RegisterScorer) -> None:
    """Register the fit scorers this plugin provides (how an account gets its 0–10 score for a goal).

    Call ``register(scorer)`` once per scorer: an object with ``key``, ``label``, ``description``, ``batch_size``
    and an ``async def score(context, items)`` answering an :class:`outboundql.scoring.scorers.BatchOutcome` (see
    :class:`outboundql.scoring.scorers.Scorer`), and optionally ``configure(settings)`` returning the scorer to run
    with (raising :class:`outboundql.scoring.scorers.ScorerUnavailable` when a setting is missing). Registration
    fails with :class:`outboundql.scoring.registry.ScorerRegistrationError`, naming the plugin, when the key is
    taken, malformed or ``external``, the label or description is missing, ``batch_size`` is not an int from 1 to
    5000, or ``score`` is not an async function. Return nothing: the registered scorers are the result.

    :param register: validates one scorer and adds it to the registry.

    .. versionadded:: 0.4
    """
