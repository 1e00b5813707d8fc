"""The SDL that ``schema.graphql`` must equal."""

from strawberry.printer import print_schema

from outboundql.gql.schema import schema


def sdl() -> str:
    return print_schema(schema) + "\n"
