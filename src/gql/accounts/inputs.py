"""The account inputs, each turned into its service command by ``to_command()``; the list's filter and order."""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import enums
from outboundql.gql.base import maybe, pk_of, pk_or_none
from outboundql.gql.enums import AccountStatus, Direction, RoleKind
from outboundql.gql.idempotency import idempotency_key
from outboundql.services import account_merge
from outboundql.services import accounts as accounts_service
from outboundql.services import contacts as contacts_service
from outboundql.services.commands import given


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

    def to_query(self) -> accounts_service.AccountQuery:
        return accounts_service.AccountQuery(
            statuses=self.statuses, countries=self.countries, industries=self.industries,
            min_employees=self.min_employees, max_employees=self.max_employees, search=self.search,
            domain=self.domain, created_after=self.created_after, created_before=self.created_before,
        )


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

    def to_order(self) -> accounts_service.AccountOrder:
        return accounts_service.AccountOrder(key=self.field.value, descending=self.direction is Direction.DESC)


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
    time_zone: str | None = strawberry.field(
        default=None, description="IANA time zone name, e.g. Europe/Madrid (any case; stored canonical).")
    do_not_contact: bool = False

    def to_new_contact(self) -> contacts_service.NewContact:
        return contacts_service.NewContact(
            name=self.name, title=self.title, email=self.email, phone=self.phone, linkedin_url=self.linkedin_url,
            seniority=self.seniority, department=self.department, is_decision_maker=self.is_decision_maker,
            role_kind=self.role_kind, language=self.language, time_zone=self.time_zone,
            do_not_contact=self.do_not_contact,
        )


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
    time_zone: str | None = strawberry.field(
        default=None, description="IANA time zone name, e.g. Europe/Madrid (any case; stored canonical).")
    description: str | None = None
    phone: str | None = None
    email: str | None = None
    tags: list[str] | None = None
    custom_fields: JSON | None = None
    contract_end_date: date | None = None
    source: str | None = None
    status: AccountStatus | None = None
    contacts: list[ContactInput] | None = strawberry.field(default=None, description="At most 50.")

    def to_new_account(self) -> accounts_service.NewAccount:
        return accounts_service.NewAccount(
            name=self.name, domain=self.domain, website=self.website, industry=self.industry,
            employee_count=self.employee_count, country=self.country, city=self.city, language=self.language,
            time_zone=self.time_zone, description=self.description, phone=self.phone, email=self.email,
            tags=tuple(self.tags) if self.tags is not None else None, custom_fields=self.custom_fields,
            contract_end_date=self.contract_end_date, source=self.source, status=self.status,
            contacts=tuple(c.to_new_contact() for c in self.contacts or ()),
        )


@strawberry.input
class CreateAccountInput(AccountInput):
    project_id: relay.GlobalID
    idempotency_key: str | None = idempotency_key("the first outcome (the account created or merged into)")

    def to_command(self) -> accounts_service.CreateAccount:
        return accounts_service.CreateAccount(project_id=pk_of(self.project_id, "Project", "project_id"),
                                              idempotency_key=self.idempotency_key, **given(self.to_new_account()))


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
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA time zone name, e.g. Europe/Madrid (any case); null clears it.")
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

    def to_command(self) -> accounts_service.UpdateAccount:
        return accounts_service.UpdateAccount(
            id=pk_of(self.id, "Account", "id"), name=maybe(self.name), domain=maybe(self.domain),
            website=maybe(self.website), industry=maybe(self.industry),
            employee_count=maybe(self.employee_count), country=maybe(self.country), city=maybe(self.city),
            language=maybe(self.language), time_zone=maybe(self.time_zone), description=maybe(self.description),
            phone=maybe(self.phone),
            email=maybe(self.email), tags=maybe(self.tags), custom_fields=maybe(self.custom_fields),
            contract_end_date=maybe(self.contract_end_date), source=maybe(self.source),
            status=maybe(self.status), status_note=maybe(self.status_note),
        )


@strawberry.input
class BulkCreateAccountsInput:
    project_id: relay.GlobalID
    accounts: list[AccountInput] = strawberry.field(description="At most 1000 (OUTBOUNDQL_MAX_BULK_ITEMS).")
    idempotency_key: str | None = idempotency_key("the first outcome of every item")

    def to_command(self) -> accounts_service.BulkCreateAccounts:
        return accounts_service.BulkCreateAccounts(
            project_id=pk_of(self.project_id, "Project", "project_id"),
            accounts=tuple(a.to_new_account() for a in self.accounts), idempotency_key=self.idempotency_key,
        )


@strawberry.input
class MergeAccountsInput:
    target_id: relay.GlobalID = strawberry.field(description="The account that stays.")
    source_ids: list[relay.GlobalID] = strawberry.field(
        description="Accounts folded into the target, then removed. At most 50.")

    def to_command(self) -> account_merge.MergeAccounts:
        return account_merge.MergeAccounts(
            target_id=pk_of(self.target_id, "Account", "target_id"),
            source_ids=tuple(pk_of(g, "Account", f"source_ids[{i}]") for i, g in enumerate(self.source_ids)),
        )


@strawberry.input
class UpdateAccountStatusesInput:
    account_ids: list[relay.GlobalID] = strawberry.field(description="At most 1000.")
    status: AccountStatus
    note: str | None = strawberry.field(default=None, description="Why, kept in each account's status history.")

    def to_command(self) -> accounts_service.UpdateAccountStatuses:
        # An id of another type names no account: it fails NOT_FOUND at its position, like a missing one.
        return accounts_service.UpdateAccountStatuses(
            account_ids=tuple(pk_or_none(g, "Account") for g in self.account_ids), status=self.status,
            note=self.note,
        )


@strawberry.input
class CreateContactInput(ContactInput):
    account_id: relay.GlobalID
    idempotency_key: str | None = idempotency_key("the first outcome (the contact created or merged into)")

    def to_command(self) -> contacts_service.CreateContact:
        return contacts_service.CreateContact(account_id=pk_of(self.account_id, "Account", "account_id"),
                                              idempotency_key=self.idempotency_key, **given(self.to_new_contact()))


@strawberry.input(description="Only the fields given change.")
class UpdateContactInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    linkedin_url: str | None = strawberry.UNSET
    seniority: str | None = strawberry.UNSET
    department: str | None = strawberry.UNSET
    is_decision_maker: bool | None = strawberry.UNSET
    role_kind: RoleKind | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="IANA time zone name, e.g. Europe/Madrid (any case); null clears it.")
    do_not_contact: bool | None = strawberry.UNSET

    def to_command(self) -> contacts_service.UpdateContact:
        return contacts_service.UpdateContact(
            id=pk_of(self.id, "Contact", "id"), name=maybe(self.name), title=maybe(self.title),
            email=maybe(self.email), phone=maybe(self.phone), linkedin_url=maybe(self.linkedin_url),
            seniority=maybe(self.seniority), department=maybe(self.department),
            is_decision_maker=maybe(self.is_decision_maker), role_kind=maybe(self.role_kind),
            language=maybe(self.language), time_zone=maybe(self.time_zone),
            do_not_contact=maybe(self.do_not_contact),
        )
