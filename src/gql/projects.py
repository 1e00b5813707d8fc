"""Projects: the tenant root of every other object."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.gql.base import ProjectNode, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import Role
from outboundql.gql.errors import UserError
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import projects as projects_service

if TYPE_CHECKING:
    from outboundql.gql.accounts import AccountConnection, AccountFilter, AccountOrder
    from outboundql.gql.campaigns import Campaign, CampaignConnection, CampaignFilter, CampaignOrder
    from outboundql.gql.guardrails import GuardrailExplanation, GuardrailOverrides
    from outboundql.gql.markets import Market
    from outboundql.gql.products import Product
    from outboundql.gql.saved_filters import SavedFilter
    from outboundql.gql.stats import ProjectStats
    from outboundql.gql.users import User

_accounts = "outboundql.gql.accounts"
ProductRef = Annotated["Product", strawberry.lazy("outboundql.gql.products")]
UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]
AccountConnectionRef = Annotated["AccountConnection", strawberry.lazy(_accounts)]
AccountFilterRef = Annotated["AccountFilter", strawberry.lazy(_accounts)]
AccountOrderRef = Annotated["AccountOrder", strawberry.lazy(_accounts)]
_campaigns = "outboundql.gql.campaigns"
CampaignRef = Annotated["Campaign", strawberry.lazy(_campaigns)]
CampaignConnectionRef = Annotated["CampaignConnection", strawberry.lazy(_campaigns)]
CampaignFilterRef = Annotated["CampaignFilter", strawberry.lazy(_campaigns)]
CampaignOrderRef = Annotated["CampaignOrder", strawberry.lazy(_campaigns)]
MarketRef = Annotated["Market", strawberry.lazy("outboundql.gql.markets")]
SavedFilterRef = Annotated["SavedFilter", strawberry.lazy("outboundql.gql.saved_filters")]
GuardrailOverridesRef = Annotated["GuardrailOverrides", strawberry.lazy("outboundql.gql.guardrails")]
ProjectStatsRef = Annotated["ProjectStats", strawberry.lazy("outboundql.gql.stats")]
GuardrailExplanationRef = Annotated["GuardrailExplanation", strawberry.lazy("outboundql.gql.guardrails")]


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

    @strawberry.field(description="Members and their roles.")
    async def members(self, info: Info) -> list[ProjectMember]:
        rows = await models.Membership.filter(project_id=self.row.id).select_related("user").order_by("id")
        return [ProjectMember(role=r.role, user_row=r.user) for r in rows]

    @strawberry.field(description="Products, oldest first; archived ones only when asked.")
    async def products(self, info: Info, include_archived: bool = False) -> list[ProductRef]:
        from outboundql.gql.products import Product

        qs = models.Product.filter(project_id=self.row.id)
        if not include_archived:
            qs = qs.filter(archived_at__isnull=True)
        return [Product.from_model(p) for p in await qs.order_by("id")]

    @strawberry.field(description="One product by its slug, or null.")
    async def product(self, info: Info, slug: str) -> ProductRef | None:
        from outboundql.gql.products import Product

        row = await models.Product.filter(project_id=self.row.id, slug=slug).first()
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
        from outboundql.gql.accounts import resolve_accounts

        return await resolve_accounts(info, self.row.id, filter, order_by, first, after, last, before)

    @strawberry.field(description="Campaigns of this project, newest first; archived ones only when asked; "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    async def campaigns(
        self, info: Info, filter: CampaignFilterRef | None = None, order_by: CampaignOrderRef | None = None,
        first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None,
    ) -> CampaignConnectionRef:
        from outboundql.gql.campaigns import resolve_campaigns

        return await resolve_campaigns(info, self.row.id, filter, order_by, first=first, after=after, last=last,
                                       before=before)

    @strawberry.field(description="One campaign by slug (archived ones too), or null.")
    async def campaign(self, info: Info, slug: str) -> CampaignRef | None:
        from outboundql.gql.campaigns import Campaign

        row = await models.Campaign.filter(project_id=self.row.id, slug=slug).first()
        return Campaign.from_model(row) if row else None

    @strawberry.field(description="Markets of this project, by name.")
    async def markets(self, info: Info) -> list[MarketRef]:
        from outboundql.gql.markets import Market

        return [Market.from_model(m) for m in await models.Market.filter(project_id=self.row.id).order_by("name")]

    @strawberry.field(description="Saved filters of this project, by name.")
    async def saved_filters(self, info: Info) -> list[SavedFilterRef]:
        from outboundql.gql.saved_filters import SavedFilter

        rows = await models.SavedFilter.filter(project_id=self.row.id).order_by("name", "id")
        return [SavedFilter.from_model(f) for f in rows]

    @strawberry.field(description="Dry run of a campaign's guardrails: would these accounts be admitted to a "
                      "campaign of `goal` with these overrides, and why. Changes nothing. At most 1000 ids "
                      "(OUTBOUNDQL_MAX_BULK_ITEMS).")
    async def explain_guardrails(
        self, info: Info, goal: str, account_ids: list[relay.GlobalID], overrides: GuardrailOverridesRef | None = None
    ) -> GuardrailExplanationRef:
        from outboundql.gql.guardrails import explain

        return await explain(info, self.row.id, goal, account_ids, overrides)

    @strawberry.field(description="Statistics by campaign, product and market: the funnel, response rate per "
                      "channel, call metrics and customers of the trailing 30 days. Its cost does not grow with "
                      "the number of campaigns.")
    async def stats(self, info: Info, include_archived: bool = True) -> ProjectStatsRef:
        from outboundql.gql.stats import project_stats

        info.context.access.require(self.row.id)
        return await project_stats(self.row.id, include_archived)


@strawberry.type(description="A member of a project.")
class ProjectMember:
    role: Role
    user_row: strawberry.Private[models.User]

    @strawberry.field
    def user(self) -> UserRef:
        from outboundql.gql.users import User

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


@strawberry.type
class CreateProjectPayload:
    project: Project | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddProjectMemberInput:
    project_id: relay.GlobalID
    email: str = strawberry.field(description="E-mail of an existing user.")
    role: Role = enums.Role.MEMBER


@strawberry.type
class AddProjectMemberPayload:
    project: Project | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProjectQueries:
    @relay.connection(ProjectConnection, permission_classes=[IsAuthenticated],
                      description="Projects you are a member of, oldest first; "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    def projects(self, info: Info, include_archived: bool = False) -> list[models.Project]:
        qs = info.context.access.scope(models.Project.all(), "id")
        if not include_archived:
            qs = qs.filter(archived_at__isnull=True)
        return qs.order_by("id")  # type: ignore[return-value]

    @strawberry.field(permission_classes=[IsAuthenticated], description="A project by slug; null if you are not in it.")
    async def project(self, info: Info, slug: str) -> Project | None:
        row = await info.context.access.scope(models.Project.filter(slug=slug), "id").first()
        return Project.from_model(row) if row else None


@strawberry.type
class ProjectMutations:
    @mutation("Create a project; you become its owner.")
    async def create_project(self, info: Info, input: CreateProjectInput) -> CreateProjectPayload:
        row = await projects_service.create_project(info.context.access.user, input.name, input.description)
        info.context.access.roles[row.id] = enums.Role.OWNER
        return CreateProjectPayload(project=Project.from_model(row))

    @mutation("Add an existing user to a project (admins add members and viewers; "
              "owners add anyone).")
    async def add_project_member(self, info: Info, input: AddProjectMemberInput) -> AddProjectMemberPayload:
        project_id = pk_of(input.project_id, "Project", "input.projectId")
        await projects_service.add_member(info.context.access, project_id, input.email, input.role)
        return AddProjectMemberPayload(project=Project.from_model(await models.Project.get(id=project_id)))
