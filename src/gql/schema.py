"""The schema: per-domain query, mutation and subscription classes composed by inheritance."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from outboundql import tracing
from outboundql.gql.account_upserts import AccountUpsertMutations
from outboundql.gql.accounts import AccountMutations, AccountSubscriptions, ContactMutations
from outboundql.gql.audiences import AudienceMutations
from outboundql.gql.cadence import CadenceMutations
from outboundql.gql.campaign_account_updates import CampaignAccountUpdateMutations
from outboundql.gql.campaign_accounts import CampaignAccountMutations, CampaignAccountQueries
from outboundql.gql.campaign_removal import CampaignRemovalMutations
from outboundql.gql.campaigns import CampaignMutations
from outboundql.gql.channels import ChannelMutations, ChannelQueries
from outboundql.gql.erasure import ErasureMutations
from outboundql.gql.errors import CodedErrors, is_unexpected
from outboundql.gql.execution import ExecutionMutations
from outboundql.gql.expenses import ExpenseMutations
from outboundql.gql.exports import ExportMutations
from outboundql.gql.external_scores import ExternalScoreMutations
from outboundql.gql.goals import GoalQueries
from outboundql.gql.import_mail import ImportMailMutations
from outboundql.gql.imports import ImportMutations, ImportQueries, ImportSubscriptions
from outboundql.gql.limits import QueryLimits
from outboundql.gql.low_fit import LowFitMutations
from outboundql.gql.markets import MarketMutations
from outboundql.gql.messages import MessageMutations
from outboundql.gql.nodes import NodeQueries
from outboundql.gql.operation_metrics import OperationMetrics
from outboundql.gql.operation_name import RequireOperationName
from outboundql.gql.products import ProductMutations
from outboundql.gql.project_lifecycle import ProjectLifecycleMutations
from outboundql.gql.projects import ProjectMutations, ProjectQueries
from outboundql.gql.query_cost import QueryCost
from outboundql.gql.reply_classes import ReplyClassMutations, ReplyClassQueries
from outboundql.gql.saved_filters import SavedFilterMutations
from outboundql.gql.schema_docs import document as document_schema
from outboundql.gql.scoring import ScorerQueries, ScoringMutations, ScoringSubscriptions
from outboundql.gql.signals import SignalMutations
from outboundql.gql.suppressions import SuppressionMutations
from outboundql.gql.teams import TeamMutations
from outboundql.gql.users import UserMutations, UserQueries
from outboundql.gql.webhooks import WebhookMutations, WebhookQueries


@strawberry.type
class Query(UserQueries, ProjectQueries, GoalQueries, CampaignAccountQueries, ImportQueries, WebhookQueries,
            ChannelQueries, ReplyClassQueries, ScorerQueries, NodeQueries):
    pass


@strawberry.type
class Mutation(
    ImportMutations,
    UserMutations, ProjectMutations, ProductMutations, AccountMutations, ContactMutations, CampaignMutations,
    ProjectLifecycleMutations, TeamMutations,
    CampaignAccountMutations, CampaignAccountUpdateMutations, CampaignRemovalMutations, ErasureMutations,
    LowFitMutations, SavedFilterMutations, MarketMutations, ScoringMutations,
    MessageMutations, ExpenseMutations, CadenceMutations, ExecutionMutations, ExternalScoreMutations,
    AccountUpsertMutations,
    ChannelMutations,
    ExportMutations,
    ImportMailMutations,
    SuppressionMutations,
    WebhookMutations,
    ReplyClassMutations,
    SignalMutations,
    AudienceMutations,
):
    pass


@strawberry.type
class Subscription(AccountSubscriptions, ScoringSubscriptions, ImportSubscriptions):
    pass


class RecheckWebsocketAuth(SchemaExtension):
    """A websocket carries many operations over hours: check its token and roles again before each one."""

    async def on_operation(self):  # type: ignore[no-untyped-def]
        recheck = getattr(self.execution_context.context, "recheck", None)
        if recheck is not None:
            await recheck()
        yield


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
        *tracing.schema_extensions(),  # OpenTelemetry spans, when the OTEL_* variables ask for them
        OperationMetrics,  # first: times the whole operation and sees the final error codes
        RecheckWebsocketAuth,
        QueryLimits,  # parses (with a cache) under the token limit; adds the depth and alias rules
        RequireOperationName,  # several operations need an operationName (strawberry would run the first)
        ValidationCache,
        QueryCost,  # refuses costly operations before they run; spends rate-limit points
        CodedErrors,
    ],
)
document_schema(schema._schema)  # every enum value and the standard arguments described (schema_docs)
