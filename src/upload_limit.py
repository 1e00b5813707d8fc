"""Uploads may be larger than other request bodies: an ASGI wrapper that lets a multipart request (a file upload)
carry up to its own limit, every other request staying under the app's ``max_body_bytes`` (413 above either)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class UploadBodyLimit:
    """Around one endpoint: a ``multipart/form-data`` request may be ``max_upload_body`` bytes in all (the
    announced length is checked first, the bytes received as they come)."""

    def __init__(self, app: ASGIApp, max_upload_body: int) -> None:
        self.app = app
        self.uploads = RequestBodyLimitMiddleware(app, max_body_size=max_upload_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and Headers(scope=scope).get("content-type", "").lower().startswith(
                "multipart/form-data"):
            await self.uploads(scope, receive, send)
        else:
            await self.app(scope, receive, send)
