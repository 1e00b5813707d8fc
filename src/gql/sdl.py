"""The SDL that ``schema.graphql`` must equal."""

from outboundql.gql.schema import schema
from strawberry.printer import print_schema


def sdl() -> str:
    return print_schema(schema) + "\n"
