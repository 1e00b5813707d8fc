"""Normalisation of the values dedupe compares: domains, names, cities, phones, e-mails, codes."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Legal-form suffixes and filler words dropped from organisation names before comparing.
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp", "ltd", "limited",
        "plc", "pllc", "gmbh", "mbh", "ag", "kg", "ohg", "ug", "sa", "sas", "sasu", "sarl", "sl", "slu",
        "srl", "spa", "sc", "bv", "nv", "oy", "oyj", "ab", "as", "asa", "aps", "pty", "pte", "kk", "kft",
        "zrt", "sro", "ou", "doo", "lda", "ltda", "cv", "sab", "sae", "se", "eurl", "scs", "sca",
    }
)
FILLER_WORDS = frozenset({"the", "and", "of", "&", "y", "et", "und", "i", "der", "die", "das", "la", "le", "el"})

_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
# ISO 3166-1 alpha-2: phonenumbers' regions plus the territories without a numbering plan.
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS - {"001"}) | {"AQ", "BV", "HM", "TF", "UM", "GS", "PN"}


# Latin letters that carry a "stroke" rather than a combining accent, so NFKD leaves them as they are.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe",
                                 "þ": "th", "ð": "d"})


def _fold(text: str) -> str:
    """Lowercase, strip accents, turn anything that is not a letter or digit into spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_ish = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().translate(_UNDECOMPOSABLE)
    ascii_ish = re.sub(r"['\u2019\u02bc]", "", ascii_ish)  # "McDonald's" = "McDonalds", not "mcdonald s"
    return re.sub(r"[^\w]+", " ", ascii_ish.replace("&", " & ")).replace("_", " ")


def name_key(name: str) -> str:
    """``"The Acme Company, Inc."`` → ``"acme"``: what two spellings of one organisation share."""
    words = _fold(name).split()
    # Join dotted abbreviations like "s.a." / "b.v." that folding split into letters.
    kept = [w for w in words if w not in LEGAL_SUFFIXES and w not in FILLER_WORDS]
    joined = " ".join(kept)
    for suffix in sorted(LEGAL_SUFFIXES, key=len, reverse=True):
        spaced = " ".join(suffix)
        if len(suffix) > 1 and joined.endswith(" " + spaced):
            joined = joined[: -len(spaced) - 1]
    return joined.strip() or " ".join(words)


def city_key(city: str | None) -> str:
    return " ".join(_fold(city or "").split())


def normalize_domain(value: str | None) -> str | None:
    """``"https://www.Acme.com/about"`` → ``"acme.com"``. Raises ValueError when it is not a domain."""
    if value is None or not value.strip():
        return None
    raw = value.strip().lower()
    host = urlsplit(raw if "://" in raw else "//" + raw).hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{value!r} is not a valid domain.") from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{value!r} is not a valid domain (expected something like example.com).")
    return host


def normalize_phone(value: str | None, country: str | None = None) -> str | None:
    """Parse a phone number to E.164, using ``country`` for national formats. ValueError if invalid."""
    if value is None or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"{value!r} is not a phone number; use international format like +34 612 345 678"
            + ("" if country else " or set the country") + "."
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{value!r} is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a valid e-mail address: {exc}") from None


def normalize_country(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. ES, US, DE).")
    return code


def normalize_language(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().lower()
    if not _LANGUAGE.match(code):
        raise ValueError(f"{value!r} is not an ISO 639-1 language code (e.g. en, es, fr).")
    return code


def normalize_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    raw = value.strip()
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname
        or parts.username is not None or " " in raw
    ):
        raise ValueError(f"{value!r} is not a valid http(s) URL.")
    return raw
