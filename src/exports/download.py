"""The download route of export links, ``GET /exports/<token>``: the service checks the link and reads the
rows; this streams them as a CSV attachment, a batch at a time.

No ``Authorization`` header is needed: the signed token is the credential (so a browser can follow the link),
and it names the user whose access is checked again at download time.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from outboundql.exports import csv_file
from outboundql.services import exports

ROUTE_NAME = "export_download"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


async def download(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        if request.method == "HEAD":  # a link checker: the answer's headers, without reading (or auditing) rows
            name = await exports.check_link(token)
            return Response(media_type=csv_file.MEDIA_TYPE, headers=_headers(name))
        found = await exports.open_download(token)
    except exports.LinkRefused as refused:
        return PlainTextResponse(refused.message, status_code=refused.status, headers=NO_STORE)
    return StreamingResponse(csv_file.stream(found.header, found.batches), media_type=csv_file.MEDIA_TYPE,
                             headers=_headers(found.filename))


def _headers(filename: str) -> dict[str, str]:
    return {**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}


route = Route("/exports/{token}", download, methods=["GET", "HEAD"], name=ROUTE_NAME)
