"""The return date stated in an out-of-office reply, in English, Spanish, French, German or Catalan.

Dates are found as written: "12 March", "March 12th, 2027", "3 de abril", "5 mai", "10. Juni", "7 de juliol",
"12/03" (day first, unless the second number cannot be a month), "12.03.2027", "2027-03-12", and weekdays
("back Monday", "el lunes", "lundi", "Montag", "dilluns"). A date without a year is placed on or after the day the
reply was received (one that would fall before it is next year's); a weekday is the next one after that day.
Without ``received_at`` neither can be placed, and only dates with a year are returned.

Which date: one after a "back" cue ("back on", "de vuelta el", "de retour le", "ab dem … wieder", "tornaré el")
is the return date itself; one after an "until" cue ("until", "hasta el", "jusqu'au", "bis zum", "fins al") is
the last day away, so the person is back the day after; with no cue, the latest date stated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from outboundql.classifiers.text import fold

MONTHS: dict[str, int] = {
    # en
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # es
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    # fr
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # de
    "januar": 1, "janner": 1, "februar": 2, "marz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    # ca
    "gener": 1, "febrer": 2, "marc": 3, "maig": 5, "juny": 6, "juliol": 7, "agost": 8, "setembre": 9,
    "desembre": 12,
}

WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonntag": 6,
    "dilluns": 0, "dimarts": 1, "dimecres": 2, "dijous": 3, "divendres": 4, "dissabte": 5, "diumenge": 6,
}

#: Cues after which a date is the day the person is back.
BACK_CUES: tuple[str, ...] = (
    "back", "return", "returning", "in the office", "from", "starting",
    "vuelta", "volvere", "vuelvo", "regreso", "regresare", "reincorporo", "a partir del", "a partir de", "desde",
    "retour", "reviendrai", "reprendrai", "reprends", "a partir du", "des le",
    "ab dem", "ab", "wieder", "zuruck", "zurueck", "erreichbar",
    "tornare", "torno", "tornada", "a partir del", "retorn", "reincorporare",
)
#: Cues after which a date is the last day away (back the day after).
UNTIL_CUES: tuple[str, ...] = (
    "until", "till", "through", "hasta", "jusqu'au", "jusqu au", "jusqu'a", "bis zum", "bis", "bis einschließlich",
    "fins al", "fins el", "fins a",
)

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_YEAR = r"(?:,?\s+(?:de\s+|del\s+)?(?P<year>\d{4}))?"
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(r"(?<![\d.])(?P<day>\d{1,2})[./](?P<month>\d{1,2})(?:[./](?P<year>\d{4}|\d{2}))?\.?(?![\d/]|\.\d)"),
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|r|\.|º|o)?\s*(?:de\s+|d'\s*|d\s+|of\s+)?"
               rf"(?P<name>{_MONTH})\b\.?{_YEAR}"),
    re.compile(rf"\b(?P<name>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\d){_YEAR}"),
    re.compile(rf"\b(?P<weekday>{_WEEKDAY})\b"),
)


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    on: date


def _place(day: int, month: int, year: int | None, reference: date | None) -> date | None:
    if year is not None and year < 100:
        year += 2000
    try:
        if year is not None:
            return date(year, month, day)
        if reference is None:
            return None
        placed = date(reference.year, month, day)
        return placed if placed >= reference else date(reference.year + 1, month, day)
    except ValueError:  # 31 February, a time like 25.30, a version number
        return None


def _find_dates(text: str, reference: date | None) -> list[_Found]:
    found: list[_Found] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            groups = match.groupdict()
            on: date | None
            if groups.get("weekday"):
                if reference is None:
                    continue
                ahead = (WEEKDAYS[groups["weekday"]] - reference.weekday()) % 7 or 7
                on = reference + timedelta(days=ahead)
            else:
                month = MONTHS[groups["name"]] if groups.get("name") else int(groups["month"])
                day = int(groups["day"])
                if "/" in match.group(0) and month > 12 and day <= 12:  # 03/25 written month first
                    day, month = month, day
                if not 1 <= month <= 12:
                    continue
                on = _place(day, month, int(groups["year"]) if groups.get("year") else None, reference)
            if on is not None:
                found.append(_Found(match.start(), match.end(), on))
                taken.append((match.start(), match.end()))
    starts = {f.start for f in found}
    # a weekday written before its date ("lundi 7 avril", "Monday, 12 March") is that date, not the next one
    found = [f for f in found if not any(f.end < start <= f.end + 3 for start in starts)]
    return sorted(found, key=lambda f: f.start)


def _cue_before(text: str, position: int, cues: tuple[str, ...]) -> bool:
    window = " " + re.sub(r"[^a-z0-9']+", " ", text[max(0, position - 40):position]) + " "
    return any(f" {cue} " in window for cue in cues)


def return_date(text: str, received_at: datetime | None = None) -> date | None:
    """The day the person says they are back, or None when ``text`` states none (see the module docstring)."""
    folded = fold(text)
    reference = received_at.date() if received_at is not None else None
    found = _find_dates(folded, reference)
    if reference is not None:
        found = [f for f in found if f.on >= reference]
    if not found:
        return None
    for f in found:
        if _cue_before(folded, f.start, BACK_CUES) and not _cue_before(folded, f.start, UNTIL_CUES):
            return f.on
    for f in found:
        if _cue_before(folded, f.start, UNTIL_CUES):
            return f.on + timedelta(days=1)
    return max(f.on for f in found)
