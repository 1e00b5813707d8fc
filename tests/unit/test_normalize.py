"""Pure functions: normalisation of dedupe keys and input values, slugs."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outboundql.services import normalize
from outboundql.services.slugs import MAX_SLUG, base_slug

# --- domains ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("ACME.COM", "acme.com"),
        ("https://www.Acme.com/x", "acme.com"),
        ("http://www.acme.com/about?x=1#top", "acme.com"),
        ("www.acme.co.uk", "acme.co.uk"),
        ("acme.com.", "acme.com"),
        ("  acme.com  ", "acme.com"),
        ("acme.com:8080", "acme.com"),
        ("https://user:pw@shop.acme.com/", "shop.acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("https://www.bücher.example/", "xn--bcher-kva.example"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("my-site.io", "my-site.io"),
    ],
)
def test_normalize_domain(raw: str, expected: str) -> None:
    assert normalize.normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_normalize_domain_blank_is_none(raw: str | None) -> None:
    assert normalize.normalize_domain(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["localhost", "not a domain", "1.2.3.4", "-bad.com", "bad-.com", "a_b.com", "http://", "acme..com",
     "x" * 64 + ".com", "acme.123"],
)
def test_normalize_domain_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid domain"):
        normalize.normalize_domain(raw)


# --- names and cities ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Acme Company, Inc.", "ACME S.L."),
        ("Acme", "acme ltd"),
        ("Acme GmbH & Co. KG", "Acme"),
        ("Acme B.V.", "ACME bv"),
        ("Acme S.A.", "Acme SA"),
        ("Acme, LLC", "Acme"),
        ("Café Olé S.A.", "cafe ole"),
        ("Müller AG", "Muller"),
        ("Łódź Øresund Oy", "Lodz Oresund"),
        ("Ben & Jerry's", "Ben and Jerrys"),
        ("Société Générale", "SOCIETE GENERALE"),
        ("  Acme   Widgets  ", "acme widgets"),
    ],
)
def test_name_key_equal(a: str, b: str) -> None:
    assert normalize.name_key(a) == normalize.name_key(b)


def test_name_key_values() -> None:
    assert normalize.name_key("The Acme Company, Inc.") == "acme"
    assert normalize.name_key("Café Olé S.A.") == "cafe ole"
    assert normalize.name_key("Straße Holding GmbH") == "strasse holding"


@pytest.mark.parametrize(("a", "b"), [("Acme", "Acme Widgets"), ("Acme", "Apex"), ("Coca Cola", "Cola Coca")])
def test_name_key_different(a: str, b: str) -> None:
    assert normalize.name_key(a) != normalize.name_key(b)


@pytest.mark.parametrize("name", ["Inc", "The Company", "AG", "Co."])
def test_name_key_never_empty_for_a_name(name: str) -> None:
    assert normalize.name_key(name)


def test_city_key() -> None:
    assert normalize.city_key("  Málaga ") == normalize.city_key("MALAGA") == "malaga"
    assert normalize.city_key("São  Paulo") == "sao paulo"
    assert normalize.city_key("København") == "kobenhavn"
    assert normalize.city_key(None) == ""
    assert normalize.city_key("") == ""


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+34 612 345 678", None, "+34612345678"),
        ("+34-612-34-56-78", "US", "+34612345678"),  # an international number ignores the country
        ("612 345 678", "ES", "+34612345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", None, "+14155552671"),
        ("030 1234567", "DE", "+49301234567"),
        ("00 34 612 345 678", "DE", "+34612345678"),
    ],
)
def test_normalize_phone(raw: str, country: str | None, expected: str) -> None:
    assert normalize.normalize_phone(raw, country) == expected


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_normalize_phone_blank(raw: str | None) -> None:
    assert normalize.normalize_phone(raw, "ES") is None


def test_normalize_phone_national_without_country_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match=r"international format.*set the country"):
        normalize.normalize_phone("612 345 678")


@pytest.mark.parametrize(("raw", "country"), [("abc", "ES"), ("12", "ES"), ("+34 1", None), ("+999 123 456", None)])
def test_normalize_phone_rejects(raw: str, country: str | None) -> None:
    with pytest.raises(ValueError):
        normalize.normalize_phone(raw, country)


@pytest.mark.parametrize(
    "raw",
    ["+1 (555) ABC-DEFG", "+1 800 FLOWERS", "1-800-flowers", "+1 415 55a5 2671", "+34 612 345 678 tel",
     "+1 415 555 2671 ext. 12", "+1 415 555 2671 x12", "tel:+34-612-345-678", "+34 612 345 ６７８ é"],
)
def test_normalize_phone_refuses_letters_instead_of_mapping_or_dropping_them(raw: str) -> None:
    # phonenumbers maps a vanity number's letters to keypad digits (+1 (555) ABC-DEFG → +15552223334), drops a
    # stray letter, and reads "tel" at the end as digits; an extension would be dropped from E.164.
    with pytest.raises(ValueError, match="contains letters: write the phone number in digits"):
        normalize.normalize_phone(raw, "US")


@pytest.mark.parametrize("raw", ["+1 415 555 2671 #12", "+1 415 555 2671;12"])
def test_normalize_phone_refuses_an_extension_it_would_drop(raw: str) -> None:
    with pytest.raises(ValueError, match=r"has an extension \(12\), which is not stored"):
        normalize.normalize_phone(raw, "US")


def test_normalize_phone_accepts_other_scripts_digits() -> None:
    assert normalize.normalize_phone("+34 ６１２ ３４５ ６７８") == "+34612345678"


# --- e-mail, country, language, url -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Hello@ACME.com", "hello@acme.com"), ("  a.b+tag@example.co ", "a.b+tag@example.co"), ("", None), (None, None)],
)
def test_normalize_email(raw: str | None, expected: str | None) -> None:
    assert normalize.normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["nope", "a@b", "@acme.com", "a@@acme.com", "a b@acme.com"])
def test_normalize_email_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid e-mail"):
        normalize.normalize_email(raw)


def _validated(raw: str) -> str | None:
    """What email_validator alone answers (the slow path): the address lowercased, or None when refused."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@pytest.mark.parametrize("raw", [
    "ana@acme.es", "Ana.Lopez+news@Mail.Acme-Corp.ES", "x@a.io", "a..b@acme.com", ".a@acme.com", "a.@acme.com",
    "a@-acme.com", "a@acme-.com", "a@acme.c0m", "a@acme.123", "a@xn--bcher-kva.example", "a@host.test",
    "a@b.localhost", "a@b.onion", "a" * 65 + "@acme.com", "a@" + "b" * 64 + ".com", "a@" + ("b" * 60 + ".") * 4 + "com",
    "a_b%c@acme.com", "a--b@acme.com", "a@acme..com", "a@acme.com.", "\"a b\"@acme.com", "jos\u00e9@acme.com",
    "a@ac_me.com", "a@acme.contest", "a@acme.museum"])
def test_the_fast_path_answers_what_email_validator_answers(raw: str) -> None:
    expected = _validated(raw)
    if expected is None:
        with pytest.raises(ValueError, match="not a valid e-mail"):
            normalize.normalize_email(raw)
    else:
        assert normalize.normalize_email(raw) == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local=st.text(alphabet="aZ09._%+-", min_size=1, max_size=70),
       labels=st.lists(st.text(alphabet="aZ09-_", min_size=1, max_size=66), min_size=1, max_size=4),
       tld=st.sampled_from(["com", "es", "c0", "1", "test", "local", "museum", "a", "x-y"]))
def test_the_fast_path_never_disagrees_with_email_validator(local: str, labels: list[str], tld: str) -> None:
    raw = f"{local}@{'.'.join([*labels, tld])}"
    expected = _validated(raw)
    try:
        got: str | None = normalize.normalize_email(raw)
    except ValueError:
        got = None
    assert got == expected


@pytest.mark.parametrize(("raw", "expected"), [("es", "ES"), (" us ", "US"), ("GB", "GB"), ("aq", "AQ"),
                                                 ("", None), (None, None)])
def test_normalize_country(raw: str | None, expected: str | None) -> None:
    assert normalize.normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["XX", "ESP", "Spain", "UK", "001", "E"])
def test_normalize_country_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1"):
        normalize.normalize_country(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EN", "en"), (" es ", "es"), ("", None), (None, None),
        # BCP 47 tags in their canonical case, with either separator
        ("es-ES", "es-ES"), ("pt_br", "pt-BR"), ("PT-BR", "pt-BR"), ("zh-hant", "zh-Hant"), ("sr-LATN", "sr-Latn"),
        ("es-419", "es-419"), ("en-001", "en-001"), ("ast", "ast"), ("fil", "fil"), ("ast-Latn", "ast-Latn"),
        ("fr-JP", "fr-JP"),  # each subtag is checked, not whether CLDR has data for the pair
        # CLDR's aliases are replaced by the codes they stand for
        ("iw", "he"), ("in", "id"), ("eng", "en"), ("en-UK", "en-GB"), ("de-DD", "de-DE"),
    ],
)
def test_normalize_language(raw: str | None, expected: str | None) -> None:
    assert normalize.normalize_language(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("zz", "'zz' is not a language CLDR knows"), ("und", "not a language CLDR knows"),
        ("tlh", "not a language CLDR knows"), ("sh", "not a language CLDR knows"),  # sh → sr-Latn: give that
        ("en-ZZ", "'ZZ' is not a region CLDR knows"), ("en-QQ", "not a region"), ("en-XA", "not a region"),
        ("en-Xxxx", "'Xxxx' is not a script CLDR knows"), ("en-Zzzz", "not a script"),
        ("english", "use a BCP 47 tag"), ("e", "use a BCP 47 tag"), ("e1", "use a BCP 47 tag"),
        ("en-US-posix", "use a BCP 47 tag"), ("ca-ES-valencia", "use a BCP 47 tag"), ("en-u-ca-gregory", "BCP 47"),
        ("x-klingon", "BCP 47"), ("root", "BCP 47"), ("en--US", "BCP 47"), ("\u212aa", "BCP 47"),  # Kelvin sign
        ("zh-Hant-TW", "longer than 8 characters: .* zh-Hant or zh-TW"),
    ],
)
def test_normalize_language_rejects(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        normalize.normalize_language(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "https://example.com"),
        ("example.com/path?q=1", "https://example.com/path?q=1"),
        (" http://x.io ", "http://x.io"),
        ("https://www.example.com/", "https://www.example.com/"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_url(raw: str | None, expected: str | None) -> None:
    assert normalize.normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ftp://example.com", "localhost", "https://", "javascript:alert(1)", "tel:+34612345678"]
)
def test_normalize_url_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="http"):
        normalize.normalize_url(raw)


# --- slugs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Outbound", "acme-outbound"),
        ("  Hello, World!  ", "hello-world"),
        ("Café Olé", "cafe-ole"),
        ("M&A — New York", "m-a-new-york"),
        ("UPPER lower", "upper-lower"),
    ],
)
def test_base_slug(name: str, expected: str) -> None:
    assert base_slug(name, "fallback") == expected


@pytest.mark.parametrize("name", ["", "???", "   ", "—"])
def test_base_slug_falls_back(name: str) -> None:
    assert base_slug(name, "product") == "product"


def test_base_slug_leaves_room_for_a_suffix_and_cuts_on_a_word() -> None:
    slug = base_slug("word " * 60, "x")
    assert len(slug) <= MAX_SLUG - 6
    assert not slug.endswith("-")
    assert set(slug.split("-")) == {"word"}
