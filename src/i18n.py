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

from babel import Locale
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
        """The catalog for a language tag: its own (``pt_BR``) if there is one, else its base language's
        (``"es-ES"`` → ``"es"``), else English (cached: scorers call it per reason)."""
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


def catalog_names(language: str | None) -> tuple[str, ...]:
    """The catalog folders that may serve a language tag, closest first: ``"zh-Hant-TW"`` →
    ``("zh_Hant_TW", "zh_Hant", "zh")`` (gettext names a regional catalog ``pt_BR``; a tag falls back to its
    base language's catalog)."""
    primary = primary_language(language)
    if primary is None:
        return ()
    parts = re.split(r"[-_]", (language or "").strip())
    subtags = [primary, *(p.title() if len(p) == 4 else p.upper() for p in parts[1:] if re.fullmatch(r"\w+", p))]
    return tuple("_".join(subtags[:n]) for n in range(len(subtags), 0, -1))


@functools.lru_cache(maxsize=1024)
def _resolve(package: str, domain: str, language: str | None) -> str:
    catalogs = Catalogs(package, domain)
    return next((name for name in catalog_names(language) if catalogs.file(name).is_file()), DEFAULT_LANGUAGE)


@functools.cache
def _read(package: str, domain: str, language: str) -> Mapping[str, str]:
    with Catalogs(package, domain).file(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=domain)
    return {str(m.id): (str(m.string) or str(m.id)) for m in catalog if m.id and isinstance(m.id, str)}


def english_name(language: str) -> str | None:
    """``"fr"`` → ``"French"``, ``"pt-BR"`` → ``"Portuguese (Brazil)"`` (CLDR's English names); None when CLDR
    has no name for the tag's language."""
    subtags = re.split(r"[-_]", language.strip())
    english = _english()
    name = english.languages.get(subtags[0].lower())
    if not name:
        return None
    details = [english.scripts.get(s.title()) if len(s) == 4 else english.territories.get(s.upper())
               for s in subtags[1:]]
    return f"{name} ({', '.join(d for d in details if d)})" if any(details) else name


@functools.cache
def _english() -> Locale:
    return Locale("en")


def placeholders(text: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(text))
