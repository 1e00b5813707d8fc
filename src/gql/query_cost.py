"""Query cost: what an operation may ask of the server, computed before it runs, as GitHub and Shopify do.

The cost of an operation is the number of objects its response may hold:

* a field of an object type (or interface, union) is one object each time its parent is;
* a paged field multiplies what it holds by its page size: ``first`` or ``last`` (the connection's default page,
  ``max_page_size``, when neither is given), ``limit`` (its default when not given), or the number of ``ids``
  (``nodes``). On a connection, that many ``edges`` and ``nodes`` are counted; the connection and its
  ``pageInfo`` once;
* a list without such an argument (a project's members, a goal's guardrails: small by nature) counts its
  objects once;
* each mutation field adds 10 (it writes);
* scalars, enums and introspection (``__schema``, ``__type``, ``__typename``) cost nothing.

Nested costs multiply: ``campaigns(first: 100) { edges { node { accounts(first: 100) { … } } } }`` asks for ten
thousand rows. Variables are read for the page sizes (``first: $n``). Fragments are costed once each for one
parent object (cost grows linearly with the number of parents), and an inline fragment or spread is added as a
whole, whatever its type condition: the cost is an upper bound.

An operation over ``max_query_cost`` is refused with ``QUERY_TOO_COSTLY`` before anything runs; otherwise its
response reports ``extensions.cost``. HTTP operations spend their cost from the client's rate limit
(`outboundql.rate_limits`), with the standard ``RateLimit-*`` headers and a 429 with ``Retry-After`` when spent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from outboundql.rate_limits import RateLimiter, points_for
from outboundql.services import runtime
from outboundql.services.tokens import AuthError, token_hash_of

QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
RATE_LIMITED = "RATE_LIMITED"
MUTATION_COST = 10
_PAGE_ARGUMENTS = ("first", "last")


def operation_cost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                   variables: Mapping[str, Any] | None, default_page: int) -> int:
    """The cost of ``operation`` of ``document`` with ``variables`` (see the module's docstring)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or ()}
    costing = _Costing(schema, document, dict(variables or {}), defaults, default_page)
    cost = costing.selections(operation.selection_set, root)
    if operation.operation is OperationType.MUTATION:
        cost += MUTATION_COST * _root_fields(operation.selection_set, costing.fragments)
    return cost


def _root_fields(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += not selection.name.value.startswith("__")
        elif isinstance(selection, InlineFragmentNode):
            count += _root_fields(selection.selection_set, fragments)
        elif (fragment := fragments.get(selection.name.value)) is not None:  # type: ignore[attr-defined]
            count += _root_fields(fragment.selection_set, fragments)
    return count


class _Costing:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any],
                 defaults: Mapping[str, ValueNode | None], default_page: int) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.defaults = defaults
        self.default_page = default_page
        self._memo: dict[tuple[str, int], int] = {}

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, page: int = 1) -> int:
        """Objects under one ``parent`` object; ``page`` is the number of edges/nodes when ``parent`` is a
        connection."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, inner or parent, page)
            else:
                fragment = self.fragments.get(selection.name.value)  # type: ignore[attr-defined]
                if fragment is None:
                    continue
                key = (fragment.name.value, page)
                if key not in self._memo:
                    self._memo[key] = 0  # a cycle (refused by validation anyway) costs nothing
                    inner = self._type(fragment.type_condition.name.value) or parent
                    self._memo[key] = self.selections(fragment.selection_set, inner, page)
                total += self._memo[key]
        return total

    def field(self, node: FieldNode, parent: Any, page: int) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 0
        definition = fields[name]
        named = get_named_type(definition.type)
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return 0
        size = self._size(node, definition)
        if "edges" in getattr(named, "fields", {}) and size is not None:  # a connection: 1, then its page
            return 1 + self.selections(node.selection_set, named, size)
        if size is None:
            size = page if name in ("edges", "nodes") and _is_list(definition.type) else 1
        return size * (1 + self.selections(node.selection_set, named))

    def _size(self, node: FieldNode, definition: Any) -> int | None:
        """The page size a paged field asks for; None for other fields."""
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        declared = definition.args
        if any(name in declared for name in _PAGE_ARGUMENTS):
            sizes = [self._int(arguments[name]) for name in _PAGE_ARGUMENTS if name in arguments]
            given = [s for s in sizes if s is not None]
            return max(given) if given else self.default_page
        if "limit" in declared:
            limit = self._int(arguments["limit"]) if "limit" in arguments else None
            default = declared["limit"].default_value
            return limit if limit is not None else default if isinstance(default, int) else self.default_page
        if "ids" in declared and _is_list(definition.type):
            ids = self._value(arguments["ids"]) if "ids" in arguments else None
            return len(ids) if isinstance(ids, list) else 1
        return None

    def _int(self, node: ValueNode) -> int | None:
        value = self._value(node)
        return max(0, value) if isinstance(value, int) and not isinstance(value, bool) else None

    def _value(self, node: ValueNode | None) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                return self.variables[name]
            return self._value(self.defaults.get(name))
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None

    def _type(self, name: str) -> Any:
        return self.schema.get_type(name)


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class QueryCost(SchemaExtension):
    """Refuses operations over the app's ``max_query_cost`` before they run, spends HTTP operations' cost from
    the client's rate limit, and reports both in ``extensions.cost``."""

    report: dict[str, Any] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        app_context = context.context
        settings = app_context.settings
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document is not None else None
        if operation is None:
            yield
            return
        graphql_schema = context.schema._schema
        cost = operation_cost(graphql_schema, document, operation, context.variables,  # type: ignore[arg-type]
                              settings.max_page_size)
        self.report = {"requestedQueryCost": cost, "maximumQueryCost": settings.max_query_cost}
        if cost > settings.max_query_cost:
            raise GraphQLError(
                f"This operation may return {cost:,} objects; at most {settings.max_query_cost:,} are allowed. "
                "Ask for smaller pages (`first`/`last`), fewer nested lists, or split it into several requests.",
                extensions={"code": QUERY_TOO_COSTLY, "cost": cost, "maximumCost": settings.max_query_cost})
        await self._spend(app_context, cost)
        yield

    async def _spend(self, app_context: Any, cost: int) -> None:
        request = app_context.request
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None) \
            if isinstance(request, Request) else None
        if limiter is None or not limiter.enabled:
            return
        verdict = await limiter.spend(client_key(app_context), points_for(cost), runtime.now())
        if verdict is None:
            return
        assert self.report is not None
        self.report["rateLimit"] = {"limit": verdict.limit, "cost": verdict.points, "remaining": verdict.remaining,
                                    "resetAt": verdict.reset_at.isoformat()}
        response = app_context.response
        response.headers.update(verdict.headers())
        if not verdict.allowed:
            response.status_code = 429
            raise GraphQLError(
                f"This operation costs {verdict.points} point(s) and {verdict.remaining} of the "
                f"{verdict.limit} of this window are left; try again in {verdict.reset_seconds} s.",
                extensions={"code": RATE_LIMITED, "retryAfterSeconds": verdict.reset_seconds})

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report is not None else {}


def client_key(app_context: Any) -> str:
    """Whose points a request spends: its API token's (hashed) when it authenticated, else its IP address's."""
    request = app_context.request
    if app_context.access_or_none is not None:
        try:
            return "token:" + token_hash_of(request.headers.get("authorization"))
        except AuthError:
            pass
    client = request.client
    return "ip:" + (client.host if client is not None else "unknown")
