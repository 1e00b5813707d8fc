"""The call generator of the tenancy enumeration, on a small schema: a new field with an id argument is
found without being named, and one it cannot call is refused with what to add, never skipped."""

from __future__ import annotations

import pytest
from graphql import build_schema, parse, validate

from tests.reliability.schema_calls import ANY, Caller, CannotCall, IdSlot, id_slots, slug_slots

SDL = """
interface Node { id: ID! }
type Widget implements Node { id: ID! slug: String! name: String! }
type Gadget implements Node { id: ID! name: String! parts(widgetIds: [ID!]!): [Widget!]! }
type UserError { code: String! field: String message: String! }
type WidgetPayload { widget: Widget errors: [UserError!]! }
enum Colour { RED GREEN }
input Size { width: Int! unit: String = "cm" }
input PaintWidgetInput { widgetId: ID! colour: Colour! size: Size! note: String gadgetIds: [ID!] }
input LinkInput { fromRef: ID! widgetId: ID! }
type Query { node(id: ID!): Node widget(slug: String!): Widget gadgets: [Gadget!]! }
type Mutation {
  paintWidget(input: PaintWidgetInput!): WidgetPayload!
  link(input: LinkInput!): WidgetPayload!
}
type Subscription { widgetChanged(widgetId: ID!): Widget! }
"""
SCHEMA = build_schema(SDL)


def own(type_name: str) -> str:
    return f"own-{type_name}"


def slot(label: str) -> IdSlot:
    return next(s for s in id_slots(SCHEMA) + slug_slots(SCHEMA) if s.label == label)


def test_every_id_argument_is_found_through_inputs_lists_and_nested_fields() -> None:
    found = {(s.label, s.takes) for s in id_slots(SCHEMA)}
    assert found == {
        ("Query.node(id)", ANY),  # named in ID_TYPES: an id of any type
        ("Gadget.parts(widgetIds)", "Widget"),
        ("Mutation.paintWidget(input.widgetId)", "Widget"),
        ("Mutation.paintWidget(input.gadgetIds)", "Gadget"),
        ("Mutation.link(input.fromRef)", ""),
        ("Mutation.link(input.widgetId)", "Widget"),
        ("Subscription.widgetChanged(widgetId)", "Widget"),
    }
    assert [(s.label, s.takes, s.kind) for s in slug_slots(SCHEMA)] == [("Query.widget(slug)", "Widget", "slug")]


def test_a_call_fills_required_arguments_from_their_types_and_is_valid() -> None:
    call = Caller(SCHEMA, own).call(slot("Mutation.paintWidget(input.gadgetIds)"), "THE-ID")
    assert call.variables == {"a_input": {"widgetId": "own-Widget", "colour": "RED", "size": {"width": 1},
                                          "gadgetIds": ["THE-ID"]}}
    assert call.root == "Mutation"
    assert not validate(SCHEMA, parse(call.document))


def test_a_nested_field_is_reached_through_one_of_the_viewers_own_nodes() -> None:
    call = Caller(SCHEMA, own).call(slot("Gadget.parts(widgetIds)"), "THE-ID")
    assert call.variables == {"a_widgetIds": ["THE-ID"], "reach": "own-Gadget"}
    assert "node(id: $reach)" in call.document and "... on Gadget" in call.document
    assert not validate(SCHEMA, parse(call.document))


def test_an_id_whose_type_is_not_in_its_name_fails_saying_what_to_add() -> None:
    with pytest.raises(CannotCall, match=r"add 'LinkInput.fromRef': '<NodeType>' to ID_TYPES"):
        Caller(SCHEMA, own).call(slot("Mutation.link(input.fromRef)"), "THE-ID")
    # ...and so does a call whose *other* required id has no known type.
    with pytest.raises(CannotCall, match=r"no node type known for the required id at \('input', 'fromRef'\)"):
        Caller(SCHEMA, own).call(slot("Mutation.link(input.widgetId)"), "THE-ID")


def test_an_id_of_any_type_is_only_for_the_slot_itself() -> None:
    node = IdSlot("Query", "node", ("id",), ANY, "Query.node(id)")
    call = Caller(SCHEMA, own).call(node, "THE-ID")
    assert call.variables == {"a_id": "THE-ID"}
    assert not validate(SCHEMA, parse(call.document))
