"""Cross-origin access for browser apps. One setting, ``allowed_origins``, decides which other origins' pages may call
the API: it feeds this CORS middleware (HTTP: preflights and the ``Access-Control-Allow-*`` headers) and the GraphQL
view's websocket origin check. CORS only hides answers from other pages; it does not stop a request a browser may
send without a preflight, which is why multipart uploads also need a CSRF header (``OutboundqlGraphQL``)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from outboundql.settings import Settings

# The request headers a page may send: the token, JSON bodies, and the headers that let a multipart upload through
# the CSRF check (a page of another origin can only send them once a preflight allowed it).
ALLOWED_HEADERS = ("authorization", "content-type", "apollo-require-preflight", "x-apollo-operation-name")
PREFLIGHT_MAX_AGE_SECONDS = 600


def middleware(settings: Settings) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=("GET", "POST"),
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=settings.cors_allow_credentials,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
