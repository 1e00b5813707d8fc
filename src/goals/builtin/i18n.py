"""The built-in goals' persona prose in the campaign's language (domain ``goals`` under ``goals/builtin/locales``).

An ICP tweak writes a persona's name, summary and pain points in ``product.language`` (English when no catalog
has the language or the message); the terms matched against account data (industries, job titles, keywords)
stay as they are. Every message is marked with `N_` at module level, so the catalogs can be checked against them.
"""

from __future__ import annotations

from collections.abc import Iterable

from outboundql.goals import Product
from outboundql.i18n import Catalogs

DOMAIN = "goals"
CATALOGS = Catalogs("outboundql.goals.builtin", DOMAIN)

#: Every msgid marked with `N_` by a built-in goal (tests check the catalogs hold them all).
MARKED: set[str] = set()


def N_(msgid: str) -> str:  # the gettext marker for extractable strings
    MARKED.add(msgid)
    return msgid


def in_language(product: Product, msgid: str) -> str:
    """``msgid`` in the product's ``language``, with ``{product}`` filled in with its name."""
    return CATALOGS.translate(product.language, msgid, product=product.name)


def all_in_language(product: Product, msgids: Iterable[str]) -> tuple[str, ...]:
    return tuple(in_language(product, msgid) for msgid in msgids)
