"""Accounts, their contacts and status history: types, inputs, mutations, the project's account list
and the live account events. The names other modules import (and `strawberry.lazy("outboundql.gql.accounts")`
annotations name) are re-exported here."""

from outboundql.gql.accounts.inputs import (
    AccountFilter,
    AccountInput,
    AccountOrder,
    AccountOrderField,
    BulkCreateAccountsInput,
    ContactInput,
    CreateAccountInput,
    CreateContactInput,
    MergeAccountsInput,
    UpdateAccountInput,
    UpdateAccountStatusesInput,
    UpdateContactInput,
)
from outboundql.gql.accounts.mutations import (
    AccountMutations,
    AccountPayload,
    AccountStatusResult,
    BulkAccountResult,
    BulkCreateAccountsPayload,
    ContactMutations,
    ContactPayload,
    CreateAccountPayload,
    CreateContactPayload,
    MatchRule,
    StatusUpdateOutcome,
    UpdateAccountStatusesPayload,
)
from outboundql.gql.accounts.queries import resolve_accounts
from outboundql.gql.accounts.subscriptions import AccountEvent, AccountEventKind, AccountSubscriptions
from outboundql.gql.accounts.types import Account, AccountConnection, AccountStatusChange, Contact

__all__ = [
    "Account",
    "AccountConnection",
    "AccountEvent",
    "AccountEventKind",
    "AccountFilter",
    "AccountInput",
    "AccountMutations",
    "AccountOrder",
    "AccountOrderField",
    "AccountPayload",
    "AccountStatusChange",
    "AccountStatusResult",
    "AccountSubscriptions",
    "BulkAccountResult",
    "BulkCreateAccountsInput",
    "BulkCreateAccountsPayload",
    "Contact",
    "ContactInput",
    "ContactMutations",
    "ContactPayload",
    "CreateAccountInput",
    "CreateAccountPayload",
    "CreateContactInput",
    "CreateContactPayload",
    "MatchRule",
    "MergeAccountsInput",
    "StatusUpdateOutcome",
    "UpdateAccountInput",
    "UpdateAccountStatusesInput",
    "UpdateAccountStatusesPayload",
    "UpdateContactInput",
    "resolve_accounts",
]
