"""A document of several operations must say which one to run (``operationName``), as the GraphQL specification
requires; strawberry would silently run the first."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

OPERATION_NAME_REQUIRED = "OPERATION_NAME_REQUIRED"


class RequireOperationName(SchemaExtension):
    """Refuses, once the document is parsed, several operations without an ``operationName``."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        # `operation_name` falls back to the first operation's: only the one the request gave counts here.
        if document is None or getattr(context, "_provided_operation_name", None):
            return
        names = [d.name.value if d.name else "(anonymous)" for d in document.definitions
                 if isinstance(d, OperationDefinitionNode)]
        if len(names) > 1:
            raise GraphQLError(
                f"The document holds {len(names)} operations ({', '.join(names)}): say which one to run with "
                "`operationName`.", extensions={"code": OPERATION_NAME_REQUIRED})
