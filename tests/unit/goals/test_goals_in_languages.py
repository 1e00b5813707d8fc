"""Goals in the campaign's language: criteria may carry translated descriptions (checked at registration and by
the test kit), and ICP tweaks write a persona's prose in ``product.language``; the built-in goals do it through
their own catalogs (es, fr, de, ca; English otherwise) and keep the matching terms."""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest
from babel.messages.pofile import read_po

from outboundql.goals import Criterion, Goal, GoalRegistrationError, Persona, Product
from outboundql.goals.api import keep_persona
from outboundql.goals.builtin import i18n
from outboundql.goals.testing import MATCHING_FIELDS, SAMPLE_PERSONA, SAMPLE_PRODUCT, check_goal, registry_with
from outboundql.i18n import placeholders

LANGUAGES = ("es", "fr", "de", "ca")
TWEAKED = [g.key for g in registry_with() if g.tweak_icp is not keep_persona]


def goal(*criteria: Criterion, tweak=keep_persona) -> Goal:  # type: ignore[no-untyped-def]
    return Goal(key="podcast", label="Podcast guest", description="D", message_intent="M", rubric=criteria,
                tweak_icp=tweak)


# --- criterion translations -----------------------------------------------------------------------------------


def test_the_kit_accepts_well_formed_translations_and_trims_them() -> None:
    checked = check_goal(goal(Criterion("topic_fit", 1.0, "keywords", "Covers our topics.",
                                        translations={"es": " Trata nuestros temas. ", "pt-BR": "Cobre.",
                                                      "zh-Hant": "涵蓋主題。"})))
    assert checked.rubric[0].translations == {"es": "Trata nuestros temas.", "pt-BR": "Cobre.", "zh-Hant": "涵蓋主題。"}
    assert checked.rubric[0].key == "topic_fit"  # the key stays what reasons are grouped by


@pytest.mark.parametrize(("translations", "description", "says"), [
    ({"es": "Cubre."}, "", "has translations but no description"),
    ({"Spanish": "Cubre."}, "Covers.", "'Spanish' is not a language tag"),
    ({"es": ""}, "Covers.", "translation for 'es' must be one non-empty line of text"),
    ({"es": "Cubre\nlos temas."}, "Covers.", "translation for 'es' must be one non-empty line of text"),
    ({"es": 3}, "Covers.", "translation for 'es' must be one non-empty line of text"),
    ({"pt-BR": "Cobre.", "pt_br": "Cobre!"}, "Covers.", "translates 'pt_br' twice"),
    (["es", "Cubre."], "Covers.", "translations must be a mapping of language tag to description"),
])
def test_the_kit_refuses_malformed_translations(translations: object, description: str, says: str) -> None:
    criterion = Criterion("topic_fit", 1.0, "keywords", description, translations=translations)  # type: ignore[arg-type]
    with pytest.raises(GoalRegistrationError, match="criterion 'topic_fit'") as error:
        check_goal(goal(criterion))
    assert says in str(error.value)


def test_translations_do_not_make_a_criterion_unhashable() -> None:
    criterion = Criterion("topic_fit", 1.0, "keywords", "Covers.", translations={"es": "Cubre."})
    assert hash(criterion) == hash(dataclasses.replace(criterion, translations={"fr": "Couvre."}))
    assert criterion != dataclasses.replace(criterion, translations={"fr": "Couvre."})


# --- the language of ICP tweaks -----------------------------------------------------------------------------------


def test_a_tweak_written_before_the_language_keeps_working() -> None:
    def old_tweak(base: Persona, product: Product) -> Persona:
        return base.replace(name=f"Listeners of {product.name}", pain_points=["good guests"])

    checked = check_goal(goal(Criterion("topic_fit", 1.0, "keywords"), tweak=old_tweak))
    assert checked.tweak_icp(SAMPLE_PERSONA, SAMPLE_PRODUCT).name == "Listeners of RouteWise"
    assert SAMPLE_PRODUCT.language == "en"


def test_the_kit_refuses_a_tweak_that_translates_matching_terms() -> None:
    def translating(base: Persona, product: Product) -> Persona:
        return base.replace(industries=["Logística"] if product.language == "es" else ["Logistics"])

    with pytest.raises(AssertionError, match="tweak_icp changed industries with the product's language"):
        check_goal(goal(Criterion("topic_fit", 1.0, "keywords"), tweak=translating))
    assert "keywords" in MATCHING_FIELDS and "pain_points" not in MATCHING_FIELDS


@pytest.mark.parametrize("goal_key", TWEAKED)
@pytest.mark.parametrize("language", LANGUAGES)
def test_built_in_personas_are_written_in_the_language(goal_key: str, language: str) -> None:
    tweak = registry_with()[goal_key].tweak_icp
    english = tweak(SAMPLE_PERSONA, SAMPLE_PRODUCT)
    other = tweak(SAMPLE_PERSONA, dataclasses.replace(SAMPLE_PRODUCT, language=language))
    assert other.name != english.name and other.summary != english.summary
    assert len(other.pain_points) == len(english.pain_points)
    assert not set(other.pain_points) & set(english.pain_points)
    for name in MATCHING_FIELDS:
        assert getattr(other, name) == getattr(english, name), name
    assert "RouteWise" in other.name  # the product's name, in the translated sentence


@pytest.mark.parametrize("language", ["ja", "", "not a tag", "es-MX", "ca-ES"])
def test_built_in_personas_fall_back_to_english_or_the_base_language(language: str) -> None:
    press = registry_with()["press"].tweak_icp
    persona = press(SAMPLE_PERSONA, dataclasses.replace(SAMPLE_PRODUCT, language=language))
    expected = {"es-MX": "Prensa que cubre el mercado de RouteWise",
                "ca-ES": "Premsa que cobreix el mercat de RouteWise"}
    assert persona.name == expected.get(language, "Press covering RouteWise's market")


def _catalog(language: str) -> dict[str, str]:
    path = resources.files("outboundql.goals.builtin") / "locales" / language / "LC_MESSAGES" / "goals.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def test_the_goal_catalogs_are_complete_and_keep_placeholders() -> None:
    registry_with()  # imports every built-in goal: their messages are marked
    english = _catalog("en")
    assert i18n.MARKED and not i18n.MARKED - set(english), i18n.MARKED - set(english)
    assert set(i18n.CATALOGS.available_languages()) == {"en", *LANGUAGES}
    for language in LANGUAGES:
        catalog = _catalog(language)
        assert set(catalog) == set(english), language
        for msgid, text in catalog.items():
            assert text and text != msgid, f"{language}: {msgid!r} is untranslated"
            assert placeholders(text) == placeholders(msgid), f"{language}: {msgid!r}"
