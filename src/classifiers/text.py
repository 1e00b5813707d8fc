"""Text helpers shared by the ``rules`` classifier: folding, normalising, quoted history, language guess."""

from __future__ import annotations

import re
import unicodedata

from outboundql.classifiers.phrases import STOP_WORDS

_NOT_WORD = re.compile(r"[^a-z0-9@]+")
# The line that introduces quoted history, in the languages of the phrase lists (and Outlook's header block).
_QUOTE_HEADER = re.compile(
    r"^\s*(?:on .{0,200}wrote:|el .{0,200}escribi[oó]:|le .{0,200}a [ée]crit\s?:|am .{0,200}schrieb .{0,80}:"
    r"|el .{0,200}va escriure:|-{2,}\s*(?:original message|mensaje original|message d'origine"
    r"|urspr[üu]ngliche nachricht|missatge original)\s*-{2,}|(?:from|de|von):\s.+\n\s*(?:sent|enviado|envoy[ée]"
    r"|gesendet|enviat|date|fecha|datum|data):)",
    re.IGNORECASE | re.MULTILINE)


def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(part for word in words for part in normalise(word).split())


def fold(text: str) -> str:
    """``text`` in lower case without accents, one character for one (positions stay those of ``text``)."""
    return "".join((unicodedata.normalize("NFKD", c)[:1] or c).lower() for c in text)


def normalise(text: str) -> str:
    """Folded, every run of punctuation and whitespace one space, padded with a space on each side (so a phrase
    ``" x y "`` matches whole words)."""
    return " " + _NOT_WORD.sub(" ", fold(text).replace("ß", "ss")).strip() + " "


def own_words(text: str) -> str:
    """The reply without its quoted history: lines starting with ``>`` and everything from a "On … wrote:" line
    (or its equivalent in another language, or an original-message header) down."""
    header = _QUOTE_HEADER.search(text)
    if header and text[:header.start()].strip():
        text = text[:header.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def guess_language(text: str) -> str:
    """The language of `STOP_WORDS` with most stop words in ``text`` ("en" on a tie or none)."""
    words = normalise(text).split()
    votes = {language: sum(word in stop for word in words) for language, stop in _STOP_WORDS.items()}
    best = max(votes.values())
    if best == 0:
        return "en"
    return next(language for language, count in votes.items() if count == best)


_STOP_WORDS = {language: _folded(words) for language, words in STOP_WORDS.items()}
