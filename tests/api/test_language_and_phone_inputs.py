"""Languages and phones on every path that takes one: a BCP 47 tag checked against CLDR is stored in its
canonical form (``es-ES``, ``pt_br`` → ``pt-BR``), an unknown or too long one is INVALID on its field; a
phone with letters (a vanity number) or an extension is INVALID rather than converted or dropped.

Each path is a function ``(gql, setup, value) -> Outcome``: the errors it answered and the value it stored
(read back from the database)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.errors import InvalidInput
from outboundql.services import users
from tests.api.test_log_message import Setup
from tests.api.test_log_message import setup as setup
from tests.helpers import data_of, global_id


@dataclass(frozen=True)
class Outcome:
    errors: list[tuple[str, str]]
    """(code, field) of each error."""
    stored: str | None
    """The value in the database afterwards (None when nothing was written)."""


Path = Callable[[Any, Setup, str], Awaitable[Outcome]]

CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } matchedOn errors { code field message } }
}"""
UPDATE_ACCOUNT = """
mutation($input: UpdateAccountInput!) { updateAccount(input: $input) { errors { code field message } } }"""
BULK = """
mutation($input: BulkCreateAccountsInput!) {
  bulkCreateAccounts(input: $input) { errors { code field } results { account { id } errors { code field } } }
}"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } errors { code field message } }
}"""
UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) { updateContact(input: $input) { errors { code field message } } }"""
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } errors { code field } } }"""
UPDATE_PRODUCT = """
mutation($input: UpdateProductInput!) { updateProduct(input: $input) { errors { code field } } }"""
CREATE_CAMPAIGN = """
mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } errors { code field } } }"""
UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { errors { code field } } }"""
LOG = """
mutation($input: LogMessageInput!) { logMessage(input: $input) { message { id } errors { code field } } }"""
DRAFT = """
mutation($input: DraftMessageInput!) {
  draftMessage(input: $input) { requestedLanguage language notice message { id originalText originalLanguage }
                                errors { code field } }
}"""


async def call(gql: Any, s: Setup, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    [payload] = data_of(await gql(document, {"input": variables}, as_=s.owner)).values()
    return payload  # type: ignore[no-any-return]


def errors_of(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def pk(node: dict[str, Any] | None) -> int | None:
    from strawberry.relay import from_base64

    return None if node is None else int(from_base64(node["id"])[1])


async def column(model: type[Any], pk_: int | None, name: str) -> str | None:
    if pk_ is None:
        return None
    value = getattr(await model.get(id=pk_), name)
    return None if value is None else str(value)


# --- the paths that take a language ---------------------------------------------------------------


async def account_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_ACCOUNT, {"projectId": global_id("Project", s.project.id), "name": "Lang Co",
                                            "language": value})
    return Outcome(errors_of(p), await column(models.Account, pk(p["account"]), "language"))


async def account_update_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_ACCOUNT, {"id": global_id("Account", s.account.id), "language": value})
    return Outcome(errors_of(p), await column(models.Account, s.account.id, "language"))


async def bulk_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, BULK, {"projectId": global_id("Project", s.project.id),
                                  "accounts": [{"name": "Lang Co", "language": value}]})
    [result] = p["results"]
    return Outcome(errors_of(p) + errors_of(result), await column(models.Account, pk(result["account"]), "language"))


async def new_account_contact_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_ACCOUNT, {"projectId": global_id("Project", s.project.id), "name": "Lang Co",
                                            "contacts": [{"name": "Ana", "language": value}]})
    contact = await models.Contact.filter(account_id=pk(p["account"]) or 0).first()
    return Outcome(errors_of(p), contact and contact.language)


async def contact_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_CONTACT, {"accountId": global_id("Account", s.account.id), "name": "Ana",
                                            "language": value})
    return Outcome(errors_of(p), await column(models.Contact, pk(p["contact"]), "language"))


async def contact_update_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_CONTACT, {"id": global_id("Contact", s.contact.id), "language": value})
    return Outcome(errors_of(p), await column(models.Contact, s.contact.id, "language"))


async def product_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_PRODUCT, {"projectId": global_id("Project", s.project.id), "name": "Gadget",
                                            "communicationLanguage": value})
    return Outcome(errors_of(p), await column(models.Product, pk(p["product"]), "communication_language"))


async def product_update_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_PRODUCT, {"id": global_id("Product", s.campaign.product_id),
                                            "communicationLanguage": value})
    return Outcome(errors_of(p), await column(models.Product, s.campaign.product_id, "communication_language"))


async def campaign_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_CAMPAIGN, {"projectId": global_id("Project", s.project.id), "name": "Other",
                                             "productId": global_id("Product", s.campaign.product_id),
                                             "communicationLanguage": value})
    return Outcome(errors_of(p), await column(models.Campaign, pk(p["campaign"]), "communication_language"))


async def campaign_update_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_CAMPAIGN, {"id": global_id("Campaign", s.campaign.id),
                                             "communicationLanguage": value})
    return Outcome(errors_of(p), await column(models.Campaign, s.campaign.id, "communication_language"))


async def message_original_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, LOG, {"campaignAccountId": s.ca_gid, "text": "Hola", "originalLanguage": value})
    return Outcome(errors_of(p), await column(models.Message, pk(p["message"]), "original_language"))


async def message_translated_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, LOG, {"campaignAccountId": s.ca_gid, "text": "Hello", "translatedText": "Hola",
                                 "translatedLanguage": value})
    return Outcome(errors_of(p), await column(models.Message, pk(p["message"]), "translated_language"))


async def draft_language(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, DRAFT, {"campaignAccountId": s.ca_gid, "language": value})
    return Outcome(errors_of(p), p["requestedLanguage"] if p["message"] else None)


async def user_language(gql: Any, s: Setup, value: str) -> Outcome:
    try:
        user = await users.create_user("new@example.com", "New", value)
    except InvalidInput as exc:
        return Outcome([(i.code, i.field or "") for i in exc.issues()], None)
    return Outcome([], await column(models.User, user.id, "language"))


LANGUAGE_PATHS: dict[str, tuple[Path, str]] = {
    "createAccount": (account_language, "input.language"),
    "updateAccount": (account_update_language, "input.language"),
    "bulkCreateAccounts": (bulk_language, "input.accounts[0].language"),
    "createAccount contacts": (new_account_contact_language, "input.contacts[0].language"),
    "createContact": (contact_language, "input.language"),
    "updateContact": (contact_update_language, "input.language"),
    "createProduct": (product_language, "input.communicationLanguage"),
    "updateProduct": (product_update_language, "input.communicationLanguage"),
    "createCampaign": (campaign_language, "input.communicationLanguage"),
    "updateCampaign": (campaign_update_language, "input.communicationLanguage"),
    "logMessage originalLanguage": (message_original_language, "input.originalLanguage"),
    "logMessage translatedLanguage": (message_translated_language, "input.translatedLanguage"),
    "draftMessage": (draft_language, "input.language"),
    "create_user (CLI)": (user_language, "language"),
}


@pytest.mark.parametrize("path", LANGUAGE_PATHS)
@pytest.mark.parametrize(("value", "stored"), [("es-ES", "es-ES"), ("pt_br", "pt-BR")])
async def test_a_language_tag_is_stored_in_canonical_form(gql, setup: Setup, path: str, value: str,
                                                          stored: str) -> None:
    run, _ = LANGUAGE_PATHS[path]
    assert await run(gql, setup, value) == Outcome([], stored)


@pytest.mark.parametrize("path", LANGUAGE_PATHS)
@pytest.mark.parametrize("value", ["zz", "zh-Hant-TW"])  # more refused tags: tests/unit/test_normalize.py
async def test_an_unknown_or_too_long_language_tag_is_invalid(gql, setup: Setup, path: str, value: str) -> None:
    run, field = LANGUAGE_PATHS[path]
    outcome = await run(gql, setup, value)
    assert outcome.errors == [("INVALID", field)]
    assert outcome.stored is None  # nothing was written (the setup's rows have no language)


async def test_a_regional_tag_is_drafted_from_its_base_language_catalog(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(language="es-ES")
    p = await call(gql, setup, DRAFT, {"campaignAccountId": setup.ca_gid})
    assert p["errors"] == []
    assert (p["requestedLanguage"], p["language"], p["notice"]) == ("es-ES", "es", None)
    assert p["message"]["originalText"].startswith("Hola") and p["message"]["originalLanguage"] == "es"


async def test_a_regional_tag_without_a_base_catalog_is_drafted_in_english_and_says_so(gql, setup: Setup) -> None:
    await models.Account.filter(id=setup.account.id).update(language="pt-BR")
    p = await call(gql, setup, DRAFT, {"campaignAccountId": setup.ca_gid})
    assert (p["requestedLanguage"], p["language"]) == ("pt-BR", "en")
    assert "no catalog for 'pt-BR'" in p["notice"]


# --- the paths that take a phone ------------------------------------------------------------------


async def account_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_ACCOUNT, {"projectId": global_id("Project", s.project.id), "name": "Phone Co",
                                            "country": "US", "phone": value})
    return Outcome(errors_of(p), await column(models.Account, pk(p["account"]), "phone"))


async def account_update_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_ACCOUNT, {"id": global_id("Account", s.account.id), "phone": value})
    return Outcome(errors_of(p), await column(models.Account, s.account.id, "phone"))


async def bulk_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, BULK, {"projectId": global_id("Project", s.project.id),
                                  "accounts": [{"name": "Phone Co", "phone": value}]})
    [result] = p["results"]
    return Outcome(errors_of(p) + errors_of(result), await column(models.Account, pk(result["account"]), "phone"))


async def bulk_contact_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, BULK, {"projectId": global_id("Project", s.project.id),
                                  "accounts": [{"name": "Phone Co", "contacts": [{"name": "Ana", "phone": value}]}]})
    [result] = p["results"]
    contact = await models.Contact.filter(account_id=pk(result["account"]) or 0).first()
    return Outcome(errors_of(p) + errors_of(result), contact and contact.phone)


async def contact_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, CREATE_CONTACT, {"accountId": global_id("Account", s.account.id), "name": "Ana",
                                            "phone": value})
    return Outcome(errors_of(p), await column(models.Contact, pk(p["contact"]), "phone"))


async def contact_update_phone(gql: Any, s: Setup, value: str) -> Outcome:
    p = await call(gql, s, UPDATE_CONTACT, {"id": global_id("Contact", s.contact.id), "phone": value})
    return Outcome(errors_of(p), await column(models.Contact, s.contact.id, "phone"))


async def dedupe_phone(gql: Any, s: Setup, value: str) -> Outcome:
    """Another account already has the digits the letters map to: a new name with that phone would be merged
    into it (matchedOn PHONE) if the letters were converted."""
    existing = await models.Account.create(project_id=s.project.id, name="Keypad Inc", name_key="keypad",
                                           phone="+15552223334")
    p = await call(gql, s, CREATE_ACCOUNT, {"projectId": global_id("Project", s.project.id), "name": "Phone Co",
                                            "phone": value})
    merged = p["account"] is not None and pk(p["account"]) == existing.id
    return Outcome(errors_of(p) + ([("MERGED", p["matchedOn"])] if merged else []),
                   await column(models.Account, pk(p["account"]), "phone"))


PHONE_PATHS: dict[str, tuple[Path, str]] = {
    "createAccount": (account_phone, "input.phone"),
    "updateAccount": (account_update_phone, "input.phone"),
    "bulkCreateAccounts": (bulk_phone, "input.accounts[0].phone"),
    "bulkCreateAccounts contacts": (bulk_contact_phone, "input.accounts[0].contacts[0].phone"),
    "createContact": (contact_phone, "input.phone"),
    "updateContact": (contact_update_phone, "input.phone"),
    "dedupe on phone": (dedupe_phone, "input.phone"),
}


@pytest.mark.parametrize("path", PHONE_PATHS)
@pytest.mark.parametrize("value", ["+1 (555) ABC-DEFG", "+1 555 222 3334 #12"])  # more: tests/unit/test_normalize.py
async def test_a_phone_with_letters_or_an_extension_is_invalid(gql, setup: Setup, path: str, value: str) -> None:
    run, field = PHONE_PATHS[path]
    outcome = await run(gql, setup, value)
    assert outcome.errors == [("INVALID", field)]
    assert outcome.stored is None


@pytest.mark.parametrize("path", PHONE_PATHS)
async def test_a_phone_in_digits_is_stored_in_e164(gql, setup: Setup, path: str) -> None:
    run, _ = PHONE_PATHS[path]
    outcome = await run(gql, setup, "+1 (555) 222-3335")
    assert outcome == Outcome([], "+15552223335")


async def test_the_refusal_says_how_to_write_the_number(gql, setup: Setup) -> None:
    p = await call(gql, setup, CREATE_ACCOUNT, {"projectId": global_id("Project", setup.project.id),
                                                "name": "Phone Co", "phone": "+1 (555) ABC-DEFG"})
    [error] = p["errors"]
    assert "contains letters" in error["message"] and "in digits" in error["message"]
