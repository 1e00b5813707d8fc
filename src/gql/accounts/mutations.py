"""Account and contact mutations: each turns its input into a command, calls the service and builds the
payload from the service's result."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from outboundql.gql.accounts.inputs import (
    BulkCreateAccountsInput,
    CreateAccountInput,
    CreateContactInput,
    MergeAccountsInput,
    UpdateAccountInput,
    UpdateAccountStatusesInput,
    UpdateContactInput,
)
from outboundql.gql.accounts.types import Account, Contact
from outboundql.gql.base import mutation
from outboundql.gql.context import Info
from outboundql.gql.enums import AccountStatus
from outboundql.gql.errors import UserError, user_errors
from outboundql.gql.idempotency import replayed
from outboundql.services import account_merge
from outboundql.services import accounts as accounts_service
from outboundql.services import contacts as contacts_service


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
    replayed: bool = replayed()
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def from_result(cls, result: accounts_service.Upserted) -> CreateAccountPayload:
        return cls(account=Account.from_model(result.account), created=result.created,
                   matched_on=MatchRule(result.matched_on) if result.matched_on else None,
                   merged_fields=list(result.merged_fields), replayed=result.replayed)


@strawberry.type
class AccountPayload:
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What happened to one item of a bulk create.")
class BulkAccountResult:
    index: int = strawberry.field(description="Position in the input list.")
    account: Account | None
    created: bool
    matched_on: MatchRule | None
    errors: list[UserError]

    @classmethod
    def from_item(cls, info: Info, item: accounts_service.BulkItem) -> BulkAccountResult:
        up = item.upserted
        return cls(index=item.index, account=Account.from_model(up.account) if up else None,
                   created=bool(up and up.created),
                   matched_on=MatchRule(up.matched_on) if up and up.matched_on else None,
                   errors=user_errors(info, list(item.issues)))


@strawberry.type
class BulkCreateAccountsPayload:
    results: list[BulkAccountResult] = strawberry.field(default_factory=list)
    created_count: int = 0
    merged_count: int = 0
    failed_count: int = 0
    replayed: bool = replayed()
    errors: list[UserError] = strawberry.field(default_factory=list)


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


@strawberry.type
class CreateContactPayload:
    contact: Contact | None = None
    created: bool = strawberry.field(default=False, description="False when merged into a duplicate.")
    replayed: bool = replayed()
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountMutations:
    @mutation("Create an account, or merge it into an existing duplicate (same domain; same normalised "
               "name + city; same phone).")
    async def create_account(self, info: Info, input: CreateAccountInput) -> CreateAccountPayload:
        result = await accounts_service.create_account(info.context.access, input.to_command())
        return CreateAccountPayload.from_result(result)

    @mutation("Create many accounts at once, deduplicated; a bad item is reported and the rest land.")
    async def bulk_create_accounts(self, info: Info, input: BulkCreateAccountsInput) -> BulkCreateAccountsPayload:
        result = await accounts_service.bulk_create_accounts(
            info.context.access, input.to_command(), max_items=info.context.settings.max_bulk_items)
        return BulkCreateAccountsPayload(
            results=[BulkAccountResult.from_item(info, item) for item in result.items],
            created_count=result.created_count, merged_count=result.merged_count, failed_count=result.failed_count,
            replayed=result.replayed,
        )

    @mutation("Change an account's fields. A status change is kept in its history.")
    async def update_account(self, info: Info, input: UpdateAccountInput) -> AccountPayload:
        result = await accounts_service.update_account(info.context.access, input.to_command())
        return AccountPayload(account=Account.from_model(result.account))

    @mutation("Fold duplicates into one account: blanks filled, contacts, history, campaign rows and scores "
               "moved, the duplicates removed. All or nothing.")
    async def merge_accounts(self, info: Info, input: MergeAccountsInput) -> AccountPayload:
        result = await account_merge.merge_accounts(info.context.access, input.to_command())
        return AccountPayload(account=Account.from_model(result.account))

    @mutation("Set the status of many accounts (at most 1000) in one transaction; each id is answered: "
              "changed, unchanged, or failed with why. Every change is kept in the status history (source "
              "MANUAL) and audited.")
    async def update_account_statuses(self, info: Info, input: UpdateAccountStatusesInput
                                      ) -> UpdateAccountStatusesPayload:
        result = await accounts_service.update_statuses(info.context.access, input.to_command())
        payload = UpdateAccountStatusesPayload(changed_count=result.count("changed"),
                                               unchanged_count=result.count("unchanged"),
                                               failed_count=result.count("failed"))
        for r in result.results:
            errors = user_errors(info, [r.issue]) if r.issue else []
            payload.results.append(AccountStatusResult(
                index=r.index, id=input.account_ids[r.index], outcome=StatusUpdateOutcome(r.outcome),
                account=Account.from_model(r.account) if r.account else None,
                previous_status=r.previous_status, errors=errors,
            ))
            payload.errors += errors
        return payload


@strawberry.type
class ContactMutations:
    @mutation("Add a contact to an account, or fill the blanks of the same person (same phone, then e-mail).")
    async def create_contact(self, info: Info, input: CreateContactInput) -> CreateContactPayload:
        result = await contacts_service.create_contact(info.context.access, input.to_command())
        return CreateContactPayload(contact=Contact.from_model(result.contact), created=result.created,
                                    replayed=result.replayed)

    @mutation("Change a contact's fields.")
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        result = await contacts_service.update_contact(info.context.access, input.to_command())
        return ContactPayload(contact=Contact.from_model(result.contact))
