"""outboundql: a GraphQL API for outbound campaigns."""

__version__ = "0.1.0"
