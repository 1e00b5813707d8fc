"""The drafter's catalogs: every sentence it uses is translated in every language, placeholders kept."""

from __future__ import annotations

import pytest

from outboundql.drafting import CATALOGS, GENERIC_SENTENCES, GOAL_SENTENCES
from outboundql.goals.testing import registry_with
from outboundql.i18n import placeholders

FIXED = ("Hello {name},", "Hello,", "Best regards,", "{product} for {account}",
         "Many teams we talk to mention {pain_point}.", "Thank you for your reply.",
         "I am glad to answer any questions about {product}.",
         "I wanted to follow up on my previous message about {product}.",
         "The purpose of my message: {purpose}")
USED = sorted({*FIXED, *GENERIC_SENTENCES, *(s for pair in GOAL_SENTENCES.values() for s in pair)})


def test_at_least_the_five_languages() -> None:
    assert {"en", "es", "fr", "de", "ca"} <= set(CATALOGS.available_languages())


@pytest.mark.parametrize("language", ["es", "fr", "de", "ca"])
def test_every_sentence_is_translated_with_its_placeholders(language: str) -> None:
    table = CATALOGS.messages(language)
    for msgid in USED:
        assert msgid in table, f"{language}: missing {msgid!r}"
        assert table[msgid] != msgid, f"{language}: untranslated {msgid!r}"
        assert placeholders(table[msgid]) == placeholders(msgid), f"{language}: placeholders of {msgid!r}"


def test_english_catalog_holds_every_sentence_and_nothing_stale() -> None:
    assert set(CATALOGS.messages("en")) == set(USED)


def test_every_builtin_goal_has_its_own_sentences() -> None:
    assert set(GOAL_SENTENCES) == {g.key for g in registry_with()}
