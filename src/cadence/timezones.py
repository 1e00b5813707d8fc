"""Time zones: checking the IANA names people type, the main zone of a country, and which zone a campaign's window
is read in for one recipient (the contact's, else the account's, else their country's, else the window's own).

Country zones come from CLDR through Babel (a dependency, so always there): a country with a single zone gets it;
one with several gets its capital's or most populous zone from ``PRIMARY_ZONES``."""

from __future__ import annotations

from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global

MAX_TIME_ZONE_LENGTH = 64

PRIMARY_ZONES: dict[str, str] = {
    "AQ": "Antarctica/McMurdo",
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UM": "Pacific/Midway",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}
"""The zone of a country that CLDR splits into several, by capital or population."""

_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
"""Files some systems keep beside the zones, which name no place."""


def normalize_time_zone(value: str | None) -> str | None:
    """The canonical spelling of an IANA time zone name, matched case-insensitively; None for None or blank.
    Raises ValueError for a name that is not a time zone."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_TIME_ZONE_LENGTH:
        raise ValueError(f"A time zone name has at most {MAX_TIME_ZONE_LENGTH} characters: use an IANA name such as "
                         "Europe/Madrid or America/New_York.")
    canonical = _known_zones().get(value.lower())
    if canonical is None:
        raise ValueError(f"Unknown time zone {value!r}: use an IANA name such as Europe/Madrid or America/New_York.")
    return canonical


@lru_cache(maxsize=512)
def country_zone(country: str | None) -> ZoneInfo | None:
    """The time zone of an ISO 3166-1 alpha-2 country code (any case), or None for an unknown code."""
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha() or code == "ZZ":
        return None
    zones: list[str] = get_global("territory_zones").get(code, [])
    primary = PRIMARY_ZONES.get(code)
    for name in ([primary] if primary else []) + zones:
        zone = _zone(name)
        if zone is not None:
            return zone
    return None


def zone_for(contact_time_zone: str | None, account_time_zone: str | None, country: str | None,
             fallback: str) -> ZoneInfo:
    """The first usable of: the contact's zone, the account's, the country's, ``fallback`` (else UTC).
    A stored name that is not a time zone is skipped."""
    return (_zone(contact_time_zone) or _zone(account_time_zone) or country_zone(country) or _zone(fallback)
            or ZoneInfo("UTC"))


def recipient_zone(window_time_zone: str, recipient_local_time: bool, contact_time_zone: str | None,
                   account_time_zone: str | None, country: str | None) -> ZoneInfo:
    """The zone a window is read in for one recipient: the window's own unless ``recipient_local_time``, then the
    recipient's (see `zone_for`), falling back to the window's."""
    if not recipient_local_time:
        return _zone(window_time_zone) or ZoneInfo("UTC")
    return zone_for(contact_time_zone, account_time_zone, country, window_time_zone)


@lru_cache(maxsize=1024)
def _zone(name: str | None) -> ZoneInfo | None:
    try:
        canonical = normalize_time_zone(name)
    except ValueError:
        return None
    if canonical is None:
        return None
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@cache
def _known_zones() -> dict[str, str]:
    names = (available_timezones() - _NOT_ZONES) | {"UTC"}
    return {name.lower(): name for name in names}
