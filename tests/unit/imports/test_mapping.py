"""Column mappings: guessed from headers in each language, checked, applied to rows."""

from __future__ import annotations

import pytest

from outboundql.imports import mapping
from outboundql.imports.mapping import FIELDS, ParsedRow, check, guess, parse_rows
from outboundql.imports.reading import Row, Table, read_table


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Company", "Website", "Industry", "Employees", "Country", "City", "Phone", "Email", "Tags"],
            ["name", "website", "industry", "employee_count", "country", "city", "phone", "email", "tags"],
        ),
        (
            ["Nombre de la empresa", "Sitio web", "Sector", "Empleados", "País", "Ciudad", "Teléfono",
             "Correo electrónico", "Etiquetas"],
            ["name", "website", "industry", "employee_count", "country", "city", "phone", "email", "tags"],
        ),
        (
            ["Raison sociale", "Site web", "Secteur d'activité", "Effectif", "Pays", "Ville", "Téléphone",
             "Courriel", "Étiquettes"],
            ["name", "website", "industry", "employee_count", "country", "city", "phone", "email", "tags"],
        ),
        (
            ["Firmenname", "Webseite", "Branche", "Mitarbeiter", "Land", "Stadt", "Telefon", "E-Mail", "Schlagwörter"],
            ["name", "website", "industry", "employee_count", "country", "city", "phone", "email", "tags"],
        ),
        (
            ["Nom de l'empresa", "Lloc web", "Sector", "Treballadors", "País", "Ciutat", "Telèfon",
             "Correu electrònic", "Etiquetes"],
            ["name", "website", "industry", "employee_count", "country", "city", "phone", "email", "tags"],
        ),
    ],
    ids=["en", "es", "fr", "de", "ca"],
)
def test_account_columns_in_each_language(headers: list[str], expected: list[str]) -> None:
    assert guess(headers) == dict(zip(headers, expected, strict=True))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Company", "First name", "Last name", "Job title", "Email", "Phone", "LinkedIn"],
         ["name", "contact.first_name", "contact.last_name", "contact.title", "contact.email", "contact.phone",
          "contact.linkedin_url"]),
        (["Empresa", "Nombre", "Apellidos", "Cargo", "Correo electrónico", "Teléfono"],
         ["name", "contact.first_name", "contact.last_name", "contact.title", "contact.email", "contact.phone"]),
        (["Société", "Prénom", "Nom", "Poste", "Courriel", "Téléphone"],
         ["name", "contact.first_name", "contact.last_name", "contact.title", "contact.email", "contact.phone"]),
        (["Firmenname", "Vorname", "Nachname", "Position", "E-Mail", "Telefon"],
         ["name", "contact.first_name", "contact.last_name", "contact.title", "contact.email", "contact.phone"]),
        (["Empresa", "Nom", "Cognoms", "Càrrec", "Correu electrònic", "Telèfon"],
         ["name", "contact.first_name", "contact.last_name", "contact.title", "contact.email", "contact.phone"]),
    ],
    ids=["en", "es", "fr", "de", "ca"],
)
def test_contact_columns_in_each_language(headers: list[str], expected: list[str]) -> None:
    assert guess(headers) == dict(zip(headers, expected, strict=True))


def test_a_lone_name_word_is_the_company_and_beside_a_company_the_person() -> None:
    assert guess(["Name", "Website"]) == {"Name": "name", "Website": "website"}
    assert guess(["Name", "Email", "Company"]) == {"Name": "contact.name", "Email": "contact.email", "Company": "name"}
    assert guess(["Firma", "Name", "Telefon"]) == {"Firma": "name", "Name": "contact.name", "Telefon": "contact.phone"}
    assert guess(["Nombre", "Email"]) == {"Nombre": "name", "Email": "email"}
    assert guess(["Nom", "Ville"]) == {"Nom": "name", "Ville": "city"}
    assert guess(["Société", "Nom", "Courriel"]) == {
        "Société": "name", "Nom": "contact.name", "Courriel": "contact.email",
    }


def test_a_company_email_stays_the_accounts_beside_a_person() -> None:
    assert guess(["Company", "Contact", "Company email", "Email"]) == {
        "Company": "name", "Contact": "contact.name", "Company email": "email", "Email": "contact.email",
    }


def test_accents_case_punctuation_underscores_and_spacing_are_ignored() -> None:
    assert guess(["  COMPANY_NAME ", "e_mail", "CORREO-ELECTRONICO", "employee  count", "Time-Zone"]) == {
        "  COMPANY_NAME ": "name", "e_mail": "email", "employee  count": "employee_count", "Time-Zone": "time_zone",
    }


def test_scores_overall_and_named_components() -> None:
    headers = ["Company", "quality_score", "Relevance Score", "guest_post_likelihood", "Fit score", "Puntuación"]
    assert guess(headers) == {
        "Company": "name",
        "quality_score": "score.quality_score",
        "Relevance Score": "score.relevance_score",
        "guest_post_likelihood": "score.guest_post_likelihood",
        "Fit score": "score",
    }


def test_first_header_wins_and_unknown_headers_are_left_out() -> None:
    assert guess(["Company", "Empresa", "Favourite colour", "Organisation"]) == {"Company": "name"}


def test_no_word_means_two_fields() -> None:
    seen: dict[str, str] = {}
    for key, synonyms in mapping._SYNONYMS.items():
        assert key in FIELDS
        for word in synonyms:
            assert mapping.words(word) == word
            assert seen.setdefault(word, key) == key


def test_fields_cover_accounts_contacts_and_scores() -> None:
    assert {"name", "contract_end_date", "contact.first_name", "contact.is_decision_maker",
            "score"} <= FIELDS.keys()
    assert all(mapping.is_field(key) for key in ("custom.Revenue 2024", "score.quality_score"))
    assert not any(mapping.is_field(key) for key in ("custom.", "score.", "score.Bad Name", "nope", "contact.x"))


# --- check ----------------------------------------------------------------------------------------------


def test_check_reports_each_problem() -> None:
    headers = ["Company", "Web", "Mail", "Extra"]
    problems = check({"Missing": "name", "Web": "website", "Mail": "website", "Extra": "favourite"}, headers)
    assert problems == [
        ("Missing", "The file has no column “Missing”."),
        ("Mail", "“website” is already fed by the column “Web”."),
        ("Extra", "“favourite” is not a field that can be imported."),
        ("name", "No column is mapped to the account's name (field “name”)."),
    ]


def test_check_accepts_a_good_mapping_and_ignored_columns() -> None:
    assert check({"Company": "name", "Rev": "custom.revenue", "Notes": ""}, ["Company", "Rev", "Notes"]) == []


# --- parse_rows -----------------------------------------------------------------------------------------


def test_parse_rows_splits_account_contact_scores_and_custom_fields() -> None:
    table = read_table(
        b"Company,First name,Last name,Title,Email,Tags,quality_score,Score,Revenue\n"
        b"Acme,Ana,Ruiz,CEO,ana@acme.com,\"b2b; saas|eu, x\",0.8,7,1M\n"
        b"Bolt,,,,,,,,\n"
        b",Joe,,,,,,,\n"
    )
    columns = {**guess(table.headers), "Revenue": "custom.revenue"}
    rows = list(parse_rows(table, columns))
    assert rows == [
        ParsedRow(
            line=2,
            account={"name": "Acme", "tags": ["b2b", "saas", "eu", "x"], "custom_fields": {"revenue": "1M"}},
            contact={"name": "Ana Ruiz", "title": "CEO", "email": "ana@acme.com"},
            scores={"quality_score": "0.8", "": "7"},
            problem=None,
        ),
        ParsedRow(line=3, account={"name": "Bolt"}, contact=None, scores={}, problem=None),
        ParsedRow(line=4, account={}, contact={"name": "Joe"}, scores={}, problem="the account's name is empty"),
    ]


def test_parse_rows_keeps_a_contact_name_and_the_rows_own_problem() -> None:
    table = Table(
        headers=["name", "contact", "first"],
        rows=[Row(line=5, cells=["Acme", "Ana María", "Ana"], problem="has 4 cells where the header has 3")],
        encoding="utf-8",
        delimiter=",",
    )
    (row,) = parse_rows(table, {"name": "name", "contact": "contact.name", "first": "contact.first_name"})
    assert row.contact == {"name": "Ana María"}
    assert row.problem == "has 4 cells where the header has 3"


def test_parse_rows_ignores_unknown_fields_and_missing_columns() -> None:
    table = read_table(b"name,x\nAcme,1\n")
    (row,) = parse_rows(table, {"name": "name", "x": "bogus", "gone": "city"})
    assert row.account == {"name": "Acme"}


def test_external_ids_are_not_imported_but_set_by_upsert_accounts() -> None:
    assert not {"external_id", "contact.external_id"} & FIELDS.keys()
    assert guess(["Company", "ID", "CRM id", "account id", "Contact id"]) == {"Company": "name"}
    assert check({"Company": "name", "ID": "external_id", "Contact id": "contact.external_id"},
                 ["Company", "ID", "Contact id"]) == [
        ("ID", "“external_id” is not imported from a file: set external ids with upsertAccounts."),
        ("Contact id", "“contact.external_id” is not imported from a file: set external ids with upsertAccounts."),
    ]
