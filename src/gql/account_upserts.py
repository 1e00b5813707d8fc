"""upsertAccounts: create, update or remove accounts and their contacts by the ids a CRM gave them."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql.gql.accounts import Account
from outboundql.gql.base import maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import AccountStatus, RoleKind
from outboundql.gql.errors import UserError, user_errors
from outboundql.services import account_upserts as service
from outboundql.services import fields

_KEPT = "Left out: left alone; null: cleared."


def _optional(description: str) -> Any:
    """An item field that may be left out (left alone) or null (cleared)."""
    return strawberry.field(default=strawberry.UNSET, description=description)


@strawberry.enum(description="What upsertAccounts does with each item.")
class UpsertMode(enum.Enum):
    UPSERT = strawberry.enum_value(
        service.UpsertMode.UPSERT.value,
        description="Update the account of the external id; else link the same organisation found by dedupe "
        "(domain, name + city, phone); else create it.")
    UPDATE_ONLY = strawberry.enum_value(
        service.UpsertMode.UPDATE_ONLY.value,
        description="Update the account of the external id; never create nor link (missing: NOT_FOUND).")
    REMOVE = strawberry.enum_value(
        service.UpsertMode.REMOVE.value,
        description="Erase the account of the external id, as deleteAccounts does (none, e.g. already removed: "
        "UNCHANGED with a null account).")


@strawberry.enum(description="What happened to one item of upsertAccounts.")
class UpsertResult(enum.Enum):
    CREATED = service.UpsertOutcome.CREATED.value
    UPDATED = service.UpsertOutcome.UPDATED.value
    UNCHANGED = service.UpsertOutcome.UNCHANGED.value
    REMOVED = service.UpsertOutcome.REMOVED.value
    FAILED = service.UpsertOutcome.FAILED.value


@strawberry.input(description=f"A contact of the record, matched by its external id within the account, else by "
                  f"phone then e-mail there (and linked), else created (`name` needed). {_KEPT}")
class UpsertContactItemInput:
    external_id: str = strawberry.field(description="The contact's id in the source; unique in the project.")
    name: str | None = _optional("The person's full name; needed to create, cannot be cleared.")
    title: str | None = _optional("Job title.")
    email: str | None = _optional("E-mail address; one on the project's suppression list fails the item.")
    phone: str | None = _optional("Phone number, stored E.164 when it can be parsed; a suppressed one fails the item.")
    linkedin_url: str | None = _optional("LinkedIn profile URL.")
    seniority: str | None = _optional("Seniority, e.g. Director.")
    department: str | None = _optional("Department, e.g. Marketing.")
    is_decision_maker: bool | None = _optional("Whether the person decides on a purchase; cannot be cleared.")
    role_kind: RoleKind | None = _optional("The person's part in a purchase; cannot be cleared.")
    language: str | None = _optional("BCP 47 language tag, e.g. es or pt-BR.")
    time_zone: str | None = _optional("IANA time zone name, e.g. Europe/Madrid (any case).")
    do_not_contact: bool | None = _optional("Never contact this person; cannot be cleared.")

    def to_item(self) -> service.ContactItem:
        return service.ContactItem(
            external_id=self.external_id, name=maybe(self.name), title=maybe(self.title), email=maybe(self.email),
            phone=maybe(self.phone), linkedin_url=maybe(self.linkedin_url), seniority=maybe(self.seniority),
            department=maybe(self.department), is_decision_maker=maybe(self.is_decision_maker),
            role_kind=maybe(self.role_kind), language=maybe(self.language), time_zone=maybe(self.time_zone),
            do_not_contact=maybe(self.do_not_contact))


@strawberry.input(description=f"One record of the source: the fields of CreateAccountInput, each optional. A field "
                  f"given replaces the stored value. {_KEPT} `name` is needed to create.")
class UpsertAccountItemInput:
    external_id: str = strawberry.field(description="The record's id in the source; unique per source and project.")
    name: str | None = _optional("The organisation's name; needed to create, cannot be cleared.")
    domain: str | None = _optional("Its web domain, normalised; a new account with a suppressed domain fails.")
    website: str | None = _optional("Its website; gives the domain when the account has none.")
    industry: str | None = _optional("Industry, free text.")
    employee_count: int | None = _optional("Number of employees.")
    country: str | None = _optional("ISO 3166-1 alpha-2 country code, e.g. ES.")
    city: str | None = _optional("City.")
    language: str | None = _optional("BCP 47 language tag, e.g. es or pt-BR.")
    time_zone: str | None = _optional("IANA time zone name, e.g. Europe/Madrid (any case).")
    description: str | None = _optional("What the organisation does, in a few sentences.")
    phone: str | None = _optional("The organisation's phone number, stored E.164 when it can be parsed.")
    email: str | None = _optional("The organisation's general e-mail address.")
    tags: list[str] | None = _optional("Tags; the list given replaces the stored one.")
    custom_fields: JSON | None = _optional("A JSON object of the project's own fields; replaces the stored one.")
    contract_end_date: date | None = _optional("When the organisation's current contract ends.")
    status: AccountStatus | None = _optional("The account's status; a change is kept in its history.")
    contacts: list[UpsertContactItemInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="At most 50; contacts of the account not listed are left alone (never deleted).")

    def to_item(self) -> service.AccountItem:
        return service.AccountItem(
            external_id=self.external_id, name=maybe(self.name), domain=maybe(self.domain),
            website=maybe(self.website), industry=maybe(self.industry), employee_count=maybe(self.employee_count),
            country=maybe(self.country), city=maybe(self.city), language=maybe(self.language),
            time_zone=maybe(self.time_zone), description=maybe(self.description), phone=maybe(self.phone),
            email=maybe(self.email), tags=maybe(self.tags, tuple), custom_fields=maybe(self.custom_fields),
            contract_end_date=maybe(self.contract_end_date), status=maybe(self.status),
            contacts=tuple(c.to_item() for c in self.contacts or ()))


@strawberry.input(description="The records of one source to create, update or remove, and how.")
class UpsertAccountsInput:
    project_id: relay.GlobalID = strawberry.field(description="The project the accounts belong to.")
    source: str = strawberry.field(description="The system the external ids belong to, e.g. `hubspot`.")
    mode: UpsertMode = strawberry.field(default=UpsertMode.UPSERT,
                                        description="What to do with every item; UPSERT when left out.")
    items: list[UpsertAccountItemInput] = strawberry.field(
        description="At most OUTBOUNDQL_MAX_BULK_ITEMS (1000); each external id once.")

    def to_command(self) -> service.UpsertAccounts:
        return service.UpsertAccounts(
            project_id=pk_of(self.project_id, "Project", "project_id"), source=self.source,
            mode=service.UpsertMode[self.mode.name], items=tuple(i.to_item() for i in self.items))


@strawberry.type(description="What happened to one item of upsertAccounts.")
class UpsertAccountResult:
    index: int = strawberry.field(description="Position in the input list.")
    external_id: str | None = strawberry.field(description="The item's external id, as stored.")
    result: UpsertResult = strawberry.field(description="What happened to it.")
    account: Account | None = strawberry.field(description="Null when removed or failed.")
    changed_fields: list[str] = strawberry.field(
        description="Fields of the account this item changed (`contacts` when only its contacts did).")
    errors: list[UserError] = strawberry.field(description="Why it failed (`input.items[i]…`); empty otherwise.")


@strawberry.type(description="The answer of upsertAccounts: one result per item, and the counts of each outcome.")
class UpsertAccountsPayload:
    results: list[UpsertAccountResult] = strawberry.field(default_factory=list, description="In input order.")
    created_count: int = strawberry.field(default=0, description="Items that created an account.")
    updated_count: int = strawberry.field(default=0, description="Items that changed or linked an account.")
    unchanged_count: int = strawberry.field(default=0, description="Items with nothing to write.")
    removed_count: int = strawberry.field(default=0, description="Items whose account was erased.")
    failed_count: int = strawberry.field(default=0, description="Items that failed (see their errors).")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Problems with the whole request, then each failed item's errors (`input.items[i]…`); the other "
        "items land all the same.")


@strawberry.type
class AccountUpsertMutations:
    @mutation("Keep accounts in step with a CRM: create, update or remove them (and upsert their contacts) by the "
              "(source, externalId) the CRM gave them, answering each item. Idempotent: the same call again answers "
              "UNCHANGED everywhere and writes nothing.")
    async def upsert_accounts(self, info: Info, input: UpsertAccountsInput) -> UpsertAccountsPayload:
        result = await service.upsert_accounts(info.context.access, input.to_command(),
                                               max_items=info.context.settings.max_bulk_items)
        payload = UpsertAccountsPayload(
            created_count=result.count(service.UpsertOutcome.CREATED),
            updated_count=result.count(service.UpsertOutcome.UPDATED),
            unchanged_count=result.count(service.UpsertOutcome.UNCHANGED),
            removed_count=result.count(service.UpsertOutcome.REMOVED),
            failed_count=result.count(service.UpsertOutcome.FAILED))
        for r in result.results:
            errors = user_errors(info, list(r.issues))
            payload.results.append(UpsertAccountResult(
                index=r.index, external_id=r.external_id, result=UpsertResult(r.outcome.value),
                account=Account.from_model(r.account) if r.account else None,
                changed_fields=[fields.camel(f) for f in r.changed_fields], errors=errors))
            payload.errors += errors
        return payload
