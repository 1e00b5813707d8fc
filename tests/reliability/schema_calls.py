"""Calls generated from a GraphQL schema: every field argument that carries an id, and a valid-looking
call that puts a chosen id there.

Not a test module (no ``test_`` prefix). Used by ``test_tenancy_enumeration``; nothing here knows a
mutation by name, so a new field with an id argument is enumerated without anyone adding it. What
the generator cannot guess from names and types is asked for, in an error that says what to add:

* the node type an id argument takes comes from its name (``productId``, ``accountIds``), from the
  input type holding an ``id`` (``UpdateProductInput.id`` → ``Product``), or from `ID_TYPES`;
* a required string gets a value from `STRING_VALUES` by its name, or a neutral word; every other
  required scalar, enum or input object is filled from its type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

ROOTS = ("Query", "Mutation", "Subscription")
ANY = "*"
"""`IdSlot.takes` of an argument that takes an id of any node type (``node``, ``nodes``)."""

ID_TYPES: dict[str, str] = {
    # Id arguments whose name does not say their node type (everything else is read off the name).
    "MergeAccountsInput.targetId": "Account",
    "MergeAccountsInput.sourceIds": "Account",
    "LogMessageInput.draftId": "Message",
    "ApproveOutreachInput.attemptIds": "OutreachAttempt",
    "AttemptEditInput.attemptId": "OutreachAttempt",
    "RejectOutreachInput.attemptIds": "OutreachAttempt",
    "RecordAttemptResultInput.attemptId": "OutreachAttempt",
    "RedeliverWebhookInput.deliveryId": "WebhookDelivery",
    "RemoveSuppressionsInput.ids": "Suppression",
    "AuditEventFilter.actorId": "User",
    "AuditEventFilter.objectId": "Campaign",  # any node type; campaigns are the objects with a trail for sure
    "AuditTrailFilter.actorId": "User",
    "Query.node(id)": ANY,
    "Query.nodes(ids)": ANY,
}

STRING_VALUES: dict[str, str] = {
    # Required strings that a neutral word would make invalid before any id is looked up, by
    # "InputType.field" or by field name.
    "email": "probe@example.com",
    "goal": "sales",
    "AudienceInput.kind": "saved_filter",
}

OPTIONAL_VALUES: dict[str, dict[str, Any]] = {
    # Optional fields an input needs at least one of before any id is looked up, by input type.
    "UpdateCampaignAccountsInput": {"addTags": ["probe"]},
}

UNSELECTED: frozenset[str] = frozenset({
    # Fields left out of generated selections: an audit trail grows with every call a probe makes (a refused one
    # included), so two asks of it differ as two readings of a clock do.
    "Project.auditEvents", "Campaign.auditEvents", "Account.auditEvents",
})

UPLOAD_CONTENT = b"Company,Website\nProbe,probe.example\n"
"""The file of a call with an `Upload` argument (sent as a multipart request, see `Call.http`)."""

SCALAR_VALUES: dict[str, Any] = {
    "Upload": None,  # the file goes in a multipart request (see `upload_paths`)
    "String": "Probe",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "Decimal": "1.00",
    "Date": "2026-01-01",
    "DateTime": "2026-01-01T00:00:00+00:00",
    "JSON": {},
}

Path = tuple[str | int, ...]


class CannotCall(Exception):
    """The generator cannot build a call; the message says what to add."""


@dataclass(frozen=True)
class IdSlot:
    """One place an id goes: ``path`` starts with the argument name; an int is a list index.

    ``kind`` "slug": a ``slug`` argument of a field answering a node type (``project(slug:)``), which
    looks a row up as an id does."""

    holder: str  # the object type declaring the field: "Mutation", "Project", ...
    field: str
    path: Path
    takes: str  # node type expected there, ANY, or "" when unknown (a call then fails, asking for ID_TYPES)
    where: str  # the key of ID_TYPES for this slot
    kind: str = "id"

    @property
    def root(self) -> str:
        return self.holder if self.holder in ROOTS else "Query"

    @property
    def argument_path(self) -> str:
        """As in `UserError.field`: ``input.sourceIds[0]``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    @property
    def label(self) -> str:
        return f"{self.holder}.{self.field}({self.argument_path})"


def node_types(schema: GraphQLSchema) -> list[str]:
    node = schema.type_map.get("Node")
    if not isinstance(node, GraphQLInterfaceType):
        return []
    return sorted(t.name for t in schema.get_implementations(node).objects)


def id_slots(schema: GraphQLSchema) -> list[IdSlot]:
    """Every argument (through input objects and lists) of type ``ID`` of every field of every object type."""
    nodes = node_types(schema)
    slots: list[IdSlot] = []
    for type_name, type_ in sorted(schema.type_map.items()):
        if type_name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                for path, holder_input in _id_paths(arg.type, (arg_name,), None, frozenset()):
                    name = str(path[-1] if isinstance(path[-1], str) else path[-2])
                    where = f"{holder_input}.{name}" if holder_input else f"{type_name}.{field_name}({name})"
                    slots.append(IdSlot(type_name, field_name, path, _takes(where, name, holder_input, nodes), where))
    return slots


def slug_slots(schema: GraphQLSchema) -> list[IdSlot]:
    """Every ``slug`` argument of a field that answers a node type: rows looked up by slug."""
    nodes = node_types(schema)
    slots: list[IdSlot] = []
    for type_name, type_ in sorted(schema.type_map.items()):
        if type_name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            answers = get_named_type(field.type).name
            if answers in nodes and "slug" in field.args:
                slots.append(IdSlot(type_name, field_name, ("slug",), answers, f"{type_name}.{field_name}(slug)",
                                    "slug"))
    return slots


def _id_paths(type_: Any, path: Path, holder: str | None, seen: frozenset[str]) -> Iterator[tuple[Path, str | None]]:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        inner = get_named_type(type_)
        if _is_id(inner):
            yield path, holder
        else:
            yield from _id_paths(type_.of_type, (*path, 0), holder, seen)
    elif _is_id(type_):
        yield path, holder
    elif isinstance(type_, GraphQLInputObjectType) and type_.name not in seen:
        for name, field in type_.fields.items():
            yield from _id_paths(field.type, (*path, name), type_.name, seen | {type_.name})


def _takes(where: str, name: str, holder_input: str | None, nodes: list[str]) -> str:
    if where in ID_TYPES:
        return ID_TYPES[where]
    base = re.sub(r"Ids?$", "", name)
    if base and base != name:
        candidate = base[0].upper() + base[1:]
        if candidate in nodes:
            return candidate
    if name == "id" and holder_input:
        inside = [t for t in nodes if t in holder_input]
        if inside:
            return max(inside, key=len)  # UpdateCampaignAccountInput → CampaignAccount, not Campaign
    return ""


# --- building a call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    root: str
    document: str
    variables: dict[str, Any]
    uploads: tuple[str, ...] = ()
    """Paths (``variables.a_input.file``) of `Upload` variables: the call goes as a multipart request."""

    def http(self, headers: dict[str, str]) -> dict[str, Any]:
        """Keyword arguments of an httpx POST of this call: JSON, or a multipart request (with the preflight
        header) carrying `UPLOAD_CONTENT` for each upload."""
        if not self.uploads:
            return {"json": {"query": self.document, "variables": self.variables}, "headers": headers}
        operations = json.dumps({"query": self.document, "variables": self.variables})
        files = {str(i): (f"probe{i}.csv", UPLOAD_CONTENT, "text/csv") for i in range(len(self.uploads))}
        return {"data": {"operations": operations,
                         "map": json.dumps({str(i): [path] for i, path in enumerate(self.uploads)})},
                "files": files, "headers": {**headers, "apollo-require-preflight": "true"}}


class Caller:
    """Builds the call of a slot for a viewer: ``own(type_name)`` is the viewer's own global id of a node
    of that type (used to reach a nested field and to fill the other required id arguments)."""

    def __init__(self, schema: GraphQLSchema, own: Callable[[str], str]) -> None:
        self.schema = schema
        self.own = own
        self.nodes = node_types(schema)
        self._slots = {(s.holder, s.field, s.path): s for s in id_slots(schema)}

    def call(self, slot: IdSlot, value: str, *, depth: int = 2) -> Call:
        if not slot.takes:
            raise CannotCall(
                f"{slot.label}: the node type this id takes is not in its name; add "
                f"{slot.where!r}: '<NodeType>' to ID_TYPES in {__name__}")
        holder = self.schema.type_map[slot.holder]
        assert isinstance(holder, GraphQLObjectType)
        field = holder.fields[slot.field]
        variables: dict[str, Any] = {}
        self._uploads: list[str] = []
        declared: list[str] = []
        arguments: list[str] = []
        for arg_name, arg in field.args.items():
            on_slot = slot.path[0] == arg_name
            if not on_slot and not _required(arg):
                continue
            rest = slot.path[1:] if on_slot else None
            variables[f"a_{arg_name}"] = self._fill(arg.type, rest, value, slot, (arg_name,))
            declared.append(f"$a_{arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: $a_{arg_name}")
        args = f"({', '.join(arguments)})" if arguments else ""
        body = f"probe: {slot.field}{args}{self.selection(field.type, depth)}"
        if slot.holder not in ROOTS:
            body, reach_vars = self._reach(slot.holder, body)
            for name, (type_text, reach_value) in reach_vars.items():
                variables[name] = reach_value
                declared.append(f"${name}: {type_text}")
        operation = slot.root.lower()
        header = f"{operation} Probe({', '.join(declared)})" if declared else f"{operation} Probe"
        return Call(slot.root, f"{header} {{ {body} }}", variables, tuple(self._uploads))

    def _fill(self, type_: Any, rest: Path | None, value: str, slot: IdSlot, at: Path, parent: str = "") -> Any:
        """A value of ``type_`` (at ``at``, a field of the input type ``parent``); ``rest`` is the slot's
        path below it, ``()`` when this is the slot, None when the slot is elsewhere."""
        if isinstance(type_, GraphQLNonNull):
            return self._fill(type_.of_type, rest, value, slot, at, parent)
        if isinstance(type_, GraphQLList):
            if rest == ():
                return [value]  # a list of ids is the slot: one id
            if _is_id(get_named_type(type_)):
                return [self._own_id(slot, at)]
            return [self._fill(type_.of_type, rest[1:] if rest else None, value, slot, (*at, 0), parent)]
        if rest == ():
            return value
        if isinstance(type_, GraphQLInputObjectType):
            out: dict[str, Any] = {}
            for name, field in type_.fields.items():
                below = rest[1:] if rest and rest[0] == name else None
                if below is not None or _required(field):
                    out[name] = self._fill(field.type, below, value, slot, (*at, name), type_.name)
            for name, extra in OPTIONAL_VALUES.get(type_.name, {}).items():
                out.setdefault(name, extra)
            return out
        if isinstance(type_, GraphQLEnumType):
            return next(iter(type_.values))
        if _is_id(type_):
            return self._own_id(slot, at)
        name = str(at[-1])
        if type_.name == "Upload":
            self._uploads.append(".".join(["variables", f"a_{at[0]}", *map(str, at[1:])]))
            return None
        if type_.name == "String":
            return STRING_VALUES.get(f"{parent}.{name}", STRING_VALUES.get(name, SCALAR_VALUES["String"]))
        if type_.name in SCALAR_VALUES:
            return SCALAR_VALUES[type_.name]
        raise CannotCall(f"{slot.label}: no value for the scalar {type_.name} at {at}; add one to SCALAR_VALUES "
                         f"in {__name__}")

    def _own_id(self, slot: IdSlot, at: Path) -> str:
        """The viewer's own id for another required id argument of the slot's field."""
        other = self._slots.get((slot.holder, slot.field, at))
        if other is None or not other.takes or other.takes == ANY:
            raise CannotCall(f"{slot.label}: no node type known for the required id at {at}; add it to "
                             f"ID_TYPES in {__name__}")
        return self.own(other.takes)

    def selection(self, type_: Any, depth: int) -> str:
        """Every field without required arguments (but those of `UNSELECTED`), ``depth`` object levels down;
        ``__typename`` always."""
        named = get_named_type(type_)
        if is_leaf_type(named):
            return ""
        if isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)):
            return " { __typename" + (" id" if "id" in getattr(named, "fields", {}) else "") + " }"
        assert isinstance(named, GraphQLObjectType)
        parts = ["__typename"]
        for name, field in named.fields.items():
            if any(_required(a) for a in field.args.values()) or f"{named.name}.{name}" in UNSELECTED:
                continue
            if is_leaf_type(get_named_type(field.type)):
                parts.append(name)
            elif depth > 0:
                parts.append(name + self.selection(field.type, depth - 1))
        return " { " + " ".join(parts) + " }"

    def _reach(self, type_name: str, body: str) -> tuple[str, dict[str, tuple[str, Any]]]:
        """Wrap ``body`` (a selection on ``type_name``) in ``node(id:)`` of one of the viewer's own
        objects of that type."""
        if type_name not in self.nodes:
            raise CannotCall(f"{type_name} has fields with id arguments but is no node type: teach "
                             f"Caller._reach in {__name__} how to reach one")
        return (f"reach: node(id: $reach) {{ __typename ... on {type_name} {{ {body} }} }}",
                {"reach": ("ID!", self.own(type_name))})


def upload_paths(field: GraphQLField) -> list[str]:
    """``variables.<argument>.<field>…`` of each required `Upload` in ``field``'s arguments (variables named as the
    arguments): a call of the field sends its file there in a multipart request."""
    found: list[str] = []

    def walk(type_: Any, at: tuple[str, ...]) -> None:
        if isinstance(type_, GraphQLNonNull):
            walk(type_.of_type, at)
        elif isinstance(type_, GraphQLInputObjectType):
            for name, child in type_.fields.items():
                if _required(child):
                    walk(child.type, (*at, name))
        elif isinstance(type_, GraphQLScalarType) and type_.name == "Upload":
            found.append(".".join(("variables", *at)))

    for name, arg in field.args.items():
        walk(arg.type, (name,))
    return found


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and getattr(arg, "default_value", Undefined) is Undefined


def _is_id(type_: Any) -> bool:
    return isinstance(type_, GraphQLScalarType) and type_.name == "ID"
