"""createAccount / updateAccount through GraphQL: dedupe (every rule), validation, status history."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.relay import from_base64

from outboundql import models
from tests.helpers import data_of, global_id

OWNER = {"email": "owner@example.com"}

ACCOUNT_FIELDS = """
  id name domain website industry employeeCount country city language description phone email
  tags customFields source status
  contacts { name email phone }
  statusHistory { fromStatus toStatus source note changedBy { email } }
"""

CREATE = f"""
mutation($input: CreateAccountInput!) {{
  createAccount(input: $input) {{
    created matchedOn mergedFields
    account {{ {ACCOUNT_FIELDS} }}
    errors {{ code field message }}
  }}
}}
"""

UPDATE = f"""
mutation($input: UpdateAccountInput!) {{
  updateAccount(input: $input) {{
    account {{ {ACCOUNT_FIELDS} }}
    errors {{ code field message }}
  }}
}}
"""


@pytest.fixture
def create(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(**fields: Any) -> dict[str, Any]:
        variables = {"input": {"projectId": global_id("Project", project.id), **fields}}
        return data_of(await gql(CREATE, variables, as_=owner))["createAccount"]

    return run


@pytest.fixture
def update(gql: Any, owner: Any) -> Any:
    async def run(account_id: str, **fields: Any) -> dict[str, Any]:
        return data_of(await gql(UPDATE, {"input": {"id": account_id, **fields}}, as_=owner))["updateAccount"]

    return run


def pk(gid: str) -> int:
    return int(from_base64(gid)[1])


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload["errors"]
    return payload


# --- create -------------------------------------------------------------------------------------


async def test_create_normalises_and_records_initial_status(create: Any, project: models.Project) -> None:
    p = ok(await create(name="  Acme  ", domain="https://www.Acme.com/about", country="es", language="ES",
                        phone="+34 612 345 678", email="Hello@ACME.com", tags=["a", "b", "a"],
                        customFields={"tier": 1}))
    assert p["created"] is True
    assert p["matchedOn"] is None and p["mergedFields"] == []
    acc = p["account"]
    assert acc["name"] == "Acme"
    assert acc["domain"] == "acme.com"
    assert acc["country"] == "ES"
    assert acc["language"] == "es"
    assert acc["phone"] == "+34612345678"
    assert acc["email"] == "hello@acme.com"
    assert acc["tags"] == ["a", "b"]
    assert acc["customFields"] == {"tier": 1}
    assert acc["status"] == "NEW"
    assert acc["statusHistory"] == [
        {"fromStatus": None, "toStatus": "NEW", "source": "API", "note": "", "changedBy": OWNER}
    ]
    assert await models.Account.filter(project_id=project.id).count() == 1
    assert await models.AuditEvent.filter(action="account.create").count() == 1


async def test_create_with_explicit_status_and_website_derives_domain(create: Any) -> None:
    acc = ok(await create(name="Beta", website="https://www.beta.io/en", status="PARTNER"))["account"]
    assert acc["domain"] == "beta.io"
    assert acc["status"] == "PARTNER"
    assert acc["statusHistory"][0]["fromStatus"] is None
    assert acc["statusHistory"][0]["toStatus"] == "PARTNER"


async def test_create_with_contacts(create: Any) -> None:
    acc = ok(await create(name="Gamma", country="ES", contacts=[
        {"name": "Ana", "email": "ANA@gamma.es", "phone": "612 345 678"},
        {"name": "Bea", "email": "bea@gamma.es"},
    ]))["account"]
    assert acc["contacts"] == [
        {"name": "Ana", "email": "ana@gamma.es", "phone": "+34612345678"},
        {"name": "Bea", "email": "bea@gamma.es", "phone": None},
    ]


# --- dedupe -------------------------------------------------------------------------------------


async def test_dedupe_same_domain_in_any_spelling(create: Any, project: models.Project) -> None:
    first = ok(await create(name="Acme", domain="acme.com"))
    second = ok(await create(name="Totally Different Name", domain="https://www.Acme.com/x"))
    assert second["created"] is False
    assert second["matchedOn"] == "DOMAIN"
    assert second["account"]["id"] == first["account"]["id"]
    assert second["account"]["name"] == "Acme"  # never overwritten
    assert await models.Account.filter(project_id=project.id).count() == 1


async def test_dedupe_on_website_derived_domain(create: Any) -> None:
    first = ok(await create(name="Acme", domain="acme.com"))
    second = ok(await create(name="Other", website="http://www.acme.com/contact"))
    assert second["matchedOn"] == "DOMAIN"
    assert second["account"]["id"] == first["account"]["id"]


async def test_dedupe_same_normalised_name_and_city(create: Any) -> None:
    first = ok(await create(name="The Acme Company, Inc.", city="Madrid"))
    second = ok(await create(name="ACME S.L.", city="madrid"))
    assert second["created"] is False
    assert second["matchedOn"] == "NAME_CITY"
    assert second["account"]["id"] == first["account"]["id"]
    assert second["account"]["name"] == "The Acme Company, Inc."


async def test_dedupe_name_and_city_ignores_accents(create: Any) -> None:
    first = ok(await create(name="Café Olé S.A.", city="Málaga"))
    second = ok(await create(name="cafe ole", city="MALAGA"))
    assert second["matchedOn"] == "NAME_CITY"
    assert second["account"]["id"] == first["account"]["id"]


async def test_same_name_without_city_matches_only_without_city(create: Any) -> None:
    first = ok(await create(name="Nocity Ltd"))
    same = ok(await create(name="Nocity"))
    assert same["matchedOn"] == "NAME_CITY" and same["account"]["id"] == first["account"]["id"]


async def test_no_false_match_same_name_other_city(create: Any, project: models.Project) -> None:
    first = ok(await create(name="Acme", city="Madrid"))
    second = ok(await create(name="Acme", city="Barcelona"))
    assert second["created"] is True
    assert second["matchedOn"] is None
    assert second["account"]["id"] != first["account"]["id"]
    assert await models.Account.filter(project_id=project.id).count() == 2


async def test_no_false_match_other_domain_same_name_no_city(create: Any) -> None:
    # different name + different domain + different phone: a new account
    ok(await create(name="Alpha", domain="alpha.com", phone="+34 612 345 678"))
    second = ok(await create(name="Omega", domain="omega.com", phone="+34 612 345 679"))
    assert second["created"] is True


async def test_dedupe_same_phone_national_vs_international(create: Any) -> None:
    first = ok(await create(name="Phone One", country="ES", phone="612 34 56 78"))
    assert first["account"]["phone"] == "+34612345678"
    second = ok(await create(name="Completely Other", phone="+34 612-345-678"))
    assert second["created"] is False
    assert second["matchedOn"] == "PHONE"
    assert second["account"]["id"] == first["account"]["id"]


async def test_first_match_wins_domain_before_name_city_before_phone(create: Any) -> None:
    by_domain = ok(await create(name="Domain Co", domain="dom.com"))["account"]
    by_name = ok(await create(name="Named", city="Paris"))["account"]
    by_phone = ok(await create(name="Phoned", phone="+33 1 23 45 67 89"))["account"]

    # Each hit fills blanks of the row it matched, so go from the weakest rule to the strongest.
    hit = ok(await create(name="Nobody", city="Lyon", domain="new2.com", phone="+33123456789"))
    assert (hit["matchedOn"], hit["account"]["id"]) == ("PHONE", by_phone["id"])

    hit = ok(await create(name="Named", city="Paris", domain="new.com", phone="+33123456789"))
    assert (hit["matchedOn"], hit["account"]["id"]) == ("NAME_CITY", by_name["id"])

    hit = ok(await create(name="Named", city="Paris", domain="dom.com", phone="+33123456789"))
    assert (hit["matchedOn"], hit["account"]["id"]) == ("DOMAIN", by_domain["id"])


async def test_match_fills_only_empty_fields_and_unions_tags_and_custom_fields(
    create: Any, project: models.Project
) -> None:
    first = ok(await create(name="Acme", domain="acme.com", industry="Software", tags=["a", "b"],
                            customFields={"tier": 1, "owner": "x"}))
    second = ok(await create(name="Acme Two", domain="acme.com", industry="Retail", city="Madrid",
                             employeeCount=40, tags=["b", "c"], customFields={"tier": 9, "region": "EU"},
                             description="New description"))
    assert second["created"] is False
    assert sorted(second["mergedFields"]) == sorted(
        ["city", "employee_count", "description", "tags", "custom_fields"]
    )
    acc = second["account"]
    assert acc["id"] == first["account"]["id"]
    assert acc["name"] == "Acme"
    assert acc["industry"] == "Software"  # not overwritten
    assert acc["city"] == "Madrid"
    assert acc["employeeCount"] == 40
    assert acc["description"] == "New description"
    assert acc["tags"] == ["a", "b", "c"]
    assert acc["customFields"] == {"tier": 1, "owner": "x", "region": "EU"}

    row = await models.Account.get(id=pk(first["account"]["id"]))
    assert row.city_key == "madrid"  # now findable by name + city
    events = await models.AuditEvent.filter(project_id=project.id, action="account.dedupe_merge")
    assert len(events) == 1
    event = events[0]
    assert event.object_type == "Account" and event.object_id == row.id
    assert event.after["matched_on"] == "domain"
    assert event.after["city"] == "Madrid"
    assert event.before["city"] is None
    assert "industry" not in event.after


async def test_match_with_nothing_new_merges_no_fields_but_is_still_recorded(create: Any) -> None:
    ok(await create(name="Acme", domain="acme.com", city="Madrid"))
    again = ok(await create(name="Acme", domain="acme.com", city="Madrid"))
    assert again["created"] is False and again["mergedFields"] == []
    assert await models.AuditEvent.filter(action="account.dedupe_merge").count() == 1
    assert await models.Account.all().count() == 1


async def test_match_promotes_a_new_account_to_the_given_status(create: Any) -> None:
    ok(await create(name="Acme", domain="acme.com"))
    again = ok(await create(name="Acme", domain="acme.com", status="CUSTOMER"))
    assert again["account"]["status"] == "CUSTOMER"
    assert "status" in again["mergedFields"]
    history = again["account"]["statusHistory"]
    assert [(h["fromStatus"], h["toStatus"]) for h in history] == [("NEW", "CUSTOMER"), (None, "NEW")]


async def test_match_never_overwrites_a_set_status(create: Any) -> None:
    ok(await create(name="Acme", domain="acme.com", status="PARTNER"))
    again = ok(await create(name="Acme", domain="acme.com", status="CUSTOMER"))
    assert again["account"]["status"] == "PARTNER"
    assert "status" not in again["mergedFields"]


async def test_dedupe_stays_inside_the_project(create: Any, gql: Any, owner: Any, make_project: Any) -> None:
    ok(await create(name="Acme", domain="acme.com"))
    other = await make_project(owner, "Other")
    result = data_of(await gql(CREATE, {"input": {"projectId": global_id("Project", other.id), "name": "Acme",
                                                  "domain": "acme.com"}}, as_=owner))["createAccount"]
    assert result["created"] is True
    assert await models.Account.all().count() == 2


async def test_contacts_on_a_duplicate_are_merged_at_the_existing_account(create: Any) -> None:
    ok(await create(name="Acme", domain="acme.com", contacts=[{"name": "Ana", "email": "ana@acme.com"}]))
    again = ok(await create(name="Acme", domain="acme.com", contacts=[
        {"name": "Ana Again", "email": "ANA@acme.com", "title": "CEO"},
        {"name": "Bob", "email": "bob@acme.com"},
    ]))
    contacts = again["account"]["contacts"]
    assert [c["name"] for c in contacts] == ["Ana", "Bob"]
    ana = await models.Contact.get(email="ana@acme.com")
    assert ana.title == "CEO" and ana.name == "Ana"


# --- validation ---------------------------------------------------------------------------------


async def test_create_reports_every_invalid_field_at_once(create: Any) -> None:
    p = await create(name="  ", domain="not a domain", country="XX", email="nope", language="english",
                     phone="12", employeeCount=-1)
    assert p["account"] is None
    fields = {e["field"] for e in p["errors"]}
    assert fields == {"input.name", "input.domain", "input.country", "input.email", "input.language",
                      "input.phone", "input.employeeCount"}
    assert all(e["code"] == "INVALID" and e["message"] for e in p["errors"])
    assert await models.Account.all().count() == 0


async def test_create_refuses_bad_custom_fields_and_contacts(create: Any) -> None:
    p = await create(name="Acme", customFields=[1, 2], contacts=[{"name": "A", "email": "bad"}])
    assert {e["field"] for e in p["errors"]} == {"input.customFields", "input.contacts[0].email"}
    assert await models.Account.all().count() == 0


async def test_create_in_unknown_project_is_not_found(gql: Any, owner: Any, project: models.Project) -> None:
    p = data_of(await gql(CREATE, {"input": {"projectId": global_id("Project", project.id + 999), "name": "X"}},
                          as_=owner))["createAccount"]
    assert p["errors"][0]["code"] == "NOT_FOUND"


# --- update -------------------------------------------------------------------------------------


async def test_update_changes_only_given_fields(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme", domain="acme.com", city="Madrid", industry="Software"))["account"]
    upd = ok(await update(acc["id"], industry="Retail", city=None))["account"]
    assert upd["industry"] == "Retail"
    assert upd["city"] is None
    assert upd["domain"] == "acme.com" and upd["name"] == "Acme"
    assert await models.AuditEvent.filter(action="account.update").count() == 1


async def test_update_website_keeps_an_existing_domain(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme", domain="acme.com"))["account"]
    upd = ok(await update(acc["id"], website="https://acme-group.example/about"))["account"]
    assert upd["website"] == "https://acme-group.example/about"
    assert upd["domain"] == "acme.com"


async def test_update_website_fills_a_missing_domain(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme"))["account"]
    upd = ok(await update(acc["id"], website="www.acme.com"))["account"]
    assert upd["domain"] == "acme.com"


async def test_update_validation_errors_are_data(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme"))["account"]
    p = await update(acc["id"], name=None, domain="bad domain", country="ZZ")
    assert p["account"] is None
    assert {e["field"] for e in p["errors"]} == {"input.name", "input.domain", "input.country"}
    row = await models.Account.get(id=pk(acc["id"]))
    assert row.name == "Acme" and row.domain is None


async def test_update_phone_uses_existing_country(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme", country="ES"))["account"]
    upd = ok(await update(acc["id"], phone="612 345 678"))["account"]
    assert upd["phone"] == "+34612345678"


async def test_update_name_refreshes_name_key(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme", city="Madrid"))["account"]
    ok(await update(acc["id"], name="Zeta Corp"))
    again = ok(await create(name="Zeta", city="Madrid"))
    assert again["matchedOn"] == "NAME_CITY" and again["account"]["id"] == acc["id"]


async def test_status_change_adds_history_entry(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme"))["account"]
    upd = ok(await update(acc["id"], status="QUALIFIED", statusNote="Call went well"))["account"]
    assert upd["status"] == "QUALIFIED"
    assert upd["statusHistory"] == [
        {"fromStatus": "NEW", "toStatus": "QUALIFIED", "source": "MANUAL", "note": "Call went well",
         "changedBy": OWNER},
        {"fromStatus": None, "toStatus": "NEW", "source": "API", "note": "", "changedBy": OWNER},
    ]


async def test_same_status_adds_no_history(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme"))["account"]
    upd = ok(await update(acc["id"], status="NEW"))["account"]
    assert len(upd["statusHistory"]) == 1


async def test_update_to_a_taken_domain_is_a_conflict(create: Any, update: Any) -> None:
    ok(await create(name="Acme", domain="acme.com"))
    other = ok(await create(name="Other", domain="other.com"))["account"]
    p = await update(other["id"], domain="WWW.ACME.COM")
    assert p["account"] is None
    [error] = p["errors"]
    assert error["code"] == "CONFLICT"
    assert error["field"] == "input.domain"
    assert "mergeAccounts" in error["message"]
    row = await models.Account.get(id=pk(other["id"]))
    assert row.domain == "other.com"


async def test_update_to_own_domain_is_fine(create: Any, update: Any) -> None:
    acc = ok(await create(name="Acme", domain="acme.com"))["account"]
    assert ok(await update(acc["id"], domain="https://acme.com"))["account"]["domain"] == "acme.com"


async def test_update_unknown_account_is_not_found(update: Any) -> None:
    p = await update(global_id("Account", 424242), name="X")
    assert p["errors"][0]["code"] == "NOT_FOUND"
    assert p["errors"][0]["field"] == "input.id"


async def test_update_with_an_id_of_another_type_is_not_found(update: Any, project: models.Project) -> None:
    p = await update(global_id("Project", project.id), name="X")
    assert p["errors"][0]["code"] == "NOT_FOUND"
