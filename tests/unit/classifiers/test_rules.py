"""The ``rules`` classifier: every class in every language, negations, precedence, language guess, quoted
history, confidence, return dates and referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from outboundql.classifiers import Classification, Referral, Reply, ReplyClass
from outboundql.classifiers.dates import return_date
from outboundql.classifiers.referrals import find_referral
from outboundql.classifiers.rules import RULES, classify_one
from outboundql.classifiers.text import guess_language, normalise, own_words

C = ReplyClass
EVERY_CLASS_IN_EVERY_LANGUAGE = [
    ("en", C.INTERESTED, "Could you send me more details and your pricing?"),
    ("en", C.NOT_INTERESTED, "Thanks but we already use a tool for that."),
    ("en", C.OUT_OF_OFFICE, "I am on holiday with no access to email."),
    ("en", C.REFERRAL, "Please get in touch with my colleague Alex Kim."),
    ("en", C.UNSUBSCRIBE, "Opt me out of these emails."),
    ("en", C.BOUNCE, "Message not delivered: the mailbox is full."),
    ("en", C.OTHER, "Which city are you based in?"),
    ("es", C.INTERESTED, "Suena bien, ¿podemos agendar una llamada?"),
    ("es", C.NOT_INTERESTED, "No necesitamos nada de esto, gracias."),
    ("es", C.OUT_OF_OFFICE, "Estoy de vacaciones hasta el lunes."),
    ("es", C.REFERRAL, "Mejor habla con Clara Núñez, que lleva esos temas."),
    ("es", C.UNSUBSCRIBE, "Quiero darme de baja, no me contacten más."),
    ("es", C.BOUNCE, "Mensaje no entregado: buzón lleno."),
    ("es", C.OTHER, "¿En qué ciudad estáis?"),
    ("fr", C.INTERESTED, "Envoyez-moi une proposition avec vos tarifs."),
    ("fr", C.NOT_INTERESTED, "Pas besoin pour le moment, nous avons déjà tout."),
    ("fr", C.OUT_OF_OFFICE, "Je suis en congés, retour le 3 juin."),
    ("fr", C.REFERRAL, "Merci de contacter Paul Girard, il s'occupe des achats."),
    ("fr", C.UNSUBSCRIBE, "Je souhaite me désinscrire de cette liste."),
    ("fr", C.BOUNCE, "Destinataire inconnu, message non distribué."),
    ("fr", C.OTHER, "Vous êtes dans quelle ville ?"),
    ("de", C.INTERESTED, "Klingt interessant, bitte senden Sie mir weitere Informationen."),
    ("de", C.NOT_INTERESTED, "Danke, wir haben bereits eine Lösung und keinen Bedarf."),
    ("de", C.OUT_OF_OFFICE, "Ich bin im Urlaub und ab dem 2. Mai wieder im Büro."),
    ("de", C.REFERRAL, "Bitte wenden Sie sich an Herrn Max Vogel aus dem Vertrieb."),
    ("de", C.UNSUBSCRIBE, "Bitte tragen Sie mich aus dem Verteiler aus, ich möchte mich abmelden."),
    ("de", C.BOUNCE, "Unzustellbar: Postfach ist voll."),
    ("de", C.OTHER, "In welcher Stadt sind Sie?"),
    ("ca", C.INTERESTED, "Sona bé, envieu-me més informació."),
    ("ca", C.NOT_INTERESTED, "Gràcies, però no necessitem res d'això."),
    ("ca", C.OUT_OF_OFFICE, "Sóc de vacances, tornaré el 4 de maig."),
    ("ca", C.REFERRAL, "Parleu amb en Jordi Vila, ell s'encarrega de les compres."),
    ("ca", C.UNSUBSCRIBE, "Doneu-me de baixa i no em contacteu més."),
    ("ca", C.BOUNCE, "Missatge no lliurat: usuari desconegut."),
    ("ca", C.OTHER, "De quina ciutat sou?"),
]


@pytest.mark.parametrize(("language", "label", "text"), EVERY_CLASS_IN_EVERY_LANGUAGE)
def test_every_class_in_every_language(language: str, label: ReplyClass, text: str) -> None:
    assert classify_one(Reply(text)).label is label
    assert classify_one(Reply(text, language=language)).label is label


@pytest.mark.parametrize("text", [
    "Not interested.", "We are not really interested at the moment.", "I'm not interested in a call.",
    "No estamos interesados.", "No nos interesa una reunión.", "Nous ne sommes pas intéressés.",
    "Pas intéressé par une démo.", "Kein Interesse.", "Wir sind nicht interessiert.", "No ens interessa.",
    "No estem interessats en una trucada.",
])
def test_a_negation_never_counts_as_interested(text: str) -> None:
    assert classify_one(Reply(text)).label is C.NOT_INTERESTED


def test_a_negated_interest_phrase_is_a_refusal() -> None:
    # no NOT_INTERESTED phrase here: "never" before "interested" turns the INTERESTED phrase into a refusal
    assert classify_one(Reply("We were never interested, honestly.")).label is C.NOT_INTERESTED
    assert classify_one(Reply("Ce n'est plus intéressant pour nous.")).label is not C.INTERESTED


@pytest.mark.parametrize("text", ["Why not, let's talk.", "Pourquoi pas, discutons.", "¿Por qué no? Hablemos.",
                                  "Warum nicht, klingt gut."])
def test_why_not_is_agreement(text: str) -> None:
    assert classify_one(Reply(text)).label is C.INTERESTED


@pytest.mark.parametrize(("text", "label"), [
    ("Not interested. Remove me from your list.", C.UNSUBSCRIBE),
    ("Undeliverable: out of office", C.BOUNCE),
    ("I am out of the office; for urgent matters please contact Ana Ruiz.", C.OUT_OF_OFFICE),
    ("Not interested myself, but talk to Ben Ford, he handles this.", C.REFERRAL),
    ("Interesting idea but not a priority for us.", C.NOT_INTERESTED),
])
def test_precedence_when_several_classes_match(text: str, label: ReplyClass) -> None:
    assert classify_one(Reply(text)).label is label


def test_matching_ignores_case_accents_punctuation_and_spacing() -> None:
    for text in ("NOT   INTERESTED!!!", "not-interested.", "Non, merci", "NO ESTAMOS INTERESADOS",
                 "nó estámos interesádos"):
        assert classify_one(Reply(text)).label is C.NOT_INTERESTED, text
    assert normalise("  Ça   m'intéresse! ") == " ca m interesse "


def test_words_are_matched_whole() -> None:
    assert classify_one(Reply("Nothing interesting to add.")).label is C.OTHER  # "interested" is not in it


def test_the_subject_counts() -> None:
    assert classify_one(Reply("See below.", subject="Automatic reply: out of office")).label is C.OUT_OF_OFFICE


def test_quoted_history_does_not_count() -> None:
    text = ("Thanks, what time works for a call?\n\nOn Mon, 1 Mar 2027, Sam wrote:\n> If you are not interested,"
            " reply unsubscribe.\n")
    assert own_words(text).strip() == "Thanks, what time works for a call?"
    assert classify_one(Reply(text)).label is C.INTERESTED
    assert classify_one(Reply("> please unsubscribe me\nsounds good, send me pricing")).label is C.INTERESTED


@pytest.mark.parametrize(("text", "language"), [
    ("Thank you for your message, we will get back to you", "en"),
    ("Gracias por el mensaje, estamos muy contentos con el proveedor", "es"),
    ("Merci pour votre message, nous sommes avec un prestataire", "fr"),
    ("Vielen Dank für Ihre Nachricht, wir sind nicht sicher", "de"),
    ("Gràcies pel missatge, som molt contents amb el proveïdor", "ca"),
])
def test_the_language_is_guessed_by_stop_words(text: str, language: str) -> None:
    assert guess_language(text) == language


def test_confidence_reflects_the_strength_of_the_match() -> None:
    weak = classify_one(Reply("pricing?"))
    strong = classify_one(Reply("Sounds great, very interested. Let's set up a call and send me the pricing."))
    mixed = classify_one(Reply("Sounds great, but not a priority right now."))
    nothing = classify_one(Reply("Ok."))
    assert weak.label is strong.label is C.INTERESTED
    assert 0 < weak.confidence < strong.confidence <= 1
    assert mixed.label is C.NOT_INTERESTED and mixed.confidence < strong.confidence
    assert nothing == Classification(C.OTHER, 0.3)


async def test_the_classifier_answers_one_per_reply_in_order() -> None:
    received = datetime(2027, 3, 1, 9, tzinfo=UTC)
    answers = await RULES.classify([
        Reply("Out of office, back on 12 March.", received_at=received),
        Reply("Not me: please contact Maria Lopez (maria@acme.example)."),
        Reply("Yes, let's talk."),
    ])
    assert [a.label for a in answers] == [C.OUT_OF_OFFICE, C.REFERRAL, C.INTERESTED]
    assert answers[0].returns_on == date(2027, 3, 12) and answers[0].referral is None
    assert answers[1].referral == Referral(name="Maria Lopez", email="maria@acme.example")
    assert answers[2].returns_on is None and answers[2].referral is None


# --- return dates ----------------------------------------------------------------------------------------

MONDAY_1_MARCH_2027 = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("I'll be back on 12 March.", date(2027, 3, 12)),
    ("Back on March 12th, 2027.", date(2027, 3, 12)),
    ("I'll be back Monday.", date(2027, 3, 8)),
    ("Out of the office until 14 March.", date(2027, 3, 15)),
    ("De vuelta el 3 de abril.", date(2027, 4, 3)),
    ("Estoy de vacaciones hasta el 15 de marzo.", date(2027, 3, 16)),
    ("Volveré el viernes.", date(2027, 3, 5)),
    ("Je serai de retour le 5 mai.", date(2027, 5, 5)),
    ("Absente jusqu'au lundi 7 avril inclus.", date(2027, 4, 8)),
    ("Ich bin ab dem 10. Juni wieder im Büro.", date(2027, 6, 10)),
    ("Ich bin bis zum 14.03. nicht im Büro.", date(2027, 3, 15)),
    ("Tornaré el 7 de juliol.", date(2027, 7, 7)),
    ("Sóc fora fins al 20 de març.", date(2027, 3, 21)),
    ("Back 12/03.", date(2027, 3, 12)),
    ("Back 03/25.", date(2027, 3, 25)),  # the second number cannot be a month: written month first
    ("Wieder da am 12.03.2027.", date(2027, 3, 12)),
    ("Returning on 2027-03-12.", date(2027, 3, 12)),
    ("I am away from 3 to 10 March.", date(2027, 3, 10)),
])
def test_return_dates_in_each_language(text: str, expected: date) -> None:
    assert return_date(text, MONDAY_1_MARCH_2027) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Back on 2 January.", date(2028, 1, 2)),
    ("De vuelta el 15 de febrero.", date(2028, 2, 15)),
    ("De retour le 28/02.", date(2028, 2, 28)),
    ("Back on 1 March.", date(2027, 3, 1)),  # the day it was received is not in the past
])
def test_a_date_without_a_year_before_the_reply_is_next_year(text: str, expected: date) -> None:
    assert return_date(text, MONDAY_1_MARCH_2027) == expected


def test_without_received_at_only_dates_with_a_year_are_placed() -> None:
    assert return_date("Back on 12 March 2027.") == date(2027, 3, 12)
    assert return_date("Back on 12 March.") is None
    assert return_date("Back on Monday.") is None


@pytest.mark.parametrize("text", ["I am out of the office.", "Back on 31 February.", "Call 600 000 000.",
                                  "Meeting at 10.30 tomorrow."])
def test_no_date_stated_is_none(text: str) -> None:
    assert return_date(text, MONDAY_1_MARCH_2027) is None


# --- referrals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Not me, please contact Maria Lopez (maria@acme.com).", Referral("Maria Lopez", "maria@acme.com")),
    ("Habla con Juan en el +34 600 000 000.", Referral("Juan", phone="+34 600 000 000")),
    ("Contactez mon collègue Pierre Martin au 01 23 45 67 89.", Referral("Pierre Martin", phone="01 23 45 67 89")),
    ("Bitte wenden Sie sich an Frau Anna Weber, anna.weber@firma.de.", Referral("Anna Weber", "anna.weber@firma.de")),
    ("Parla amb la Marta Puig, és la responsable.", Referral("Marta Puig")),
    ("I've looped in our Head of Sales, Tom O'Brien.", Referral("Tom O'Brien")),
    ("Reach out to sales@globex.example instead.", Referral(email="sales@globex.example")),
])
def test_the_person_a_referral_names(text: str, expected: Referral) -> None:
    assert find_referral(text) == expected


def test_a_referral_naming_nobody_is_none() -> None:
    assert find_referral("I am not the right person for this, sorry.") is None
