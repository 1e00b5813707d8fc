"""The result callback of the ``webhook`` channel, ``POST /channels/results/<token>``: a provider reports how an
attempt went, signed with the channel's secret (`services.result_callbacks` checks and records it; this reads the
body, bounded, and answers).

Answers: 200 with the attempt's new state (also for the same result sent again); 400 for a bad body, saying what is
wrong; 401 for a missing, wrong or stale signature; 404 for a link that is not valid; 409 when the attempt does not
await a result; 413 for a body over `result_callbacks.MAX_BODY` bytes. Every answer is JSON::

    {"attempt": {"id": …, "status": "DONE", "outcome": "NO_ANSWER", "goalAchieved": null},
     "campaignAccount": {"id": …, "executionStatus": "RESCHEDULED", "goalOutcome": "OPEN"},
     "nextAttempt": {"id": …, "attemptNumber": 2, "dueAt": "2026-03-02T10:10:00+00:00"}}

    {"error": "…", "problems": [{"field": "outcome", "message": "…"}]}
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.relay import to_base64

from outboundql import models
from outboundql.services import result_callbacks
from outboundql.services.attempts import AttemptSettled
from outboundql.services.result_callbacks import CallbackRefused

ROUTE_NAME = "channel_result"
NO_STORE = {"Cache-Control": "no-store"}


async def report_result(request: Request) -> Response:
    body = await bounded_body(request)
    if body is None:
        return refused_answer(CallbackRefused(413, f"The body is larger than {result_callbacks.MAX_BODY} bytes."))
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        settled = await result_callbacks.record_signed_result(request.path_params["token"], headers, body)
    except CallbackRefused as refused:
        return refused_answer(refused)
    return JSONResponse(answer(settled), headers=NO_STORE)


async def bounded_body(request: Request) -> bytes | None:
    """The body, or None when it is (or announces to be) larger than the limit; nothing past it is read."""
    limit = result_callbacks.MAX_BODY
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)


def refused_answer(refused: CallbackRefused) -> JSONResponse:
    return JSONResponse({"error": refused.message,
                         "problems": [{"field": p.field, "message": p.message} for p in refused.problems]},
                        status_code=refused.status, headers=NO_STORE)


def answer(settled: AttemptSettled) -> dict[str, Any]:
    """The attempt's new state, with the ids the API uses."""
    attempt, row, following = settled.attempt, settled.campaign_account, settled.next_attempt
    return {
        "attempt": {"id": to_base64("OutreachAttempt", attempt.id), "status": attempt.status.name,
                    "outcome": attempt.outcome.name if attempt.outcome else None,
                    "goalAchieved": attempt.goal_achieved},
        "campaignAccount": {"id": to_base64("CampaignAccount", row.id), "executionStatus": row.execution_status.name,
                            "goalOutcome": row.goal_outcome.name},
        "nextAttempt": _next(following),
    }


def _next(attempt: models.OutreachAttempt | None) -> dict[str, Any] | None:
    if attempt is None:
        return None
    return {"id": to_base64("OutreachAttempt", attempt.id), "attemptNumber": attempt.attempt_number,
            "step": attempt.step, "status": attempt.status.name,
            "dueAt": attempt.due_at.isoformat() if attempt.due_at else None}


route = Route("/channels/results/{token}", report_result, methods=["POST"], name=ROUTE_NAME)
