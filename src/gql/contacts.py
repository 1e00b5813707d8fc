"""Contacts: creating and editing the people at an account."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.accounts import Contact, ContactInput
from outboundql.gql.base import input_data, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import RoleKind
from outboundql.gql.errors import UserError
from outboundql.services import contacts as contacts_service


@strawberry.input
class CreateContactInput(ContactInput):
    account_id: relay.GlobalID


@strawberry.type
class CreateContactPayload:
    contact: Contact | None = None
    created: bool = strawberry.field(default=False, description="False when merged into a duplicate.")
    errors: list[UserError] = strawberry.field(default_factory=list)


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
    do_not_contact: bool | None = strawberry.UNSET


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContactMutations:
    @mutation("Add a contact to an account, or fill the blanks of the same person (same phone, then e-mail).")
    async def create_contact(self, info: Info, input: CreateContactInput) -> CreateContactPayload:
        row, created = await contacts_service.create_contact(
            info.context.access, pk_of(input.account_id, "Account", "input.accountId"),
            input_data(input, exclude=["account_id"]),
        )
        return CreateContactPayload(contact=Contact.from_model(row), created=created)

    @mutation("Change a contact's fields.")
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        row = await contacts_service.update_contact(info.context.access, pk_of(input.id, "Contact", "input.id"),
                                                    input_data(input, exclude=["id"]))
        return ContactPayload(contact=Contact.from_model(row))
