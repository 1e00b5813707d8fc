"""The rubric scorer: deterministic, typed reasons, bands, languages and the feedback nudge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.messages.pofile import read_po

from outboundql.goals import MEASURES, Criterion, Goal, Persona, Product
from outboundql.goals.builtin.renewal import RENEWAL
from outboundql.goals.builtin.sales import SALES
from outboundql.goals.testing import registry_with
from outboundql.scoring import AccountSnapshot, ContactSnapshot, band, score
from outboundql.scoring.descriptions import describe_criterion
from outboundql.scoring.i18n import available_languages, messages, placeholders, resolve_language, translate
from outboundql.scoring.rubric import EVALUATORS, MEASURE_LABELS

TODAY = date(2026, 6, 1)
PRODUCT = Product(name="RouteWise", description="Route optimisation software for delivery fleets.")
# The demo's approved sales persona (src/demo.py).
PERSONA = Persona(
    name="Operations leader at a growing fleet",
    industries=("Logistics", "Retail", "Manufacturing"),
    job_titles=("Head of Operations", "COO", "Operations Manager"),
    pain_points=("rising fuel costs", "late deliveries", "manual dispatch planning"),
    company_size_min=50,
    company_size_max=2000,
    countries=("ES", "US", "DE", "FR", "GB"),
    keywords=("fleet", "delivery", "dispatch", "last-mile"),
    exclusions=("freight brokers",),
)
GOOD = AccountSnapshot(
    name="FleetCo", industry="LOGISTICS & Transport", employee_count=300, country="es", city="Madrid",
    description="Last-mile DELIVERY company running a fleet of 200 vans; dispatch is planned by hand.",
)
GOOD_CONTACTS = (ContactSnapshot(title="Head of Operations"), ContactSnapshot(title="CFO"))
POOR = AccountSnapshot(
    name="Corner Bakery", industry="Food & Beverage", employee_count=8, country="JP",
    description="A family bakery selling bread and pastries.",
)
POOR_CONTACTS = (ContactSnapshot(title="Baker"),)
BLANK = AccountSnapshot(name="Nameless Ltd")


def run(account: AccountSnapshot, contacts=(), *, goal: Goal = SALES, persona: Persona = PERSONA, **kw):
    return score(goal, persona, PRODUCT, account, contacts, today=TODAY, **kw)


def by_criterion(result):
    return {j.criterion: j for j in result.justifications}


def test_same_inputs_same_result() -> None:
    assert run(GOOD, GOOD_CONTACTS) == run(GOOD, GOOD_CONTACTS)
    assert run(POOR, POOR_CONTACTS, language="fr") == run(POOR, POOR_CONTACTS, language="fr")


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, "mismatch"), (4.9, "mismatch"), (5.0, "moderate"), (7.9, "moderate"), (8.0, "excellent"), (10.0, "excellent"),
])
def test_band_boundaries(value: float, expected: str) -> None:
    assert band(value) == expected


def test_a_matching_account_is_excellent_and_a_poor_one_a_mismatch() -> None:
    good, poor = run(GOOD, GOOD_CONTACTS), run(POOR, POOR_CONTACTS)
    assert good.score >= 8.0 and good.band == "excellent"
    assert poor.score < 5.0 and poor.band == "mismatch"
    assert round(good.score, 1) == good.score and 0.0 <= poor.score <= 10.0
    assert {j.criterion for j in good.justifications} == {c.key for c in SALES.rubric}
    assert by_criterion(good)["industry_fit"].kind == "fit"  # accent- and case-insensitive
    assert by_criterion(good)["need_signals"].kind == "fit"
    assert by_criterion(poor)["market_fit"].kind == "gap"
    assert by_criterion(poor)["size_fit"].kind == "gap"


def test_missing_data_is_reported_and_not_counted_as_a_gap() -> None:
    partial = AccountSnapshot(name="FleetCo", industry="Logistics", country="ES")  # no size, no description
    result = run(partial)
    kinds = {j.criterion: j.kind for j in result.justifications}
    assert kinds["size_fit"] == kinds["need_signals"] == kinds["buyer_access"] == "missing_data"
    assert kinds["industry_fit"] == kinds["market_fit"] == "fit"
    # Unknown counts as neutral: below a full match, above an account that shows gaps there.
    gaps = run(AccountSnapshot(name="FleetCo", industry="Logistics", country="ES", employee_count=3,
                               description="A bakery."))
    assert gaps.score < result.score < run(GOOD, GOOD_CONTACTS).score
    assert result.score < 10.0


def test_persona_without_data_is_missing_data_too() -> None:
    result = run(GOOD, GOOD_CONTACTS, persona=PERSONA.replace(industries=()))
    assert by_criterion(result)["industry_fit"].kind == "missing_data"


def test_everything_missing_is_neutral_with_missing_data_reasons() -> None:
    unknown = run(BLANK)  # the persona cares about everything, the account says nothing: unknown, not bad
    kinds = {j.criterion: j.kind for j in unknown.justifications}
    assert kinds.pop("exclusion_risk") == "fit"  # nothing excluded shows up in an empty record
    assert set(kinds.values()) == {"missing_data"}
    assert unknown.score == 5.5 and unknown.band == "moderate"  # neutral, plus the fitting tenth (exclusions)
    # Nothing to judge by at all (empty persona, a product without words): no fit can be claimed.
    nothing = score(SALES, Persona(), Product(name="X"), BLANK, (), today=TODAY)
    assert nothing.score == 0.0 and nothing.band == "mismatch"
    assert {j.kind for j in nothing.justifications} == {"missing_data"}


def test_an_exclusion_is_a_risk_and_costs_points() -> None:
    broker = AccountSnapshot(
        name="FleetCo", industry="Logistics", employee_count=300, country="ES",
        description="Fleet and delivery operator; we also act as a freight broker.",
        custom_fields={"segment": "Freight Brokers"},
    )
    clean = AccountSnapshot(
        name="FleetCo", industry="Logistics", employee_count=300, country="ES",
        description="Fleet and delivery operator.",
    )
    risky, fine = run(broker, GOOD_CONTACTS), run(clean, GOOD_CONTACTS)
    reason = by_criterion(risky)["exclusion_risk"]
    assert reason.kind == "risk" and "freight brokers" in reason.text
    assert by_criterion(fine)["exclusion_risk"].kind == "fit"
    assert risky.score < fine.score - 2.0


def test_matching_ignores_case_and_accents() -> None:
    persona = PERSONA.replace(industries=("Logística",), keywords=("planificación",))
    account = AccountSnapshot(name="X", industry="LOGISTICA", description="Planificacion de rutas")
    reasons = by_criterion(run(account, persona=persona))
    assert reasons["industry_fit"].kind == reasons["need_signals"].kind == "fit"


def test_keywords_are_found_in_custom_fields() -> None:
    account = AccountSnapshot(name="X", custom_fields={"notes": ["Runs a fleet", {"ops": "Dispatch desk"}]})
    assert by_criterion(run(account))["need_signals"].kind == "fit"


@pytest.mark.parametrize("language", ["es", "fr", "de", "ca"])
def test_reasons_are_rendered_in_the_language(language: str) -> None:
    english = run(GOOD, GOOD_CONTACTS)
    other = run(GOOD, GOOD_CONTACTS, language=language)
    assert [j.text for j in other.justifications] != [j.text for j in english.justifications]
    descriptions = {c.key: c.description for c in SALES.rubric}
    for reason in other.justifications:  # named by the translated description, never by the key
        translated = messages(language)[descriptions[reason.criterion]].removesuffix(".")
        assert translated != descriptions[reason.criterion].removesuffix(".")
        assert reason.text.startswith(f"{translated}:") or reason.text.startswith(f"{translated} :"), reason.text
        assert reason.criterion not in reason.text
    assert other.score == english.score


def test_a_reason_names_the_criterion_by_its_description_and_says_what_it_rests_on() -> None:
    reasons = by_criterion(run(GOOD, GOOD_CONTACTS))
    assert reasons["industry_fit"].text == (
        "Operates in an industry the persona targets: yes (industry: LOGISTICS & Transport).")
    assert reasons["size_fit"].text == "Company size within the persona's range: yes (company size: 300)."
    poor = by_criterion(run(POOR, POOR_CONTACTS))
    assert poor["market_fit"].text == ("Located in a market the persona covers: no (country: JP; the persona "
                                       "expects DE, ES, FR, GB, US).")
    missing = by_criterion(run(BLANK))
    assert missing["size_fit"].text == "Company size within the persona's range: unknown, the account has no data " \
                                       "on company size."
    spanish = by_criterion(run(BLANK, language="es-MX"))
    assert spanish["size_fit"].text == ("Tamaño de empresa dentro del rango del perfil: se desconoce, la cuenta no "
                                        "tiene datos al respecto (tamaño de la empresa).")


def test_the_description_comes_from_the_plugin_then_the_catalog_then_english_then_the_key() -> None:
    own = Criterion("topic_fit", 1.0, "keywords", "Covers the topics our buyers care about.",
                    translations={"es": "Trata los temas que interesan a nuestros compradores.", "pt-BR": "Cobre."})
    assert describe_criterion(own, "es") == describe_criterion(own, "es-ES") == (
        "Trata los temas que interesan a nuestros compradores")
    assert describe_criterion(own, "pt-BR") == "Cobre" and describe_criterion(own, "pt") == (
        "Covers the topics our buyers care about")  # a regional translation serves that region only
    assert describe_criterion(own, "fr") == "Covers the topics our buyers care about"  # no catalog entry either
    catalogued = Criterion("fit", 1.0, "industry", "Operates in an industry the persona targets.")
    assert describe_criterion(catalogued, "de") == "Ist in einer Branche tätig, auf die das Profil zielt"
    assert describe_criterion(catalogued, "ja") == describe_criterion(catalogued, None) == (
        "Operates in an industry the persona targets")
    assert describe_criterion(Criterion("beat_match", 1.0, "keywords"), "es") == "Beat match"


def test_every_built_in_criterion_description_is_translated() -> None:
    descriptions = {c.description for goal in registry_with() for c in goal.rubric}
    assert all(descriptions)
    for language in ("es", "fr", "de", "ca"):
        catalog = _catalog(language)
        for description in descriptions:
            assert catalog.get(description) and catalog[description] != description, (language, description)


@pytest.mark.parametrize("language", ["pt", "xx", "", "EN-gb"])
def test_unknown_language_falls_back_to_english(language: str) -> None:
    assert run(POOR, POOR_CONTACTS, language=language) == run(POOR, POOR_CONTACTS)


def test_region_subtags_use_the_language_catalog() -> None:
    assert resolve_language("es-ES") == resolve_language("es_MX") == "es"
    assert translate("de-AT", "status") == "Status" and translate("fr", "status") == "statut"


def _catalog(language: str) -> dict[str, str]:
    from importlib import resources

    path = resources.files("outboundql.scoring") / "locales" / language / "LC_MESSAGES" / "outboundql.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}


def test_catalogs_are_complete_and_keep_placeholders() -> None:
    languages = available_languages()
    assert {"en", "es", "fr", "de", "ca"} <= set(languages)
    english = _catalog("en")
    assert set(MEASURE_LABELS.values()) <= set(english)
    for language in languages:
        catalog = _catalog(language)
        assert set(catalog) == set(english), language
        for msgid, text in catalog.items():
            assert text, f"{language}: {msgid!r} is untranslated"
            assert placeholders(text) == placeholders(msgid), f"{language}: {msgid!r}"


def test_every_message_the_scorer_uses_is_in_the_english_catalog() -> None:
    from outboundql.scoring import rubric

    english = set(_catalog("en"))
    used = {v for k, v in vars(rubric).items() if k.isupper() and isinstance(v, str) and "{criterion}" in v}
    assert used <= english
    assert not rubric.MARKED - english, rubric.MARKED - english


def test_every_measure_has_an_evaluator() -> None:
    assert set(EVALUATORS) == set(MEASURES) == set(MEASURE_LABELS)


ACCOUNTS = [
    (GOOD, GOOD_CONTACTS),
    (POOR, POOR_CONTACTS),
    (BLANK, ()),
    (AccountSnapshot(name="Big Customer", industry="Retail", employee_count=5000, country="US", status="customer",
                     contract_end_date=TODAY + timedelta(days=30), description="Delivery fleet"),
     (ContactSnapshot(title="COO", role_kind="buyer"), ContactSnapshot(title="Editor", role_kind="journalist"))),
    (AccountSnapshot(name="Daily News", industry="Media", status="press", country="FR"),
     (ContactSnapshot(title="Reporter", role_kind="journalist"),)),
    (AccountSnapshot(name="Blocked", status="do_not_contact"), ()),
]


@pytest.mark.parametrize("goal", list(registry_with()), ids=lambda g: g.key)
def test_every_builtin_goal_scores(goal: Goal) -> None:
    persona = goal.tweak_icp(PERSONA, PRODUCT)
    for account, contacts in ACCOUNTS:
        result = score(goal, persona, PRODUCT, account, contacts, today=TODAY, language="ca")
        assert 0.0 <= result.score <= 10.0 and result.band == band(result.score)
        assert [j.criterion for j in result.justifications] == [c.key for c in goal.rubric]
        assert {j.kind for j in result.justifications} <= {"fit", "gap", "risk", "missing_data"}


def test_renewal_uses_the_contract_window_and_status() -> None:
    soon = AccountSnapshot(name="A", status="customer", contract_end_date=TODAY + timedelta(days=30))
    later = AccountSnapshot(name="A", status="customer", contract_end_date=TODAY + timedelta(days=400))
    reasons_soon = by_criterion(score(RENEWAL, PERSONA, PRODUCT, soon, (), today=TODAY))
    reasons_later = by_criterion(score(RENEWAL, PERSONA, PRODUCT, later, (), today=TODAY))
    assert reasons_soon["contract_timing"].kind == "fit" and reasons_later["contract_timing"].kind == "gap"
    assert reasons_soon["is_customer"].kind == "fit"
    lost = AccountSnapshot(name="A", status="lost")
    assert by_criterion(score(RENEWAL, PERSONA, PRODUCT, lost, (), today=TODAY))["is_customer"].kind == "gap"


def test_role_kind_matches_the_goal_target() -> None:
    goal = Goal(key="pod", label="Pod", description="d", message_intent="m", target_role_kind="influencer",
                rubric=(Criterion("host", 1.0, "role_kind"),))
    yes = score(goal, PERSONA, PRODUCT, BLANK, (ContactSnapshot(role_kind="influencer"),), today=TODAY)
    no = score(goal, PERSONA, PRODUCT, BLANK, (ContactSnapshot(role_kind="buyer"),), today=TODAY)
    assert (yes.score, no.score) == (10.0, 0.0)


MIDDLING = AccountSnapshot(
    name="Shop", industry="Retail", employee_count=30, country="IT", description="Online shop with delivery.",
)
REJECTED = [
    AccountSnapshot(name=f"R{i}", industry="Retail", employee_count=25 + i, country="IT",
                    description="Online shop with home delivery.")
    for i in range(3)
]
APPROVED = [
    AccountSnapshot(name=f"A{i}", industry="Retail", employee_count=40, country="IT",
                    description="Online shop with delivery.")
    for i in range(2)
]
UNRELATED = AccountSnapshot(name="U", industry="Mining", employee_count=9000, country="AU", description="Copper ore.")


def test_feedback_resembling_rejections_lowers_the_score() -> None:
    plain = run(MIDDLING)
    nudged = run(MIDDLING, examples=[(a, False) for a in REJECTED] + [(UNRELATED, True)])
    assert nudged.score < plain.score
    reason = by_criterion(nudged)["feedback"]
    assert reason.kind == "risk" and reason.text.startswith("Resembles accounts rejected before (-")


def test_feedback_resembling_approvals_raises_the_score() -> None:
    plain = run(MIDDLING)
    nudged = run(MIDDLING, examples=[(a, True) for a in APPROVED] + [(UNRELATED, False)], language="es")
    assert nudged.score > plain.score
    assert nudged.score - plain.score <= 1.0
    assert by_criterion(nudged)["feedback"].kind == "fit"
    assert by_criterion(nudged)["feedback"].text.startswith("Se parece a cuentas aprobadas antes (+")


def test_feedback_without_resemblance_changes_nothing() -> None:
    assert run(MIDDLING, examples=[(UNRELATED, True), (UNRELATED, False)]) == run(MIDDLING)


def test_without_persona_keywords_the_products_own_words_judge_the_needs() -> None:
    from outboundql.scoring.rubric import product_terms

    bare = Persona(industries=PERSONA.industries, countries=PERSONA.countries)
    assert product_terms(PRODUCT) == ("routewise", "route", "optimisation", "software", "delivery", "fleet")
    fits = AccountSnapshot(name="Vans SL", description="Delivery fleet of 40 vans with route planning by hand.")
    misses = AccountSnapshot(name="Ink SL", description="Printing of wedding invitations.")

    def keyword_reason(account: AccountSnapshot, product: Product) -> str:
        result = score(SALES, bare, product, account, (), today=TODAY)
        return next(j.kind for j in result.justifications if j.criterion == "need_signals")

    assert keyword_reason(fits, PRODUCT) == "fit"
    assert keyword_reason(misses, PRODUCT) == "gap"
    assert score(SALES, bare, PRODUCT, fits, (), today=TODAY).score > score(SALES, bare, PRODUCT, misses, (),
                                                                              today=TODAY).score
    # A product that says nothing leaves the criterion unjudged, as before.
    assert keyword_reason(fits, Product(name="X")) == "missing_data"
