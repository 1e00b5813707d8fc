"""Message catalogs for scorer reasons: gettext ``.po`` files read with Babel, cached per language."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"
DOMAIN = "outboundql"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog_file(language: str) -> resources.abc.Traversable:
    return resources.files("outboundql.scoring") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> tuple[str, ...]:
    root = resources.files("outboundql.scoring") / "locales"
    return tuple(sorted(d.name for d in root.iterdir() if d.is_dir() and _catalog_file(d.name).is_file()))


@functools.lru_cache(maxsize=256)
def resolve_language(language: str | None) -> str:
    """``"es-ES"`` → ``"es"``; a language without a catalog → English."""
    primary = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    if primary and re.fullmatch(r"[a-z]{2,3}", primary) and _catalog_file(primary).is_file():
        return primary
    return DEFAULT_LANGUAGE


@functools.cache
def messages(language: str) -> Mapping[str, str]:
    """msgid → translated text for one catalog language (untranslated entries fall back to the msgid)."""
    with _catalog_file(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(m.id): (str(m.string) or str(m.id)) for m in catalog if m.id and isinstance(m.id, str)}


def translate(language: str | None, msgid: str, **values: object) -> str:
    """The message in ``language`` (English when unknown), with ``{placeholders}`` filled in."""
    table = messages(resolve_language(language))
    text = table.get(msgid) or messages(DEFAULT_LANGUAGE).get(msgid) or msgid
    return text.format(**values)


def placeholders(text: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(text))
