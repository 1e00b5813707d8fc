"""The built-in rule-based reply classifier (key ``rules``): phrase lists, no network.

For each reply:

1. its own words are kept (quoted history dropped, see `outboundql.classifiers.text.own_words`) and normalised
   (case, accents, punctuation and whitespace), the subject included;
2. the language is ``Reply.language`` or, when None, guessed by a stop-word vote;
3. the phrases of that language and of English (automatic replies are often in English) are matched as whole
   words; when none matches, those of every other language are tried;
4. an INTERESTED phrase just after a negation ("not interested", "no estamos interesados", "pas intéressé",
   "kein Interesse", "no ens interessa", "not really interested") counts as NOT_INTERESTED;
5. the class is the first of `PRECEDENCE` with a match (BOUNCE, UNSUBSCRIBE, OUT_OF_OFFICE, REFERRAL,
   NOT_INTERESTED, INTERESTED), else OTHER;
6. the confidence grows with the number of the class's phrases matched and their length, and drops when
   other classes matched too or the match came from another language's list.

An OUT_OF_OFFICE reply gets its return date (`outboundql.classifiers.dates`), a REFERRAL the person it names
(`outboundql.classifiers.referrals`). The phrase lists are data (`outboundql.classifiers.phrases`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from outboundql.classifiers import Classification, Reply, ReplyClass
from outboundql.classifiers.dates import return_date
from outboundql.classifiers.phrases import NEGATIONS, PHRASES, PRECEDENCE
from outboundql.classifiers.referrals import find_referral
from outboundql.classifiers.text import guess_language, normalise, own_words

_NEGATION_REACH = 3  # words before an INTERESTED phrase in which a negation cancels it


@dataclass(frozen=True, slots=True)
class Match:
    """One phrase found in a reply."""

    label: ReplyClass
    phrase: str
    language: str


@functools.cache
def _phrases(language: str) -> tuple[tuple[ReplyClass, str, str], ...]:
    """(class, phrase as written, normalised phrase) of one language, longest first."""
    rows = [(label, phrase, normalise(phrase)) for label, phrases in PHRASES.get(language, {}).items()
            for phrase in phrases]
    return tuple(sorted(rows, key=lambda row: -len(row[2])))


_ALL_NEGATIONS = frozenset(word for words in NEGATIONS.values() for word in words)


_WHY = frozenset({("why",), ("pourquoi",), ("warum",), ("por", "que"), ("per", "que")})  # "why not" agrees


def _negated(text: str, at: int, language: str) -> bool:
    words = text[:at].split()
    negations = NEGATIONS.get(language, _ALL_NEGATIONS) | NEGATIONS["en"]
    for index in range(max(0, len(words) - _NEGATION_REACH), len(words)):
        if words[index] in negations and not any(tuple(words[index - len(why):index]) == why for why in _WHY):
            return True
    return False


def find_matches(text: str, languages: Sequence[str]) -> list[Match]:
    """Every phrase of ``languages`` found in ``text`` (already normalised); an INTERESTED phrase after a negation
    counts as NOT_INTERESTED."""
    matches: list[Match] = []
    for language in languages:
        for label, phrase, needle in _phrases(language):
            start = text.find(needle)
            while start != -1:
                if label is not ReplyClass.INTERESTED or not _negated(text, start + 1, language):
                    matches.append(Match(label, phrase, language))
                    break
                # a negated interest ("not really interested") is a refusal
                matches.append(Match(ReplyClass.NOT_INTERESTED, f"not {phrase}", language))
                start = text.find(needle, start + 1)
    return matches


def decide(matches: Sequence[Match], language: str) -> tuple[ReplyClass, float]:
    """The class of the first of `PRECEDENCE` with a match, and the confidence (OTHER, 0.3 when none)."""
    if not matches:
        return ReplyClass.OTHER, 0.3
    label = next(c for c in PRECEDENCE if any(m.label is c for m in matches))
    own = [m for m in matches if m.label is label]
    words = max(len(normalise(m.phrase).split()) for m in own)
    confidence = 0.55 + 0.1 * min(len(own) - 1, 3) + 0.05 * min(words - 1, 3)
    if any(m.label is not label for m in matches):
        confidence -= 0.1
    if all(m.language not in (language, "en") for m in own):
        confidence -= 0.1
    return label, round(max(0.35, min(confidence, 0.95)), 2)


def classify_one(reply: Reply) -> Classification:
    """The classification of one reply."""
    words = own_words(reply.text)
    language = (reply.language or guess_language(words)).lower()
    text = normalise(f"{reply.subject or ''}\n{words}")
    primary = [language] + (["en"] if language != "en" else [])
    matches = find_matches(text, primary)
    if not matches:
        matches = find_matches(text, [other for other in PHRASES if other not in primary])
    label, confidence = decide(matches, language)
    if label is ReplyClass.OUT_OF_OFFICE:
        return Classification(label, confidence, returns_on=return_date(words, reply.received_at))
    if label is ReplyClass.REFERRAL:
        return Classification(label, confidence, referral=find_referral(words))
    return Classification(label, confidence)


class RulesClassifier:
    """Phrase lists in English, Spanish, French, German and Catalan (see the module docstring)."""

    key = "rules"
    label = "Rules (phrase lists)"

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        return [classify_one(reply) for reply in replies]


RULES = RulesClassifier()
