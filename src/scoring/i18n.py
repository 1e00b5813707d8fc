"""Message catalogs for scorer reasons (domain ``outboundql`` under ``scoring/locales``)."""

from __future__ import annotations

from collections.abc import Mapping

from outboundql.i18n import DEFAULT_LANGUAGE, Catalogs, placeholders

__all__ = ["DEFAULT_LANGUAGE", "DOMAIN", "available_languages", "messages", "placeholders", "resolve_language",
           "translate"]

DOMAIN = "outboundql"
CATALOGS = Catalogs("outboundql.scoring", DOMAIN)


def available_languages() -> tuple[str, ...]:
    return CATALOGS.available_languages()


def resolve_language(language: str | None) -> str:
    """``"es-ES"`` → ``"es"``; a language without a catalog → English."""
    return CATALOGS.resolve_language(language)


def messages(language: str) -> Mapping[str, str]:
    """msgid → translated text for one catalog language (untranslated entries fall back to the msgid)."""
    return CATALOGS.messages(language)


def translate(language: str | None, msgid: str, **values: object) -> str:
    """The message in ``language`` (English when unknown), with ``{placeholders}`` filled in."""
    return CATALOGS.translate(language, msgid, **values)
