"""The schema: per-domain query, mutation and subscription classes composed by inheritance."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry import relay
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from outboundql.gql.accounts import AccountMutations, AccountSubscriptions, ContactMutations
from outboundql.gql.campaign_accounts import CampaignAccountMutations, CampaignAccountQueries
from outboundql.gql.campaigns import CampaignMutations
from outboundql.gql.errors import is_unexpected
from outboundql.gql.expenses import ExpenseMutations
from outboundql.gql.goals import GoalQueries
from outboundql.gql.low_fit import LowFitMutations
from outboundql.gql.markets import MarketMutations
from outboundql.gql.messages import MessageMutations
from outboundql.gql.pagination import CapIds
from outboundql.gql.permissions import IsAuthenticated
from outboundql.gql.products import ProductMutations
from outboundql.gql.projects import ProjectMutations, ProjectQueries
from outboundql.gql.saved_filters import SavedFilterMutations
from outboundql.gql.scoring import ScoringMutations, ScoringSubscriptions
from outboundql.gql.users import UserMutations, UserQueries


@strawberry.type
class Query(UserQueries, ProjectQueries, GoalQueries, CampaignAccountQueries):
    node: relay.Node | None = relay.node(
        permission_classes=[IsAuthenticated],
        description="Any object by its global id; null when it does not exist or is not yours to see.",
    )
    nodes: list[relay.Node | None] = relay.node(
        permission_classes=[IsAuthenticated], extensions=[CapIds()],
        description="Several objects by global id, in the same order; at most a page (100) of ids.",
    )


@strawberry.type
class Mutation(
    UserMutations, ProjectMutations, ProductMutations, AccountMutations, ContactMutations, CampaignMutations,
    CampaignAccountMutations, LowFitMutations, SavedFilterMutations, MarketMutations, ScoringMutations,
    MessageMutations, ExpenseMutations,
):
    pass


@strawberry.type
class Subscription(AccountSubscriptions, ScoringSubscriptions):
    pass


class RecheckWebsocketAuth(SchemaExtension):
    """A websocket carries many operations over hours: check its token and roles again before each one."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        recheck = getattr(self.execution_context.context, "recheck", None)
        if recheck is not None:
            await recheck()
        yield


class SettingsLimits(SchemaExtension):
    """The depth, alias and token limits of the settings the app was created with (read from the
    request's context, so one process may serve apps with different settings)."""

    def on_operation(self) -> Iterator[None]:
        settings = self.execution_context.context.settings
        self.execution_context.parse_options["max_tokens"] = settings.max_tokens
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules, *_limit_rules(settings.max_query_depth, settings.max_aliases))
        yield


@functools.cache
def _limit_rules(max_depth: int, max_aliases: int) -> tuple[type[ASTValidationRule], ...]:
    # Strawberry's own limiters' rules, made once per pair of limits: ValidationCache keys its
    # entries on the rule classes, so new classes per request would never hit the cache.
    return (*QueryDepthLimiter(max_depth=max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules)


class OutboundqlSchema(strawberry.Schema):
    """Logs only unexpected errors: a bad token or a validation error is the client's business,
    a crash is the operator's (with its traceback)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        super().process_errors([e for e in errors if is_unexpected(e)], execution_context)


schema = OutboundqlSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        RecheckWebsocketAuth,
        SettingsLimits,
        ParserCache,
        ValidationCache,
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message="Unexpected error."),
    ],
)
