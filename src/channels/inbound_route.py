"""A campaign's inbound endpoint, ``POST /channels/inbound/<token>``: a provider reports a call or message from a
person, signed with the project's channel secret (`services.inbound_contacts` checks it and logs it, adding the
person when the campaign takes inbound contacts; this reads the body, bounded, and answers).

Answers: 201 when the sender was added to the campaign and the inbound logged on their new row; 200 when it was
logged on a row they already had, or when they were not added (``blockedReason`` says why); 400 for a bad body,
naming the key; 401 for a missing, wrong or stale signature; 404 for a link that is not valid; 409 when the
campaign does not take this person (inbound contacts off, archived or stopped); 413 for a body over
`result_callbacks.MAX_BODY` bytes. Every answer is JSON::

    {"added": true, "campaignAccountId": "…", "messageId": "…", "accountId": "…", "contactId": "…",
     "blockedReason": null}

    {"error": "…", "problems": [{"field": "from.phone", "message": "…"}]}
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.relay import to_base64

from outboundql.channels.result_route import NO_STORE, bounded_body, refused_answer
from outboundql.services import inbound_contacts, result_callbacks
from outboundql.services.inbound_contacts import InboundReceived
from outboundql.services.result_callbacks import CallbackRefused

ROUTE_NAME = "channel_inbound"


async def report_inbound(request: Request) -> Response:
    body = await bounded_body(request)
    if body is None:
        return refused_answer(CallbackRefused(413, f"The body is larger than {result_callbacks.MAX_BODY} bytes."))
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        received = await inbound_contacts.receive_signed(request.path_params["token"], headers, body)
    except CallbackRefused as refused:
        return refused_answer(refused)
    return JSONResponse(answer(received), status_code=201 if received.added else 200, headers=NO_STORE)


def answer(received: InboundReceived) -> dict[str, Any]:
    """What the inbound did, with the ids the API uses."""
    return {
        "added": received.added,
        "campaignAccountId": _gid("CampaignAccount", received.campaign_account),
        "messageId": _gid("Message", received.message),
        "accountId": _gid("Account", received.account),
        "contactId": _gid("Contact", received.contact),
        "blockedReason": received.blocked_reason,
    }


def _gid(type_name: str, row: Any) -> str | None:
    return None if row is None else to_base64(type_name, row.id)


route = Route("/channels/inbound/{token}", report_inbound, methods=["POST"], name=ROUTE_NAME)
