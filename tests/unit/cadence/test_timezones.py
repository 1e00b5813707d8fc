"""Time zones: names people type, a country's zone, and the zone a window is read in for one recipient."""

from __future__ import annotations

import pytest
from babel.core import get_global

from outboundql.cadence.timezones import (
    PRIMARY_ZONES,
    country_zone,
    normalize_time_zone,
    recipient_zone,
    zone_for,
)

# --- normalize_time_zone ------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\n"])
def test_blank_is_none(blank: str | None) -> None:
    assert normalize_time_zone(blank) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        ("europe/madrid", "Europe/Madrid"),
        ("  AMERICA/NEW_YORK ", "America/New_York"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("asia/kolkata", "Asia/Kolkata"),
    ],
)
def test_known_names_get_their_canonical_spelling(raw: str, expected: str) -> None:
    assert normalize_time_zone(raw) == expected


@pytest.mark.parametrize("unknown", ["Mars/Base", "Europe", "Europe/Madrid/", "localtime", "Factory", "+02:00",
                                     "Europe/Madrid\x00"])
def test_unknown_names_are_refused(unknown: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalize_time_zone(unknown)
    assert str(refused.value) == (f"Unknown time zone {unknown.strip()!r}: use an IANA name such as Europe/Madrid or "
                                  "America/New_York.")


def test_long_names_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 64 characters"):
        normalize_time_zone("Europe/" + "x" * 58)


# --- country_zone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("US", "America/New_York"),
        ("RU", "Europe/Moscow"),
        ("BR", "America/Sao_Paulo"),
        ("AU", "Australia/Sydney"),
        ("CA", "America/Toronto"),
        ("ES", "Europe/Madrid"),
        ("MX", "America/Mexico_City"),
        ("ID", "Asia/Jakarta"),
        ("CN", "Asia/Shanghai"),
        ("KZ", "Asia/Almaty"),
        ("AR", "America/Argentina/Buenos_Aires"),
        ("CL", "America/Santiago"),
        ("DE", "Europe/Berlin"),
        ("PT", "Europe/Lisbon"),
        ("NZ", "Pacific/Auckland"),
        ("UA", "Europe/Kyiv"),
        ("FR", "Europe/Paris"),
        ("JP", "Asia/Tokyo"),
        ("IN", "Asia/Kolkata"),
        ("GB", "Europe/London"),
        ("IE", "Europe/Dublin"),
        ("us", "America/New_York"),
        (" gb ", "Europe/London"),
    ],
)
def test_country_zone(country: str, zone: str) -> None:
    found = country_zone(country)
    assert found is not None
    assert found.key == zone


@pytest.mark.parametrize("unknown", [None, "", "XX", "ZZ", "001", "USA", "U1", "É1", "Europe/Madrid"])
def test_unknown_country_has_no_zone(unknown: str | None) -> None:
    assert country_zone(unknown) is None


def test_every_country_split_by_cldr_has_a_primary_zone_among_its_own() -> None:
    territories = get_global("territory_zones")
    split = {code for code, zones in territories.items() if len(zones) > 1 and len(code) == 2 and code != "ZZ"}
    assert split == set(PRIMARY_ZONES)
    for code, zone in PRIMARY_ZONES.items():
        assert zone in territories[code], code


def test_every_country_of_cldr_has_a_zone() -> None:
    territories = get_global("territory_zones")
    missing = [code for code in territories if len(code) == 2 and code.isalpha() and code != "ZZ"
               and country_zone(code) is None]
    assert missing == []


# --- recipient_zone -----------------------------------------------------------------------------------


def test_window_zone_unless_recipient_local_time() -> None:
    assert recipient_zone("Europe/Madrid", False, "Asia/Tokyo", "America/Chicago", "US").key == "Europe/Madrid"


@pytest.mark.parametrize(
    ("contact", "account", "country", "expected"),
    [
        ("Asia/Tokyo", "America/Chicago", "US", "Asia/Tokyo"),  # contact first
        (None, "America/Chicago", "US", "America/Chicago"),  # then account
        (None, None, "US", "America/New_York"),  # then country
        (None, None, None, "Europe/Madrid"),  # then the window's
        (None, None, "XX", "Europe/Madrid"),
        ("", "  ", "", "Europe/Madrid"),
        ("Mars/Base", "America/Chicago", "US", "America/Chicago"),  # invalid stored names fall through
        ("Mars/Base", "Moon/Crater", "BR", "America/Sao_Paulo"),
        ("asia/tokyo", None, None, "Asia/Tokyo"),  # stored in another case
    ],
)
def test_recipient_local_time(contact: str | None, account: str | None, country: str | None, expected: str) -> None:
    assert recipient_zone("Europe/Madrid", True, contact, account, country).key == expected
    assert zone_for(contact, account, country, "Europe/Madrid").key == expected


def test_invalid_window_zone_falls_back_to_utc() -> None:
    assert recipient_zone("Mars/Base", False, "Asia/Tokyo", None, None).key == "UTC"
    assert recipient_zone("Mars/Base", True, None, None, None).key == "UTC"
