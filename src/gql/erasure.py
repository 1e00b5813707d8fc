"""deleteAccounts and deleteContact: erasure for a data-subject request."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import erasure as service


@strawberry.input(description="Accounts to erase with everything about them.")
class DeleteAccountsInput:
    account_ids: list[relay.GlobalID] = strawberry.field(description="At most 1000 (the server's bulk limit).")
    suppress: bool = strawberry.field(
        default=False, description="Add the erased e-mail addresses and phone numbers (the accounts' and their "
        "contacts') to the project's suppression list, so they are never imported or contacted again.")
    suppress_domain: bool = strawberry.field(
        default=False, description="Also suppress the accounts' domains (every address there).")

    def to_command(self) -> service.DeleteAccounts:
        ids = [pk_of(gid, "Account", f"account_ids[{i}]", "Account") for i, gid in enumerate(self.account_ids)]
        return service.DeleteAccounts(account_ids=ids, suppress=self.suppress, suppress_domain=self.suppress_domain)


@strawberry.input(description="A contact to erase.")
class DeleteContactInput:
    contact_id: relay.GlobalID = strawberry.field(description="The contact to erase.")
    suppress: bool = strawberry.field(
        default=False, description="Add the contact's e-mail address and phone number to the suppression list.")

    def to_command(self) -> service.DeleteContact:
        return service.DeleteContact(contact_id=pk_of(self.contact_id, "Contact", "contact_id"),
                                     suppress=self.suppress)


@strawberry.type(description="The answer of deleteAccounts: what was erased with the accounts.")
class DeleteAccountsPayload:
    deleted_account_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="The accounts erased; null when the request was refused.")
    deleted_contacts: int = strawberry.field(default=0, description="Their contacts, erased with them.")
    removed_campaign_accounts: int = strawberry.field(default=0, description="Campaign rows removed.")
    suppressed: int = strawberry.field(default=0, description="Suppression entries added (new ones only).")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the request was refused (then nothing was erased).")


@strawberry.type(description="The answer of deleteContact: the contact erased.")
class DeleteContactPayload:
    deleted_contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The contact erased; null when the request was refused.")
    suppressed: int = strawberry.field(default=0, description="Suppression entries added (new ones only).")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the request was refused (then nothing was erased).")


@strawberry.type
class ErasureMutations:
    @mutation("Erase accounts for a data-subject request: each account with its contacts, status history, fit "
              "scores, campaign rows, messages and attempts, for good; campaign counters follow. The audit keeps that "
              "an erasure happened (who, when, which id) and drops the personal data of earlier events. All or "
              "nothing: an id that names no account refuses the request. Needs the member role.")
    async def delete_accounts(self, info: Info, input: DeleteAccountsInput) -> DeleteAccountsPayload:
        result = await service.delete_accounts(info.context.access, input.to_command())
        return DeleteAccountsPayload(
            deleted_account_ids=[relay.GlobalID("Account", str(i)) for i in result.account_ids],
            deleted_contacts=len(result.contact_ids), removed_campaign_accounts=len(result.campaign_account_ids),
            suppressed=result.suppressed)

    @mutation("Erase a contact for a data-subject request: the messages and attempts addressed to them go, rows "
              "aiming at them forget them (a row waiting on them is planned again with the others). Needs the member "
              "role.")
    async def delete_contact(self, info: Info, input: DeleteContactInput) -> DeleteContactPayload:
        result = await service.delete_contact(info.context.access, input.to_command())
        return DeleteContactPayload(deleted_contact_id=relay.GlobalID("Contact", str(result.contact_ids[0])),
                                    suppressed=result.suppressed)
