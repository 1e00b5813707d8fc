"""Message catalogs: gettext ``.po`` files read with Babel, cached per language.

Each user of generated text keeps its own catalogs (its own domain and folder), e.g. the rubric
scorer's reasons (``outboundql.scoring``) and the drafter's templates (``outboundql.drafting``):

    package/locales/<language>/LC_MESSAGES/<domain>.po
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Catalogs:
    """The catalogs of one ``domain`` under ``package``'s ``locales`` folder."""

    package: str
    domain: str

    def file(self, language: str) -> resources.abc.Traversable:
        return resources.files(self.package) / "locales" / language / "LC_MESSAGES" / f"{self.domain}.po"

    def available_languages(self) -> tuple[str, ...]:
        root = resources.files(self.package) / "locales"
        return tuple(sorted(d.name for d in root.iterdir() if d.is_dir() and self.file(d.name).is_file()))

    def has(self, language: str | None) -> bool:
        return bool(language) and self.file(str(language)).is_file()

    def resolve_language(self, language: str | None) -> str:
        """``"es-ES"`` → ``"es"``; a language without a catalog → English (cached: scorers call it per reason)."""
        return _resolve(self.package, self.domain, language)

    def messages(self, language: str) -> Mapping[str, str]:
        """msgid → translated text for one catalog language (untranslated entries fall back to the msgid)."""
        return _read(self.package, self.domain, language)

    def translate(self, language: str | None, msgid: str, **values: object) -> str:
        """The message in ``language`` (English when unknown), with ``{placeholders}`` filled in."""
        table = self.messages(self.resolve_language(language))
        text = table.get(msgid) or self.messages(DEFAULT_LANGUAGE).get(msgid) or msgid
        return text.format(**values)


def primary_language(language: str | None) -> str | None:
    """``"es-ES"`` → ``"es"``; None when it does not look like a language code."""
    primary = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return primary if primary and re.fullmatch(r"[a-z]{2,3}", primary) else None


@functools.lru_cache(maxsize=1024)
def _resolve(package: str, domain: str, language: str | None) -> str:
    primary = primary_language(language)
    if primary and Catalogs(package, domain).file(primary).is_file():
        return primary
    return DEFAULT_LANGUAGE


@functools.cache
def _read(package: str, domain: str, language: str) -> Mapping[str, str]:
    with Catalogs(package, domain).file(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    return {str(m.id): (str(m.string) or str(m.id)) for m in catalog if m.id and isinstance(m.id, str)}


def placeholders(text: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(text))
