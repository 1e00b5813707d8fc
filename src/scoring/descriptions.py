"""How score reasons name a rubric criterion: by its description, in the reason's language.

The description is looked up in this order, closest language first (``"es-MX"`` → ``es_MX``, then ``es``):

1. the criterion's own ``translations`` (a goal plugin's, e.g. ``{"es": "Cubre…"}``);
2. the scoring catalogs, which translate the built-in goals' English descriptions (the msgid);
3. the English ``description``;
4. for a criterion without a description, its key made readable (``beat_match`` → ``Beat match``).

The final period is dropped: the description is the start of a reason (``"Covers the topics…: yes (…)."``).
"""

from __future__ import annotations

import functools

from outboundql.goals.api import Criterion
from outboundql.i18n import catalog_names
from outboundql.scoring.i18n import messages, resolve_language


@functools.lru_cache(maxsize=4096)  # a run renders the same few criteria for every account
def describe_criterion(criterion: Criterion, language: str | None) -> str:
    """The criterion's description in ``language`` (English when nothing translates it), without a final period."""
    names = catalog_names(language)
    own = {catalog_names(tag)[0]: text for tag, text in criterion.translations.items() if catalog_names(tag)}
    for name in names:
        text = own.get(name, "").strip()
        if text:
            return _clause(text)
    english = criterion.description.strip()
    if english:
        return _clause(messages(resolve_language(language)).get(english) or english)
    return humanise(criterion.key)


def humanise(key: str) -> str:
    """``"beat_match"`` → ``"Beat match"``."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _clause(text: str) -> str:
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(".") and not text.endswith("..") else text
