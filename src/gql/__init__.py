"""The GraphQL API. ``outboundql.gql.schema.schema`` is the strawberry schema."""
