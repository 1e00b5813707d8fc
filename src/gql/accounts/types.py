"""The account types: Account, its contacts and status history, and the account list."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import ProjectNode, lazy_class
from outboundql.gql.context import Info
from outboundql.gql.enums import AccountStatus, RoleKind, StatusSource
from outboundql.gql.expenses import ApiUsageSummary
from outboundql.gql.pagination import CountedConnection
from outboundql.services import accounts as accounts_service

if TYPE_CHECKING:
    from outboundql.gql.audit import AuditEventConnection, AuditTrailFilter
    from outboundql.gql.messages import MessageConnection
    from outboundql.gql.users import User

UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]
AuditEventConnectionRef = Annotated["AuditEventConnection", strawberry.lazy("outboundql.gql.audit")]
AuditTrailFilterRef = Annotated["AuditTrailFilter", strawberry.lazy("outboundql.gql.audit")]
MessageConnectionRef = Annotated["MessageConnection", strawberry.lazy("outboundql.gql.messages")]

TIME_ZONE_HELP = ("IANA time zone; outreach windows in recipient-local time use the contact's, else the account's, "
                  "else one of the account's country.")


@strawberry.type(description="A person at an account.")
class Contact(ProjectNode):
    id: relay.NodeID[int]
    name: str
    title: str | None
    email: str | None
    phone: str | None = strawberry.field(description="E.164 when it could be parsed.")
    linkedin_url: str | None
    seniority: str | None
    department: str | None
    is_decision_maker: bool
    role_kind: RoleKind
    language: str | None
    time_zone: str | None = strawberry.field(description=TIME_ZONE_HELP)
    do_not_contact: bool
    source: str | None = strawberry.field(description="The system the contact was synced from (see `externalId`).")
    external_id: str | None = strawberry.field(
        description="The contact's id in `source`, unique per project and source (upsertAccounts keys on it).")
    created_at: datetime
    row: strawberry.Private[models.Contact]
    node_model = models.Contact

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return Account.from_model(await info.context.loaders.account_by_id.load(self.row.account_id))


@strawberry.type(description="One move of an account's status.")
class AccountStatusChange:
    from_status: AccountStatus | None = strawberry.field(description="Null for the status at creation.")
    to_status: AccountStatus
    source: StatusSource
    note: str
    created_at: datetime
    changed_by_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.AccountStatusChange) -> AccountStatusChange:
        return cls(from_status=row.from_status, to_status=row.to_status, source=row.source, note=row.note,
                   created_at=row.created_at, changed_by_id=row.changed_by_id)

    @strawberry.field(description="Who made the change, when a person did.")
    async def changed_by(self, info: Info) -> UserRef | None:
        if self.changed_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.changed_by_id)
        return lazy_class(UserRef).from_model(row) if row else None


@strawberry.type(description="An organisation: company, publication, podcast, venue…")
class Account(ProjectNode):
    id: relay.NodeID[int]
    name: str
    domain: str | None = strawberry.field(description="Normalised: no scheme, no `www.`, lowercase.")
    website: str | None
    industry: str | None
    employee_count: int | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2.")
    city: str | None
    language: str | None = strawberry.field(
        description="BCP 47 language tag (e.g. es, pt-BR); the first choice for generated text.")
    time_zone: str | None = strawberry.field(description=TIME_ZONE_HELP)
    description: str
    phone: str | None = strawberry.field(description="E.164 when it could be parsed.")
    email: str | None
    tags: list[str]
    custom_fields: JSON
    contract_end_date: date | None
    source: str | None
    external_id: str | None = strawberry.field(
        description="The account's id in `source` (a CRM), unique per project and source (upsertAccounts keys on "
        "it).")
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Account]
    node_model = models.Account

    @strawberry.field(description="People at this account, oldest first.")
    async def contacts(self, info: Info) -> list[Contact]:
        return [Contact.from_model(c) for c in await info.context.loaders.contacts_by_account_id.load(self.row.id)]

    @strawberry.field(description="What paid API calls (LLM, enrichment) about this account cost, in USD, by "
                      "model: a call about several accounts at once (a scoring batch, replies read together) "
                      "counts for each of them with an equal share of its cost and units; a call about this "
                      "account alone (a draft) counts whole. Across its campaigns; a project's or campaign's "
                      "usage counts each call once.")
    async def api_usage(self, info: Info) -> ApiUsageSummary:
        return ApiUsageSummary.from_summary(await info.context.loaders.api_usage_by_account_id.load(self.row.id))

    @strawberry.field(description="Every status this account had, newest first.")
    async def status_history(self, info: Info) -> list[AccountStatusChange]:
        rows = await info.context.loaders.status_changes_by_account_id.load(self.row.id)
        return [AccountStatusChange.from_model(r) for r in rows]

    @strawberry.field(description="The audit trail of this account and its contacts, newest first: who changed "
                      "what, when and from where. first/last at most OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def audit_events(self, info: Info, filter: AuditTrailFilterRef | None = None, first: int | None = None,
                           after: str | None = None, last: int | None = None, before: str | None = None,
                           ) -> AuditEventConnectionRef:
        from outboundql.gql.audit import resolve_audit_events, to_filter
        from outboundql.services.audit_trail import account_objects

        flt = to_filter(filter, await account_objects(self.row.id))
        return await resolve_audit_events(info, self.row.project_id, flt, first=first, after=after, last=last,
                                          before=before)

    @strawberry.field(description="Every conversation with this account across its campaigns, merged into one "
                      "list, newest first by when each was sent or received (a draft: written); each message "
                      "names its campaign. first/last at most "
                      "OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def messages(self, info: Info, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> MessageConnectionRef:
        connection: type[MessageConnection] = lazy_class(MessageConnectionRef)
        return await connection.page(accounts_service.account_messages(self.row), info, first=first, after=after,
                                     last=last, before=before)


@strawberry.type
class AccountConnection(CountedConnection[Account]):
    @classmethod
    def resolve_node(cls, node: models.Account, *, info: Info, **kwargs: Any) -> Account:
        return Account.from_model(node)
