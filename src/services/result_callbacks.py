"""Results a provider reports through an attempt's signed result link (``POST /channels/results/<token>``): the
``webhook`` channel's callback, the other way than ``recordAttemptResult`` with an API token.

The token names the attempt (`outboundql.channels.links`); the request must carry a valid Standard Webhooks
signature made with the ``signingSecret`` of the project's channel configured for the attempt's message channel,
with a timestamp within the tolerance of now. The body is ``{outcome, goalAchieved, notes, signals}`` (the
outcome's name in any case; signals as ``{kind, text}`` objects, or plain strings filed as ``other``; other keys
are ignored, so a provider may add its own). The result is then recorded
exactly as ``recordAttemptResult`` records it (`attempts.record_attempt_result`: the message logged once, the retry
policy applied, events and audit) by nobody in particular: the engine, on the project's behalf.

A refusal is a `CallbackRefused` carrying the HTTP status to answer: 404 (no such link), 401 (not signed with
the secret, or signed too long ago), 400 (the body, saying what is wrong), 409 (the attempt does not await a
result, or took another one), 413 (the body is too large).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from outboundql import models
from outboundql.channels import links
from outboundql.enums import AttemptOutcome, AttemptStatus, Channel
from outboundql.errors import Conflict, InvalidInput, NotFound
from outboundql.services import attempts, channel_configs, runtime
from outboundql.services.access import Access
from outboundql.services.signals import SignalIn
from outboundql.webhooks import signing

#: Largest body accepted (notes and a few signals fit many times over).
MAX_BODY = 64 * 1024
SECRET = "signingSecret"
_FIELDS = {"goal_achieved": "goalAchieved"}


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, and where in the body (a key of it, camelCase), if anywhere."""

    message: str
    field: str | None = None


@dataclass(slots=True)
class CallbackRefused(Exception):
    """The report is refused; ``status`` is the HTTP status to answer."""

    status: int
    message: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


NOT_FOUND = "This result link is not valid."


async def record_signed_result(token: str, headers: Mapping[str, str], body: bytes) -> attempts.AttemptSettled:
    """Check the link, the signature and the body, then record the result (see the module docstring).
    ``headers`` with lower-case names."""
    attempt_id = links.attempt_of(links.RESULT, token)
    attempt = await models.OutreachAttempt.get_or_none(id=attempt_id) if attempt_id is not None else None
    if attempt is None:
        raise CallbackRefused(404, NOT_FOUND)
    if len(body) > MAX_BODY:
        raise CallbackRefused(413, f"The body is larger than {MAX_BODY} bytes.")
    await check_signature(attempt.project_id, attempt.channel, headers, body, "results")
    cmd = parse(body, attempt.id)
    if attempt.status not in (AttemptStatus.AWAITING_RESULT, AttemptStatus.DONE):
        raise CallbackRefused(409, _not_awaiting(attempt))
    try:
        return await attempts.record_attempt_result(Access.engine(attempt.project_id), cmd)
    except InvalidInput as exc:
        issues = exc.issues()
        if any(i.field == "attempt_id" for i in issues):  # settled otherwise, or its message refused
            raise CallbackRefused(409, " ".join(i.message for i in issues)) from None
        raise CallbackRefused(400, exc.message, [Problem(i.message, _camel(i.field)) for i in issues]) from None
    except Conflict as exc:
        raise CallbackRefused(409, exc.message) from None
    except NotFound:  # deleted meanwhile
        raise CallbackRefused(404, NOT_FOUND) from None


async def signing_secret(attempt: models.OutreachAttempt) -> str | None:
    """The signing secret of the project's channel configured for the attempt's message channel, if it has one."""
    return await channel_secret(attempt.project_id, attempt.channel)


async def channel_secret(project_id: int, channel: Channel) -> str | None:
    """The signing secret of the project's channel configured for the message channel ``channel``, if it has one."""
    kind = Channel(channel).value
    _, configured = (await channel_configs.for_delivery(project_id, [kind]))[kind]
    secret = configured.secrets.get(SECRET)
    return secret if secret and signing.valid_secret(secret) else None


async def check_signature(project_id: int, channel: Channel, headers: Mapping[str, str], body: bytes,
                          what: str) -> None:
    """`CallbackRefused` (401) unless the request carries a valid Standard Webhooks signature of ``body`` made with
    the signing secret of the project's ``channel`` channel, within the tolerance of now; ``what`` names what the
    link accepts (results, inbound messages) in the refusal."""
    secret = await channel_secret(project_id, channel)
    if secret is None:
        raise CallbackRefused(401, f"The project's {Channel(channel).value} channel has no signing secret "
                                   f"configured: {what} cannot be checked, so none are accepted through this link.")
    try:
        signing.verify(secret, headers, body, runtime.now())
    except signing.InvalidSignature as exc:
        raise CallbackRefused(401, f"The request is not signed with the channel's signing secret: {exc}.") from None


def parse(body: bytes, attempt_id: int) -> attempts.RecordAttemptResult:
    """The reported result as the recording service takes it; `CallbackRefused` (400) listing what is wrong."""
    try:
        report = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRefused(400, "The body is not JSON: send {\"outcome\": \"NO_ANSWER\", \"goalAchieved\": "
                                   "false, \"notes\": \"…\", \"signals\": [{\"kind\": \"budget\", "
                                   "\"text\": \"…\"}]}.") from None
    if not isinstance(report, dict):
        raise CallbackRefused(400, "The body must be a JSON object: {\"outcome\": …, \"goalAchieved\": …, "
                                   "\"notes\": …, \"signals\": […]}.")
    problems: list[Problem] = []
    outcome = _outcome(report.get("outcome"), problems)
    goal = report.get("goalAchieved")
    if goal is not None and not isinstance(goal, bool):
        problems.append(Problem("goalAchieved is true, false or null.", "goalAchieved"))
    notes = report.get("notes")
    if notes is not None and not isinstance(notes, str):
        problems.append(Problem("notes is a string.", "notes"))
    signals = _signals(report.get("signals"), problems)
    if problems or outcome is None:
        raise CallbackRefused(400, " ".join(p.message for p in problems), problems)
    return attempts.RecordAttemptResult(attempt_id=attempt_id, outcome=outcome,
                                        goal_achieved=cast(bool | None, goal), notes=cast(str | None, notes) or "",
                                        signals=signals)


def _signals(value: Any, problems: list[Problem]) -> tuple[SignalIn, ...]:
    """``[{"kind": "budget", "text": "…"}, …]``; a bare string is a signal of kind ``other`` (providers that only
    know notes)."""
    if value is None:
        return ()
    found: list[SignalIn] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                found.append(SignalIn("other", item))
            elif isinstance(item, dict) and isinstance(item.get("text"), str) and isinstance(item.get("kind"), str):
                found.append(SignalIn(item["kind"], item["text"]))
            else:
                break
        else:
            return tuple(found)
    problems.append(Problem('signals is a list of {"kind": "<a kind of the campaign\'s goal>", "text": "…"} '
                            "(or of strings, filed as kind other).", "signals"))
    return ()


def _outcome(value: Any, problems: list[Problem]) -> AttemptOutcome | None:
    names = ", ".join(o.name for o in AttemptOutcome)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(f"outcome is required: one of {names}.", "outcome"))
        return None
    try:
        return AttemptOutcome(value.strip().lower())
    except ValueError:
        problems.append(Problem(f"outcome {value[:40]!r} is not one of {names}.", "outcome"))
        return None


def _camel(name: str | None) -> str | None:
    if name is None:
        return None
    head, _, rest = name.partition("[")
    return _FIELDS.get(head, head) + (f"[{rest}" if rest else "")


def _not_awaiting(attempt: models.OutreachAttempt) -> str:
    return (f"This attempt is {attempt.status.value.replace('_', ' ')}: a result is recorded once the attempt was "
            "executed (awaiting result), and only once.")
