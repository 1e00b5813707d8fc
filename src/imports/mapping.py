"""Column mappings: which file column feeds which field, guessed from header names in the product's languages
(English, Spanish, French, German, Catalan), checked, and applied to a table's rows.

A mapping is ``{header: field key}``. Field keys are those of `FIELDS`, ``custom.<key>`` for a custom field
of the account, ``score`` for an externally computed overall score and ``score.<component>`` for a named
component of it (e.g. ``score.quality_score``). An empty field key leaves the column out.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from outboundql.imports.reading import Row, Table

ACCOUNT_FIELDS: dict[str, str] = {
    "name": "Name",
    "domain": "Domain",
    "website": "Website",
    "industry": "Industry",
    "employee_count": "Employee count",
    "country": "Country",
    "city": "City",
    "language": "Language",
    "time_zone": "Time zone",
    "description": "Description",
    "phone": "Phone",
    "email": "E-mail",
    "tags": "Tags",
    "source": "Source",
    "contract_end_date": "Contract end date",
}
CONTACT_FIELDS: dict[str, str] = {
    "contact.name": "Contact name",
    "contact.first_name": "Contact first name",
    "contact.last_name": "Contact last name",
    "contact.title": "Contact title",
    "contact.email": "Contact e-mail",
    "contact.phone": "Contact phone",
    "contact.linkedin_url": "Contact LinkedIn URL",
    "contact.seniority": "Contact seniority",
    "contact.department": "Contact department",
    "contact.language": "Contact language",
    "contact.time_zone": "Contact time zone",
    "contact.is_decision_maker": "Contact is a decision maker",
}
SCORE = "score"
FIELDS: dict[str, str] = {**ACCOUNT_FIELDS, **CONTACT_FIELDS, SCORE: "Score (overall)"}
CUSTOM_PREFIX = "custom."
SCORE_PREFIX = "score."
CONTACT_PREFIX = "contact."
TAG_SEPARATORS = re.compile(r"[,;|]")

_COMPONENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CUSTOM_KEY = re.compile(r"\S(.{0,98}\S)?")

# Header words (accents, case, punctuation, underscores and spacing ignored) → field key.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "company", "company name", "account", "account name", "organization", "organisation",
        "organization name", "organisation name", "business", "business name", "legal name",
        "empresa", "nombre de la empresa", "nombre de empresa", "nombre empresa", "razon social", "compania",
        "nombre de la compania", "nombre comercial", "entidad",
        "societe", "nom de la societe", "nom de societe", "entreprise", "nom de l entreprise", "nom entreprise",
        "raison sociale", "organisme",
        "firma", "firmenname", "unternehmen", "unternehmensname", "name des unternehmens", "name der firma",
        "nom de l empresa", "nom empresa", "rao social", "companyia", "entitat",
    ),
    "domain": ("domain", "company domain", "domain name", "dominio", "domaine", "nom de domaine", "domini"),
    "website": (
        "website", "web site", "web", "url", "site", "homepage", "company website", "sitio web", "pagina web",
        "web de la empresa", "site web", "site internet", "webseite", "internetseite", "internetadresse",
        "lloc web", "web de l empresa",
    ),
    "industry": (
        "industry", "sector", "vertical", "industria", "actividad", "secteur", "secteur d activite", "activite",
        "branche", "industrie", "activitat",
    ),
    "employee_count": (
        "employees", "employee count", "number of employees", "no of employees", "headcount", "company size",
        "empleados", "numero de empleados", "n de empleados", "num empleados", "plantilla", "trabajadores",
        "effectif", "effectifs", "nombre d employes", "nombre de salaries", "salaries",
        "mitarbeiter", "anzahl mitarbeiter", "anzahl der mitarbeiter", "mitarbeiterzahl", "beschaftigte",
        "empleats", "treballadors", "nombre de treballadors", "nombre d empleats",
    ),
    "country": ("country", "country code", "pais", "pays", "land", "staat"),
    "city": (
        "city", "town", "ciudad", "localidad", "municipio", "poblacion", "ville", "commune", "localite",
        "stadt", "ort", "ciutat", "poblacio", "localitat", "municipi",
    ),
    "language": ("language", "idioma", "lengua", "langue", "sprache", "llengua"),
    "time_zone": ("time zone", "timezone", "tz", "zona horaria", "fuseau horaire", "zeitzone"),
    "description": (
        "description", "notes", "about", "descripcion", "notas", "comentarios", "remarques", "commentaires",
        "beschreibung", "notizen", "bemerkungen", "descripcio",
    ),
    "phone": (
        "phone", "phone number", "telephone", "telephone number", "tel", "company phone",
        "telefono", "numero de telefono", "telefono de la empresa",
        "numero de telephone", "telefon", "telefonnummer", "rufnummer", "numero de telefon",
    ),
    "email": (
        "email", "e mail", "mail", "email address", "e mail address", "company email",
        "correo", "correo electronico", "email de la empresa", "courriel", "adresse e mail", "adresse email",
        "adresse electronique", "e mail adresse", "emailadresse", "correu", "correu electronic",
    ),
    "tags": ("tags", "tag", "labels", "etiquetas", "etiquettes", "schlagworte", "etiketten", "schlagworter",
             "etiquetes"),
    "source": ("source", "lead source", "fuente", "origen", "origine", "quelle", "herkunft", "font"),
    "contract_end_date": (
        "contract end date", "contract end", "renewal date", "fin de contrato", "fecha fin de contrato",
        "fecha de fin de contrato", "vencimiento del contrato", "fin de contrat", "date de fin de contrat",
        "vertragsende", "vertragsende datum", "fi de contracte", "data de fi de contracte",
    ),
    "contact.name": (
        "contact", "contact name", "full name", "contact person", "person", "contacto", "nombre del contacto",
        "nombre completo", "persona de contacto", "nom du contact", "nom complet", "interlocuteur",
        "ansprechpartner", "kontakt", "kontaktperson", "vollstandiger name", "contacte", "nom del contacte",
        "nom complet", "persona de contacte",
    ),
    "contact.first_name": (
        "first name", "firstname", "given name", "nombre de pila", "prenom", "vorname",
    ),
    "contact.last_name": (
        "last name", "lastname", "surname", "family name", "apellido", "apellidos", "nom de famille",
        "nachname", "familienname", "cognom", "cognoms",
    ),
    "contact.title": (
        "title", "job title", "position", "role", "job", "cargo", "puesto", "puesto de trabajo", "poste",
        "fonction", "titre", "intitule du poste", "funktion", "berufsbezeichnung", "jobtitel", "titel", "rolle",
        "carrec", "lloc de treball",
    ),
    "contact.email": (
        "contact email", "contact e mail", "personal email", "work email", "email del contacto",
        "correo del contacto", "email du contact", "courriel du contact", "e mail des ansprechpartners",
        "correu del contacte",
    ),
    "contact.phone": (
        "contact phone", "mobile", "mobile phone", "cell phone", "direct phone", "telefono del contacto", "movil",
        "telephone du contact", "portable", "mobile", "handy", "mobiltelefon", "mobilnummer", "mobil",
        "telefon del contacte",
    ),
    "contact.linkedin_url": (
        "linkedin", "linkedin url", "linkedin profile", "perfil de linkedin", "profil linkedin", "linkedin profil",
        "url de linkedin",
    ),
    "contact.seniority": ("seniority", "seniority level", "antiguedad", "seniorite", "senioritat"),
    "contact.department": ("department", "departamento", "departement", "service", "abteilung", "departament"),
    "contact.language": ("contact language", "idioma del contacto", "langue du contact"),
    "contact.time_zone": ("contact time zone", "contact timezone"),
    "contact.is_decision_maker": (
        "decision maker", "is decision maker", "decisor", "toma decisiones", "decideur", "entscheider",
        "entscheidungstrager", "pren decisions",
    ),
    SCORE: (
        "score", "fit score", "overall score", "total score", "lead score", "puntuacion", "puntuacion total",
        "puntaje", "note", "note globale", "punktzahl", "bewertung", "gesamtbewertung", "puntuacio",
    ),
}
#: Keys set only by upsertAccounts (an import that wrote them would link rows it cannot check).
_SET_BY_UPSERTS = frozenset({"external_id", "contact.external_id"})
_BY_WORDS: dict[str, str] = {words: key for key, synonyms in _SYNONYMS.items() for words in synonyms}

# In a file with a column for a contact person's name, these plain words mean the person's own details.
_PERSONAL = {"email": "contact.email", "phone": "contact.phone", "language": "contact.language",
             "time_zone": "contact.time_zone"}
_PERSON_NAMES = frozenset({"contact.name", "contact.first_name", "contact.last_name"})
_AMBIGUOUS_NAMES = frozenset({"name", "nombre", "nom"})
_COMPANY_WORDS = frozenset({"company", "business", "empresa", "entreprise", "societe", "firma", "unternehmen"})
_SCORE_WORDS = frozenset({"score", "likelihood", "probability", "rating", "puntuacion", "probabilidad"})


def words(header: str) -> str:
    """A header reduced to lowercase unaccented words: ``"Correo_Electrónico "`` → ``correo electronico``."""
    decomposed = unicodedata.normalize("NFKD", header.replace("ß", "ss"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def guess(headers: list[str]) -> dict[str, str]:
    """``{header: field key}`` for the headers recognised; each field is fed by one column (the first).

    Some words depend on the other columns: in a file with a contact person's name, a plain e-mail, phone,
    language or time zone column is the person's; "Name" (English, German), "Nombre" (Spanish) and "Nom" (Catalan,
    French) are a first name beside a surname column (French "Nom" beside "Prénom" is the surname), the person's
    name beside a company column, and the company's name alone."""
    reduced = {header: words(header) for header in headers}
    found = {_BY_WORDS.get(w) for w in reduced.values() if w not in _AMBIGUOUS_NAMES}
    all_words = set(reduced.values())
    has_surname = "contact.last_name" in found or bool(all_words & {"cognom", "cognoms"})
    has_company = "name" in found
    has_person = bool(found & _PERSON_NAMES) or bool(
        all_words & _AMBIGUOUS_NAMES and (has_company or has_surname or "prenom" in all_words)
    )
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        w = reduced[header]
        key = _BY_WORDS.get(w)
        if w in _AMBIGUOUS_NAMES:
            if w == "nom" and "prenom" in all_words:
                key = "contact.last_name"
            elif has_surname:
                key = "contact.first_name"
            else:
                key = "contact.name" if has_company else "name"
        elif key in _PERSONAL and has_person and not _COMPANY_WORDS & set(w.split()):
            key = _PERSONAL[key]
        elif key is None:
            key = _score_component(w)
        if key is not None and key not in taken:
            mapping[header] = key
            taken.add(key)
    return mapping


def check(mapping: dict[str, str], headers: list[str]) -> list[tuple[str, str]]:
    """(header or field, message) for each problem of ``mapping`` against the file's ``headers``: a column the
    file lacks, an unknown field (external ids too: upsertAccounts sets them), a field fed twice; ``("name", …)``
    when no column feeds the account's name."""
    problems: list[tuple[str, str]] = []
    present = set(headers)
    fed_by: dict[str, str] = {}
    for header, field in mapping.items():
        if header not in present:
            problems.append((header, f"The file has no column “{header}”."))
            continue
        if not field:
            continue
        if field in _SET_BY_UPSERTS:
            problems.append((header, f"“{field}” is not imported from a file: set external ids with upsertAccounts."))
        elif not is_field(field):
            problems.append((header, f"“{field}” is not a field that can be imported."))
        elif field in fed_by:
            problems.append((header, f"“{field}” is already fed by the column “{fed_by[field]}”."))
        else:
            fed_by[field] = header
    if "name" not in fed_by:
        problems.append(("name", "No column is mapped to the account's name (field “name”)."))
    return problems


def is_field(field: str) -> bool:
    """Whether ``field`` is a key a column may feed."""
    if field in FIELDS:
        return True
    if field.startswith(CUSTOM_PREFIX):
        return bool(_CUSTOM_KEY.fullmatch(field.removeprefix(CUSTOM_PREFIX)))
    if field.startswith(SCORE_PREFIX):
        return bool(_COMPONENT.fullmatch(field.removeprefix(SCORE_PREFIX)))
    return False


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One row turned into raw values by field. ``account``: account fields (only filled cells; ``tags`` a list,
    custom fields under ``custom_fields``); ``contact``: contact fields without their prefix (first and last name
    joined into ``name`` when it is absent), None when no contact cell is filled; ``scores``: ``""`` for the
    overall score and component names → raw text; ``problem``: why the row cannot be imported, else None."""

    line: int
    account: dict[str, Any]
    contact: dict[str, Any] | None
    scores: dict[str, str]
    problem: str | None


def parse_rows(table: Table, mapping: dict[str, str]) -> Iterator[ParsedRow]:
    """The table's rows through ``mapping`` (columns it leaves out, or with an unknown field, are ignored)."""
    return map(row_parser(table.headers, mapping), table.rows)


def row_parser(headers: list[str], mapping: dict[str, str]) -> Callable[[Row], ParsedRow]:
    """What turns one row of a table with ``headers`` into a `ParsedRow` through ``mapping`` (see `parse_rows`)."""
    position = {header: index for index, header in enumerate(headers)}
    columns = [(position[header], *_destination(field)) for header, field in mapping.items()
               if header in position and is_field(field)]
    return functools.partial(_parse, columns=columns)


def _destination(field: str) -> tuple[str, str]:
    """Where a column's values go in a `ParsedRow` (``account``, ``tags``, ``custom``, ``contact`` or ``score``)
    and under which name: worked out once per column, not once per cell."""
    if field == SCORE:
        return "score", ""
    for kind, prefix in (("score", SCORE_PREFIX), ("custom", CUSTOM_PREFIX), ("contact", CONTACT_PREFIX)):
        if field.startswith(prefix):
            return kind, field.removeprefix(prefix)
    return ("tags" if field == "tags" else "account"), field


def _parse(row: Row, columns: list[tuple[int, str, str]]) -> ParsedRow:
    account: dict[str, Any] = {}
    contact: dict[str, Any] = {}
    scores: dict[str, str] = {}
    cells = row.cells
    for index, kind, name in columns:
        value = cells[index]
        if not value:
            continue
        if kind == "account":
            account[name] = value
        elif kind == "contact":
            contact[name] = value
        elif kind == "score":
            scores[name] = value
        elif kind == "custom":
            account.setdefault("custom_fields", {})[name] = value
        else:
            tags = [tag.strip() for tag in TAG_SEPARATORS.split(value) if tag.strip()]
            if tags:
                account["tags"] = tags
    first, last = contact.pop("first_name", ""), contact.pop("last_name", "")
    if "name" not in contact and (first or last):
        contact["name"] = " ".join(part for part in (first, last) if part)
    problem = row.problem
    if problem is None and not account.get("name"):
        problem = "the account's name is empty"
    return ParsedRow(line=row.line, account=account, contact=contact or None, scores=scores, problem=problem)


def _score_component(reduced: str) -> str | None:
    """``score.<snake_name>`` for headers such as ``quality_score``, ``Relevance score`` or
    ``guest_post_likelihood``, else None."""
    parts = reduced.split()
    if len(parts) < 2 or not (_SCORE_WORDS & {parts[0], parts[-1]}):
        return None
    name = "_".join(parts)
    if not _COMPONENT.fullmatch(name):
        return None
    return SCORE_PREFIX + name
