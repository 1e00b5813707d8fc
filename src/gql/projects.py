"""Projects: the tenant root of every other object."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.errors import Forbidden
from outboundql.gql.accounts.queries import resolve_accounts
from outboundql.gql.audit import AuditEventConnection, AuditEventFilter, resolve_audit_events, to_filter
from outboundql.gql.base import ProjectNode, mutation
from outboundql.gql.campaigns import Campaign, resolve_campaigns
from outboundql.gql.channels import ChannelConfigType, project_channels
from outboundql.gql.context import Info
from outboundql.gql.enums import Role
from outboundql.gql.errors import ArgumentErrors, UserError
from outboundql.gql.guardrails import GuardrailExplanation, GuardrailOverrides, explain
from outboundql.gql.idempotency import idempotency_key, replayed
from outboundql.gql.imports import ImportJobConnection, resolve_import_jobs
from outboundql.gql.markets import Market
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.permissions import IsAuthenticated
from outboundql.gql.products import Product
from outboundql.gql.saved_filters import SavedFilter
from outboundql.gql.stats import ProjectStats, project_stats
from outboundql.gql.suppressions import SuppressionConnection, SuppressionKind, resolve_suppressions
from outboundql.gql.teams import Invitation
from outboundql.gql.users import User
from outboundql.gql.webhooks import WebhookEndpoint, project_webhook_endpoints
from outboundql.services import invitations, markets, products, reply_mail, saved_filters
from outboundql.services import projects as projects_service

if TYPE_CHECKING:
    from outboundql.gql.accounts import AccountConnection, AccountFilter, AccountOrder
    from outboundql.gql.campaigns import CampaignConnection, CampaignFilter, CampaignOrder

_accounts = "outboundql.gql.accounts"
AccountConnectionRef = Annotated["AccountConnection", strawberry.lazy(_accounts)]
AccountFilterRef = Annotated["AccountFilter", strawberry.lazy(_accounts)]
AccountOrderRef = Annotated["AccountOrder", strawberry.lazy(_accounts)]
_campaigns = "outboundql.gql.campaigns"
CampaignConnectionRef = Annotated["CampaignConnection", strawberry.lazy(_campaigns)]
CampaignFilterRef = Annotated["CampaignFilter", strawberry.lazy(_campaigns)]
CampaignOrderRef = Annotated["CampaignOrder", strawberry.lazy(_campaigns)]


@strawberry.type(description="A tenant: a team's products, accounts and campaigns. Nothing crosses projects.")
class Project(ProjectNode):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="Unique site-wide; used in URLs.")
    description: str
    archived_at: datetime | None
    created_at: datetime
    row: strawberry.Private[models.Project]
    node_model = models.Project
    node_project_field = "id"

    @strawberry.field(description="Your role in this project.")
    def viewer_role(self, info: Info) -> Role:
        return info.context.access.require(self.row.id)

    @strawberry.field(description="The address replies to the project's mails are received at (by `outboundql "
                      "mail-in`): name it as the e-mail channel's `replyTo`, or forward replies to it; each is logged "
                      "on the thread it answers and classified. Null for viewers.")
    def reply_address(self, info: Info) -> str | None:
        if info.context.access.roles.get(self.row.id) in (None, Role.VIEWER):
            return None
        return reply_mail.reply_address(self.row.id)

    @strawberry.field(description="Members and their roles, longest-standing first.")
    async def members(self, info: Info) -> list[ProjectMember]:
        rows = await projects_service.project_members(self.row.id)
        return [ProjectMember(role=r.role, joined_at=r.created_at, user_row=r.user) for r in rows]

    @strawberry.field(description="Invitations, newest first: pending ones, or all with includeClosed (accepted, "
                      "revoked, expired). Admins only (FORBIDDEN otherwise).")
    async def invitations(self, info: Info, include_closed: bool = False) -> list[Invitation]:
        role = info.context.access.require(self.row.id)
        if role.rank < enums.Role.ADMIN.rank:
            raise Forbidden(f"Your role in this project is {role.value}; invitations are shown to admins and owners.")
        rows = await invitations.project_invitations(self.row.id, only_pending=not include_closed).limit(200)
        return [Invitation.from_model(r) for r in rows]

    @strawberry.field(description="The audit trail: every change to the project's data, newest first, with who, "
                      "when, from where and what changed; filterable by actor, object, action, source and time. "
                      "Admins only (FORBIDDEN otherwise: it names invited addresses and every member's actions; "
                      "`Campaign.auditEvents` and `Account.auditEvents` are for every member). first/last at most "
                      "OUTBOUNDQL_MAX_PAGE_SIZE (100 by default).")
    async def audit_events(
        self, info: Info, filter: AuditEventFilter | None = None, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> AuditEventConnection:
        role = info.context.access.require(self.row.id)
        if role.rank < enums.Role.ADMIN.rank:
            raise Forbidden(f"Your role in this project is {role.value}; the project's audit trail is shown to admins "
                            "and owners (a campaign's or an account's own trail to every member).")
        return await resolve_audit_events(info, self.row.id, to_filter(filter), first=first, after=after, last=last,
                                          before=before)

    @strawberry.field(description="Products, oldest first; archived ones only when asked.")
    async def products(self, info: Info, include_archived: bool = False) -> list[Product]:
        return [Product.from_model(p) for p in await products.project_products(self.row.id, include_archived)]

    @strawberry.field(description="One product by its slug, or null.")
    async def product(self, info: Info, slug: str) -> Product | None:
        row = await products.product_by_slug(self.row.id, slug)
        return Product.from_model(row) if row else None

    @strawberry.field(description="Accounts of this project, filtered and sorted (default: oldest first); "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    async def accounts(
        self,
        info: Info,
        filter: AccountFilterRef | None = None,
        order_by: AccountOrderRef | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AccountConnectionRef:
        return await resolve_accounts(info, self.row.id, filter, order_by, first, after, last, before)

    @strawberry.field(description="Campaigns of this project, newest first; archived ones only when asked; "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    async def campaigns(
        self, info: Info, filter: CampaignFilterRef | None = None, order_by: CampaignOrderRef | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> CampaignConnectionRef:
        return await resolve_campaigns(info, self.row.id, filter, order_by, first=first, after=after, last=last,
                                       before=before)

    @strawberry.field(description="One campaign by slug (archived ones too), or null.")
    async def campaign(self, info: Info, slug: str) -> Campaign | None:
        row = await projects_service.campaign_by_slug(self.row.id, slug)
        return Campaign.from_model(row) if row else None

    @strawberry.field(description="Files imported into this project, newest first (only those into one campaign with "
                      "`campaignId`); first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default).")
    async def import_jobs(
        self, info: Info, campaign_id: relay.GlobalID | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> ImportJobConnection:
        return await resolve_import_jobs(info, self.row.id, campaign_id, first=first, after=after, last=last,
                                         before=before)

    @strawberry.field(description="The project's suppression list, newest first: `kind` narrows to one kind, "
                      "`search` to values containing the text (case does not matter; a phone number's spaces and "
                      "dashes are ignored); first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default).")
    async def suppressions(
        self, info: Info, kind: SuppressionKind | None = None, search: str | None = None, first: int | None = None,
        after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> SuppressionConnection:
        return await resolve_suppressions(info, self.row.id, kind, search, first=first, after=after, last=last,
                                          before=before)

    @strawberry.field(description="The channels configured for this project, by message channel (a message channel "
                      "with none goes through `log`). Secret values are never returned.")
    async def channels(self, info: Info) -> list[ChannelConfigType]:
        return await project_channels(self.row.id)

    @strawberry.field(description="Markets of this project, by name.")
    async def markets(self, info: Info) -> list[Market]:
        return [Market.from_model(m) for m in await markets.project_markets(self.row.id)]

    @strawberry.field(description="Event webhook endpoints of this project, oldest first (at most 20).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return await project_webhook_endpoints(self.row.id)

    @strawberry.field(description="Saved filters of this project, by name.")
    async def saved_filters(self, info: Info) -> list[SavedFilter]:
        return [SavedFilter.from_model(f) for f in await saved_filters.project_saved_filters(self.row.id)]

    @strawberry.field(description="Dry run of a campaign's guardrails: would these accounts be admitted to a "
                      "campaign of `goal` with these overrides, and why. Changes nothing. At most 1000 ids "
                      "(OUTBOUNDQL_MAX_BULK_ITEMS).", extensions=[ArgumentErrors()])
    async def explain_guardrails(
        self, info: Info, goal: str, account_ids: list[relay.GlobalID], overrides: GuardrailOverrides | None = None
    ) -> GuardrailExplanation:
        return await explain(info, self.row.id, goal, account_ids, overrides)

    @strawberry.field(description="Statistics by campaign, product and market: the funnel, response rate per "
                      "channel, call metrics, customers of the trailing 30 days and what each cost (expenses of "
                      "the window per currency ÷ those customers). Its cost does not grow with the number of "
                      "campaigns.")
    async def stats(self, info: Info, include_archived: bool = True) -> ProjectStats:
        info.context.access.require(self.row.id)
        return await project_stats(self.row.id, include_archived)


@strawberry.type(description="A member of a project.")
class ProjectMember:
    role: Role
    joined_at: datetime = strawberry.field(description="When they became a member.")
    user_row: strawberry.Private[models.User]

    @strawberry.field
    def user(self) -> User:
        return User.from_model(self.user_row)


@strawberry.type
class ProjectConnection(CountedConnection[Project]):
    @classmethod
    def resolve_node(cls, node: models.Project, *, info: Info, **kwargs: object) -> Project:
        return Project.from_model(node)


@strawberry.input
class CreateProjectInput:
    name: str
    description: str = ""
    idempotency_key: str | None = idempotency_key("the first project", scope="user")

    def to_command(self) -> projects_service.CreateProject:
        return projects_service.CreateProject(name=self.name, description=self.description,
                                              idempotency_key=self.idempotency_key)


@strawberry.type
class CreateProjectPayload:
    project: Project | None = None
    replayed: bool = replayed()
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProjectQueries:
    @relay.connection(ProjectConnection, permission_classes=[IsAuthenticated],
                      description="Projects you are a member of, oldest first; "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    def projects(self, info: Info, include_archived: bool = False) -> list[models.Project]:
        return projects_service.visible_projects(info.context.access, include_archived)  # type: ignore[return-value]

    @strawberry.field(permission_classes=[IsAuthenticated], description="A project by slug; null if you are not in it.")
    async def project(self, info: Info, slug: str) -> Project | None:
        row = await projects_service.project_by_slug(info.context.access, slug)
        return Project.from_model(row) if row else None


@strawberry.type
class ProjectMutations:
    @mutation("Create a project; you become its owner.")
    async def create_project(self, info: Info, input: CreateProjectInput) -> CreateProjectPayload:
        result = await projects_service.create_project(info.context.access, input.to_command())
        return CreateProjectPayload(project=Project.from_model(result.project), replayed=result.replayed)
