"""The ASGI GraphQL view: authenticates each request and builds its context."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from outboundql.goals.registry import GoalRegistry
from outboundql.gql import graphiql, json_nesting
from outboundql.gql.context import Context
from outboundql.gql.persisted_queries import PersistedQueries
from outboundql.gql.persisted_queries import resolve as resolve_persisted
from outboundql.services import auth_cache
from outboundql.services.tokens import AuthError
from outboundql.settings import Settings


class OutboundqlGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, settings: Settings, goals: GoalRegistry) -> None:
        super().__init__(schema, graphql_ide="graphiql", allowed_origins=settings.allowed_origins,
                         multipart_uploads_enabled=True)
        self.settings = settings
        self.goals = goals
        self.persisted_queries = PersistedQueries(settings.redis_url)  # automatic persisted queries

    async def render_graphql_ide(self, request: Request) -> Response:
        # GraphiQL from this package's copies of its files: it works with no internet.
        return HTMLResponse(graphiql.offline_page(request.scope.get("root_path", "")))

    def decode_json(self, data: str | bytes) -> object:
        # Every JSON strawberry reads comes through here: POST bodies, GET `variables`/`extensions`,
        # websocket messages (one nested too deeply closes the socket as non-JSON, 4400).
        return json_nesting.loads(data, self.settings.max_json_depth)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                await request.close()  # an upload's spooled files

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any, context: Any,
                             root_value: Any, request_data: GraphQLRequestData) -> ExecutionResult:
        # Automatic persisted queries: the document of a hash this server knows, or PersistedQueryNotFound.
        resolved = await resolve_persisted(request_data, self.persisted_queries)
        if isinstance(resolved, ExecutionResult):
            return resolved
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, resolved)

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        # A browser sends a multipart form from any page without a preflight: only a request carrying one of
        # these headers (which a foreign page cannot set without CORS allowing it) may upload.
        headers = request.headers
        if not (headers.get("apollo-require-preflight", "").strip()
                or headers.get("x-apollo-operation-name", "").strip()):
            raise HTTPException(400, "A multipart request needs a non-empty 'apollo-require-preflight' or "
                                "'x-apollo-operation-name' header (CSRF protection).")
        return await super().parse_multipart(request)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except json_nesting.TooDeeplyNested as exc:
            raise HTTPException(400, exc.message) from None
        except json.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(request=request, response=response, settings=self.settings, goals=self.goals)
        if isinstance(request, Request):
            await self._authenticate(context, request.headers.get("authorization"))
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        # Browsers cannot set headers on websockets: the token comes in connection_init's payload,
        # e.g. {"Authorization": "Bearer oql_…"}; a header on the upgrade request works too.
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if header is None:
            header = context.request.headers.get("authorization")
        await self._authenticate(context, header)
        if context.access_or_none is None:
            raise ConnectionRejectionError({"message": context.auth_error})
        context.ws_authorization = header  # checked again on every operation and event (Context.recheck)
        return None

    async def _authenticate(self, context: Context, header: str | None) -> None:
        try:
            context.access_or_none = await auth_cache.access_for(header, self.settings)
        except AuthError as exc:
            context.auth_error = str(exc)
