"""Accounts, their contacts and status history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import enums, models
from outboundql.gql.base import ProjectNode, input_data, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import AccountStatus, Direction, RoleKind, StatusSource
from outboundql.gql.errors import UserError, to_user_error
from outboundql.gql.pagination import CountedConnection
from outboundql.services import account_merge, events
from outboundql.services import accounts as accounts_service

if TYPE_CHECKING:
    from outboundql.gql.messages import MessageConnection
    from outboundql.gql.users import User

UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]
MessageConnectionRef = Annotated["MessageConnection", strawberry.lazy("outboundql.gql.messages")]


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
    do_not_contact: bool
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

    @strawberry.field(description="Who made the change, when a person did.")
    async def changed_by(self, info: Info) -> UserRef | None:
        from outboundql.gql.users import User

        if self.changed_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.changed_by_id)
        return User.from_model(row) if row else None


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
    language: str | None = strawberry.field(description="ISO 639-1; the first choice for generated text.")
    description: str
    phone: str | None = strawberry.field(description="E.164 when it could be parsed.")
    email: str | None
    tags: list[str]
    custom_fields: JSON
    contract_end_date: date | None
    source: str | None
    status: AccountStatus
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Account]
    node_model = models.Account

    @strawberry.field(description="People at this account, oldest first.")
    async def contacts(self, info: Info) -> list[Contact]:
        return [Contact.from_model(c) for c in await info.context.loaders.contacts_by_account_id.load(self.row.id)]

    @strawberry.field(description="Every status this account had, newest first.")
    async def status_history(self, info: Info) -> list[AccountStatusChange]:
        rows = await info.context.loaders.status_changes_by_account_id.load(self.row.id)
        return [
            AccountStatusChange(from_status=r.from_status, to_status=r.to_status, source=r.source, note=r.note,
                                created_at=r.created_at, changed_by_id=r.changed_by_id)
            for r in rows
        ]

    @strawberry.field(description="Every conversation with this account across its campaigns, merged into one "
                      "list, newest first by when each was sent or received (a draft: written); each message "
                      "names its campaign. first/last at most "
                      "OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def messages(self, info: Info, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> MessageConnectionRef:
        from outboundql.gql.messages import resolve_messages
        from outboundql.services.messages import in_thread_order

        qs = models.Message.filter(project_id=self.row.project_id, campaign_account__account_id=self.row.id)
        return await resolve_messages(info, in_thread_order(qs, newest_first=True), first, after, last, before)


@strawberry.type
class AccountConnection(CountedConnection[Account]):
    @classmethod
    def resolve_node(cls, node: models.Account, *, info: Info, **kwargs: Any) -> Account:
        return Account.from_model(node)


@strawberry.input(description="All conditions must hold; lists match any of their values.")
class AccountFilter:
    statuses: list[AccountStatus] | None = None
    countries: list[str] | None = None
    industries: list[str] | None = None
    min_employees: int | None = None
    max_employees: int | None = None
    search: str | None = strawberry.field(default=None, description="Part of the name, domain or city.")
    domain: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.enum
class AccountOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    EMPLOYEE_COUNT = "employee_count"


@strawberry.input
class AccountOrder:
    field: AccountOrderField = AccountOrderField.CREATED_AT
    direction: Direction = Direction.ASC


async def resolve_accounts(
    info: Info, project_id: int, flt: AccountFilter | None, order: AccountOrder | None,
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> AccountConnection:
    info.context.access.require(project_id)
    qs = accounts_service.filter_accounts(models.Account.filter(project_id=project_id),
                                          input_data(flt) if flt else {})
    order = order or AccountOrder()
    sign = "-" if order.direction is Direction.DESC else ""
    qs = qs.order_by(f"{sign}{order.field.value}", f"{sign}id")  # id breaks ties: a stable order
    return await _maybe_await(AccountConnection.resolve_connection(
        qs, info=info, first=first, after=after, last=last, before=before
    ))


async def _maybe_await(value: Any) -> Any:
    import inspect

    return await value if inspect.isawaitable(value) else value


@strawberry.input(description="A contact to create with its account (deduplicated on phone, then e-mail).")
class ContactInput:
    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    linkedin_url: str | None = None
    seniority: str | None = None
    department: str | None = None
    is_decision_maker: bool = False
    role_kind: RoleKind = enums.RoleKind.BUYER
    language: str | None = None
    do_not_contact: bool = False


@strawberry.input(description="An account to create. Only `name` is required.")
class AccountInput:
    name: str
    domain: str | None = None
    website: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    country: str | None = None
    city: str | None = None
    language: str | None = None
    description: str | None = None
    phone: str | None = None
    email: str | None = None
    tags: list[str] | None = None
    custom_fields: JSON | None = None
    contract_end_date: date | None = None
    source: str | None = None
    status: AccountStatus | None = None
    contacts: list[ContactInput] | None = strawberry.field(default=None, description="At most 50.")


@strawberry.input
class CreateAccountInput(AccountInput):
    project_id: relay.GlobalID


@strawberry.enum(description="Which dedupe rule found an existing account.")
class MatchRule(enum.Enum):
    DOMAIN = "domain"
    NAME_CITY = "name_city"
    PHONE = "phone"


@strawberry.type
class CreateAccountPayload:
    account: Account | None = None
    created: bool = strawberry.field(default=False, description="False when merged into an existing duplicate.")
    matched_on: MatchRule | None = None
    merged_fields: list[str] = strawberry.field(default_factory=list,
                                                description="Fields of the duplicate filled in by this request.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; null clears an optional field.")
class UpdateAccountInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    domain: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    industry: str | None = strawberry.UNSET
    employee_count: int | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.UNSET
    contract_end_date: date | None = strawberry.UNSET
    source: str | None = strawberry.UNSET
    status: AccountStatus | None = strawberry.UNSET
    status_note: str | None = strawberry.field(default=strawberry.UNSET,
                                               description="Why the status changed, kept in the history.")


@strawberry.type
class AccountPayload:
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class BulkCreateAccountsInput:
    project_id: relay.GlobalID
    accounts: list[AccountInput] = strawberry.field(description="At most 1000 (OUTBOUNDQL_MAX_BULK_ITEMS).")


@strawberry.type(description="What happened to one item of a bulk create.")
class BulkAccountResult:
    index: int = strawberry.field(description="Position in the input list.")
    account: Account | None
    created: bool
    matched_on: MatchRule | None
    errors: list[UserError]


@strawberry.type
class BulkCreateAccountsPayload:
    results: list[BulkAccountResult] = strawberry.field(default_factory=list)
    created_count: int = 0
    merged_count: int = 0
    failed_count: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class MergeAccountsInput:
    target_id: relay.GlobalID = strawberry.field(description="The account that stays.")
    source_ids: list[relay.GlobalID] = strawberry.field(
        description="Accounts folded into the target, then removed. At most 50.")


@strawberry.input
class UpdateAccountStatusesInput:
    account_ids: list[relay.GlobalID] = strawberry.field(description="At most 1000.")
    status: AccountStatus
    note: str | None = strawberry.field(default=None, description="Why, kept in each account's status history.")


@strawberry.enum(description="What happened to one account of a bulk status update.")
class StatusUpdateOutcome(enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@strawberry.type(description="The outcome for one id of updateAccountStatuses.")
class AccountStatusResult:
    index: int = strawberry.field(description="Position of the id in the input list (its first occurrence).")
    id: relay.GlobalID = strawberry.field(description="The id as given.")
    outcome: StatusUpdateOutcome
    account: Account | None = strawberry.field(description="Null when the id failed.")
    previous_status: AccountStatus | None
    errors: list[UserError]


@strawberry.type
class UpdateAccountStatusesPayload:
    results: list[AccountStatusResult] = strawberry.field(default_factory=list)
    changed_count: int = 0
    unchanged_count: int = 0
    failed_count: int = 0
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Problems with the whole request, then each failed id's error (field `input.accountIds[i]`); "
        "the other ids are changed all the same.",
    )


def _account_pk(gid: relay.GlobalID) -> int | None:
    from outboundql.services.access import parse_id

    return parse_id(gid.node_id) if gid.type_name == "Account" else None


def _upserted_payload(result: accounts_service.Upserted) -> CreateAccountPayload:
    return CreateAccountPayload(
        account=Account.from_model(result.account), created=result.created,
        matched_on=MatchRule(result.matched_on) if result.matched_on else None,
        merged_fields=result.merged_fields,
    )


@strawberry.type
class AccountMutations:
    @mutation("Create an account, or merge it into an existing duplicate (same domain; same normalised "
               "name + city; same phone).")
    async def create_account(self, info: Info, input: CreateAccountInput) -> CreateAccountPayload:
        project_id = pk_of(input.project_id, "Project", "input.projectId")
        result = await accounts_service.create_account(info.context.access, project_id,
                                                       input_data(input, exclude=["project_id"]))
        await events.publish_account_change(project_id, result.account.id, "created" if result.created else "merged")
        return _upserted_payload(result)

    @mutation("Create many accounts at once, deduplicated; a bad item is reported and the rest land.")
    async def bulk_create_accounts(self, info: Info, input: BulkCreateAccountsInput) -> BulkCreateAccountsPayload:
        project_id = pk_of(input.project_id, "Project", "input.projectId")
        results = await accounts_service.bulk_create_accounts(
            info.context.access, project_id, [input_data(a) for a in input.accounts],
            max_items=info.context.settings.max_bulk_items,
        )
        payload = BulkCreateAccountsPayload()
        for r in results:
            up = r.upserted
            payload.results.append(BulkAccountResult(
                index=r.index, account=Account.from_model(up.account) if up else None,
                created=bool(up and up.created),
                matched_on=MatchRule(up.matched_on) if up and up.matched_on else None,
                errors=[to_user_error(i) for i in r.issues],
            ))
            if up is None:
                payload.failed_count += 1
            elif up.created:
                payload.created_count += 1
            else:
                payload.merged_count += 1
        for r in results:
            if r.upserted:
                await events.publish_account_change(project_id, r.upserted.account.id,
                                                    "created" if r.upserted.created else "merged")
        return payload

    @mutation("Change an account's fields. A status change is kept in its history.")
    async def update_account(self, info: Info, input: UpdateAccountInput) -> AccountPayload:
        row = await accounts_service.update_account(info.context.access, pk_of(input.id, "Account", "input.id"),
                                                    input_data(input, exclude=["id"]))
        await events.publish_account_change(row.project_id, row.id, "updated")
        return AccountPayload(account=Account.from_model(row))

    @mutation("Fold duplicates into one account: blanks filled, contacts, history, campaign rows and scores "
               "moved, the duplicates removed. All or nothing.")
    async def merge_accounts(self, info: Info, input: MergeAccountsInput) -> AccountPayload:
        target = pk_of(input.target_id, "Account", "input.targetId")
        sources = [pk_of(g, "Account", f"input.sourceIds[{i}]") for i, g in enumerate(input.source_ids)]
        row = await account_merge.merge_accounts(info.context.access, target, sources)
        await events.publish_account_change(row.project_id, row.id, "merged")
        return AccountPayload(account=Account.from_model(row))

    @mutation("Set the status of many accounts (at most 1000) in one transaction; each id is answered: "
              "changed, unchanged, or failed with why. Every change is kept in the status history (source "
              "MANUAL) and audited.")
    async def update_account_statuses(self, info: Info, input: UpdateAccountStatusesInput
                                      ) -> UpdateAccountStatusesPayload:
        ids = [_account_pk(g) for g in input.account_ids]
        results = await accounts_service.update_statuses(
            info.context.access, ids, enums.AccountStatus(input.status.value), input.note)
        payload = UpdateAccountStatusesPayload()
        for r in results:
            errors = [to_user_error(r.issue)] if r.issue else []
            payload.results.append(AccountStatusResult(
                index=r.index, id=input.account_ids[r.index], outcome=StatusUpdateOutcome(r.outcome),
                account=Account.from_model(r.account) if r.account else None,
                previous_status=r.previous_status, errors=errors,
            ))
            payload.errors += errors
        payload.changed_count = sum(1 for r in results if r.outcome == "changed")
        payload.unchanged_count = sum(1 for r in results if r.outcome == "unchanged")
        payload.failed_count = sum(1 for r in results if r.outcome == "failed")
        for r in results:
            if r.outcome == "changed" and r.account is not None:
                await events.publish_account_change(r.account.project_id, r.account.id, "updated")
        return payload
