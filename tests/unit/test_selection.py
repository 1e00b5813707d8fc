"""`asks`: what a request selects below a field, looking through fragments."""

from types import SimpleNamespace

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from outboundql.gql.base import asks


def field(name: str, *selections: object) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments={}, selections=list(selections))


def info(*selected: object) -> SimpleNamespace:
    return SimpleNamespace(selected_fields=list(selected))


def test_a_path_selected_directly() -> None:
    request = info(field("accounts", field("edges", field("node", field("aiScore", field("score"))))))
    assert asks(request, "edges", "node", "aiScore")
    assert asks(request, "edges", "node")
    assert not asks(request, "edges", "node", "account")
    assert not asks(request, "node")


def test_a_path_through_fragments() -> None:
    spread = FragmentSpread(name="Row", type_condition="CampaignAccount", directives={},
                            selections=[InlineFragment(type_condition=None, directives={},
                                                       selections=[field("aiScore", field("score"))])])
    request = info(field("accounts", field("edges", field("node", field("id"), spread))))
    assert asks(request, "edges", "node", "aiScore")
    assert not asks(request, "edges", "node", "account")


def test_aliases_are_looked_through() -> None:
    aliased = SelectedField(name="aiScore", directives={}, arguments={}, selections=[], alias="fit")
    request = info(field("accounts", field("edges", field("node", aliased))))
    assert asks(request, "edges", "node", "aiScore")
