"""Cross-origin access for browser apps. One setting, ``allowed_origins``, decides which other origins' pages may call
the API: it feeds this CORS middleware (HTTP: preflights and the ``Access-Control-Allow-*`` headers) and the GraphQL
view's websocket origin check. CORS only hides answers from other pages; it does not stop a request a browser may
send without a preflight, which is why multipart uploads also need a CSRF header (``OutboundqlGraphQL``)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from outboundql.settings import Settings

# The request headers a page may send: the token, JSON bodies, its own request id, and the headers that let a
# multipart upload through the CSRF check (a page of another origin can only send them once a preflight allowed it).
ALLOWED_HEADERS = ("authorization", "content-type", "x-request-id", "apollo-require-preflight",
                   "x-apollo-operation-name")
# The response headers beyond the CORS-safelisted ones a page may read: the request id (for support) and the rate
# limit's state.
EXPOSED_HEADERS = ("X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After")
PREFLIGHT_MAX_AGE_SECONDS = 600


def middleware(settings: Settings) -> Middleware:
    return Middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=("GET", "POST"),
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=settings.cors_allow_credentials,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
