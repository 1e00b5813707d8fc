"""Query limits of the app's settings: list items and objects in the variables and tokens per document
(at parse), levels of fields and aliases (validation rules); and no text a database cannot store in a
read's arguments. Each refusal is a GraphQL error with its own ``extensions.code``.

Depth counts levels of fields, the way the setting reads: ``{ viewer { email } }`` is 2 levels.
Introspection fields (``__schema``, ``__type``, ``__typename``) are not counted, so tools that
introspect the schema are never refused. Fragments are measured once each (memoised), so a
document of fragments spreading fragments costs linear time, not exponential.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    Visitor,
    parse,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from outboundql.services.fields import storable

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_INPUT_ITEMS = "TOO_MANY_INPUT_ITEMS"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


class QueryLimits(SchemaExtension):
    """Parses with the app's token limit (caching parsed documents) and adds the depth and alias rules
    of the app's settings (read from the request's context: one process may serve apps with
    different settings)."""

    def on_operation(self) -> Iterator[None]:
        settings = self.execution_context.context.settings
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules, *limit_rules(settings.max_query_depth, settings.max_aliases))
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        settings = context.context.settings
        check_input_items(context.variables, settings.max_input_items)
        if context.graphql_document is None and context.query:
            context.graphql_document = parse_document(context.query, settings.max_tokens)
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.operation_type is not OperationType.MUTATION and context.graphql_document is not None:
            check_storable_arguments(context.variables, context.graphql_document)
        yield


def check_storable_arguments(variables: object, document: DocumentNode) -> None:
    """Refuse (BAD_USER_INPUT) a read whose arguments hold text no database can store (NUL, a lone
    surrogate): nothing stored can match it, and the databases refuse to compare it (PostgreSQL
    rejects NUL, SQLite's driver cannot encode a surrogate). Mutations report such text as INVALID on
    its field instead (`services.fields.storable`)."""
    texts: list[str] = list(_literal_texts(document))
    pending = [variables]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
            texts.extend(key for key in value if isinstance(key, str))
        elif isinstance(value, list):
            pending.extend(value)
    for text in texts:
        try:
            storable(text, "An argument")
        except ValueError as exc:
            raise GraphQLError(f"{exc} Nothing stored can match it.", extensions={"code": "BAD_USER_INPUT"}) from None


_LITERALS: dict[int, tuple[DocumentNode, tuple[str, ...]]] = {}
"""The string literals of recently read documents, by the document's identity (parsed documents are cached, so a
repeated query is the same object): walking a document costs more than a small read's whole execution."""


def _literal_texts(document: DocumentNode) -> tuple[str, ...]:
    known = _LITERALS.get(id(document))
    if known is not None and known[0] is document:
        return known[1]
    texts = tuple(node.value for node in _string_literals(document))
    if len(_LITERALS) >= 256:
        _LITERALS.pop(next(iter(_LITERALS)))
    _LITERALS[id(document)] = (document, texts)  # the entry keeps the document alive, so its id stays its own
    return texts


def _string_literals(document: DocumentNode) -> list[StringValueNode]:
    found: list[StringValueNode] = []

    class Collect(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.append(node)

    visit(document, Collect())
    return found


def check_input_items(variables: object, limit: int) -> None:
    """Refuse (TOO_MANY_INPUT_ITEMS) variables holding more than ``limit`` list items and objects, before
    anything reads them: strawberry turns each input object into its Python class at about a
    millisecond apiece, so a 1 MB body of small objects would cost a minute of CPU. Literals in the
    document itself are bounded by the token limit."""
    count = 0
    pending = [variables]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            count += 1
            pending.extend(value.values())
        elif isinstance(value, list):
            count += len(value)
            pending.extend(value)
        if count > limit:
            raise GraphQLError(f"The variables hold more than {limit} list items and objects; at most {limit} are "
                               "allowed in one request: split it into smaller ones.",
                               extensions={"code": TOO_MANY_INPUT_ITEMS})


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """``query`` parsed, refusing documents of more than ``max_tokens`` tokens with TOO_MANY_TOKENS and
    any other syntax error with GRAPHQL_PARSE_FAILED."""
    try:
        return _parse(query, max_tokens)
    except GraphQLSyntaxError as exc:
        if f"more than {max_tokens} tokens" in exc.message:  # graphql-core's parser stopped at the limit
            raise GraphQLError(f"The document has more than {max_tokens} tokens; at most {max_tokens} are "
                               "allowed. Split the request, or use fragments and variables.",
                               extensions={"code": TOO_MANY_TOKENS}) from None
        exc.extensions = {**(exc.extensions or {}), "code": PARSE_FAILED}
        raise


@functools.lru_cache(maxsize=128)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    # Bounded, so unique query texts cannot grow memory; failures are not cached.
    return parse(query, max_tokens=max_tokens)


@functools.cache
def limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    """The depth and alias rules of one pair of limits, made once: strawberry's ValidationCache keys
    its entries on the rule classes, so new classes per request would never hit the cache."""

    class DepthLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure = _Measure(context.document)
            for operation in _operations(context.document):
                depth = measure.depth(operation.selection_set)
                if depth > max_depth:
                    name = f"'{operation.name.value}'" if operation.name else "The operation"
                    context.report_error(GraphQLError(
                        f"{name} nests {depth} levels of fields; at most {max_depth} are allowed.",
                        operation, extensions={"code": QUERY_TOO_DEEP}))

    class AliasLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure = _Measure(context.document)
            count = sum(measure.aliases(operation.selection_set) for operation in _operations(context.document))
            if count > max_aliases:
                context.report_error(GraphQLError(
                    f"The document uses {count} aliases; at most {max_aliases} are allowed.",
                    extensions={"code": TOO_MANY_ALIASES}))

    return DepthLimit, AliasLimit


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


class _Measure:
    """Levels of fields and aliases of selection sets, each fragment measured once (a fragment spread
    inside itself, which validation refuses anyway, counts as nothing)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._depths: dict[str, int] = {}
        self._aliases: dict[str, int] = {}

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                level = 0 if selection.name.value.startswith("__") else 1 + self.depth(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                level = self.depth(selection.selection_set)
            else:
                level = self._fragment(selection, self._depths, self.depth)
            deepest = max(deepest, level)
        return deepest

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += (selection.alias is not None) + self.aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.aliases(selection.selection_set)
            else:
                total += self._fragment(selection, self._aliases, self.aliases)
        return total

    def _fragment(self, spread: Any, memo: dict[str, int], measure: Any) -> int:
        assert isinstance(spread, FragmentSpreadNode)
        name = spread.name.value
        if name not in memo:
            memo[name] = 0  # a cycle reads this while the fragment is being measured
            fragment = self.fragments.get(name)
            memo[name] = measure(fragment.selection_set) if fragment is not None else 0
        return memo[name]
