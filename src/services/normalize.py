"""Normalisation of the values dedupe compares: domains, names, cities, phones, e-mails, codes."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale, localedata
from babel.core import get_global, parse_locale
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from outboundql.services.fields import storable

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
# BCP 47 ``language[-Script][-REGION]`` (either separator, any case); the subtags are checked against CLDR.
_LANGUAGE_TAG = re.compile(
    r"(?P<language>[a-z]{2,3})(?:[-_](?P<script>[a-z]{4}))?(?:[-_](?P<region>[a-z]{2}|[0-9]{3}))?",
    re.IGNORECASE | re.ASCII)
MAX_LANGUAGE_TAG = 8  # the language columns' max_length
# ISO 3166-1 alpha-2: phonenumbers' regions plus the territories without a numbering plan.
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS - {"001"}) | {"AQ", "BV", "HM", "TF", "UM", "GS", "PN"}


# Latin letters that carry a "stroke" rather than a combining accent, so NFKD leaves them as they are.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe",
                                 "þ": "th", "ð": "d"})
_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
_NON_WORD = re.compile(r"[^\w]+")


def _fold(text: str) -> str:
    """Lowercase, strip accents, turn anything that is not a letter or digit into spaces."""
    if text.isascii():  # nothing to decompose (most names): the same answer at a fraction of the cost
        ascii_ish = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        ascii_ish = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().translate(
            _UNDECOMPOSABLE)
    ascii_ish = _APOSTROPHES.sub("", ascii_ish)  # "McDonald's" = "McDonalds", not "mcdonald s"
    return _NON_WORD.sub(" ", ascii_ish.replace("&", " & ")).replace("_", " ")


def name_key(name: str) -> str:
    """``"The Acme Company, Inc."`` → ``"acme"``: what two spellings of one organisation share."""
    words = _fold(name).split()
    # Join dotted abbreviations like "s.a." / "b.v." that folding split into letters.
    kept = [w for w in words if w not in LEGAL_SUFFIXES and w not in FILLER_WORDS]
    joined = " ".join(kept)
    if len(kept) > 1 and len(kept[-1]) == 1:  # a spaced suffix ends in a one-letter word
        for spaced in _SPACED_SUFFIXES:
            if joined.endswith(spaced):
                joined = joined[: -len(spaced)]
    return joined.strip() or " ".join(words)


# " s a", " b v"…: the legal suffixes of more than one letter as folding leaves a dotted spelling, longest first.
_SPACED_SUFFIXES = tuple(" " + " ".join(suffix) for suffix in sorted(LEGAL_SUFFIXES, key=len, reverse=True)
                         if len(suffix) > 1)


@functools.lru_cache(maxsize=4096)  # a file names the same few cities thousands of times
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
    if host.isascii():  # what the IDNA codec checks of an ASCII name, without the codec's cost
        labels = host.split(".")
        if not all(0 < len(label) < 64 for label in labels[:-1]) or len(labels[-1]) >= 64:
            raise ValueError(f"{value!r} is not a valid domain.")
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{value!r} is not a valid domain.") from None
        labels = host.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{value!r} is not a valid domain (expected something like example.com).")
    return host


def normalize_phone(value: str | None, country: str | None = None) -> str | None:
    """Parse a phone number to E.164, using ``country`` for national formats. ValueError if invalid.

    Nothing is dropped or guessed: letters are refused (phonenumbers would map a vanity number's letters to
    keypad digits, ``+1 800 FLOWERS`` → ``+18003569377``, and drop a stray one), and so is an extension
    (E.164 has no place for it)."""
    if value is None or not value.strip():
        return None
    if any(c.isalpha() for c in value):
        raise ValueError(f"{value!r} contains letters: write the phone number in digits, like +34 612 345 678 "
                         "(vanity numbers such as 1-800-FLOWERS and extensions are not accepted).")
    try:
        parsed = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"{value!r} is not a phone number; use international format like +34 612 345 678"
            + ("" if country else " or set the country") + "."
        ) from None
    if parsed.extension:
        raise ValueError(f"{value!r} has an extension ({parsed.extension}), which is not stored: give the number "
                         "without it.")
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{value!r} is not a possible phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# The plain ASCII addresses almost every list holds (``ana.lopez+news@mail.acme-corp.es``), which
# email_validator would accept and normalise to their lowercase: checked here at a tenth of its cost. Anything
# else (quotes, Unicode, IDNA ``--`` labels, special-use domains, lengths near the limits) goes to email_validator.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)


def is_plain_email(lowercase: str) -> bool:
    """Whether ``lowercase`` is one of the plain ASCII addresses email_validator would accept as it is."""
    return (len(lowercase) <= 200 and _PLAIN_EMAIL.fullmatch(lowercase) is not None and lowercase.index("@") <= 64
            and "--" not in lowercase and not lowercase.endswith(_SPECIAL_USE))


def normalize_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    plain = value.strip().lower()
    if is_plain_email(plain):
        return plain
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
    """A BCP 47 language tag ``language[-Script][-REGION]`` checked against CLDR, in its canonical form.

    ``"PT_br"`` → ``"pt-BR"``, ``"zh-hant"`` → ``"zh-Hant"``, ``"es-419"``; CLDR's aliases are replaced
    (``"iw"`` → ``"he"``, ``"eng"`` → ``"en"``, ``"en-UK"`` → ``"en-GB"``). The language must be one CLDR has
    locale data for (``"zz"`` is refused), the script and region ones CLDR names. Variants, extensions and
    private use are refused, and so is a tag longer than :data:`MAX_LANGUAGE_TAG` (the columns' size): give
    the language with either its script or its region. ValueError says which part is wrong.
    """
    if value is None or not value.strip():
        return None
    match = _LANGUAGE_TAG.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a language tag: use a BCP 47 tag such as en, es, pt-BR or zh-Hant "
                         "(language[-Script][-REGION]).")
    language, script, region = match.group("language").lower(), match.group("script"), match.group("region")
    language = _cldr().language_aliases.get(language, language)
    if language not in _cldr().languages:
        raise ValueError(f"{value!r} is not a language tag: {language!r} is not a language CLDR knows "
                         "(use a code such as en, es, pt or zh).")
    parts = [language]
    if script:
        script = script.title()
        if script not in _cldr().scripts:
            raise ValueError(f"{value!r} is not a language tag: {script!r} is not a script CLDR knows "
                             "(e.g. Latn, Cyrl, Hant).")
        parts.append(script)
    if region:
        region = region.upper()
        region = _cldr().region_aliases.get(region, region)
        if region not in _cldr().regions:
            raise ValueError(f"{value!r} is not a language tag: {region!r} is not a region CLDR knows "
                             "(an ISO 3166-1 code such as ES or BR, or a UN M.49 area such as 419).")
        parts.append(region)
    tag = "-".join(parts)
    if len(tag) > MAX_LANGUAGE_TAG:
        raise ValueError(f"{value!r} is longer than {MAX_LANGUAGE_TAG} characters: give the language with either "
                         f"its script or its region (e.g. {language}-{script} or {language}-{region}).")
    return tag


@dataclass(frozen=True, slots=True)
class _Cldr:
    languages: frozenset[str]
    scripts: frozenset[str]
    regions: frozenset[str]
    language_aliases: Mapping[str, str]
    region_aliases: Mapping[str, str]


@functools.cache
def _cldr() -> _Cldr:
    """The codes CLDR (as shipped with Babel) knows, read once."""
    languages = frozenset(parse_locale(i)[0] for i in localedata.locale_identifiers()) - {"root"}
    english = Locale("en")
    # Only the aliases that stand for one plain code are applied ("sh" → "sr_Latn" is refused instead).
    language_aliases = {old: new for old, new in get_global("language_aliases").items() if new in languages}
    regions = frozenset(english.territories) - {"ZZ", "XA", "XB"}  # unknown region, pseudo-locales (and Zzzz)
    region_aliases = {old: new[0] for old, new in get_global("territory_aliases").items()
                      if len(new) == 1 and new[0] in regions}
    return _Cldr(languages, frozenset(english.scripts) - {"Zzzz"}, regions, language_aliases, region_aliases)


def normalize_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    raw = storable(value, "The URL").strip()
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = parts.hostname
    if (
        parts.scheme not in ("http", "https") or not host or "." not in host
        or parts.username is not None or " " in raw
    ):
        raise ValueError(f"{value!r} is not a valid http(s) URL.")
    return raw
