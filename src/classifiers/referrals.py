"""The person a referral names: a name, an e-mail address and a phone number, each as written in the reply.

The name is the first run of capitalised words after a referral cue ("please contact Maria Lopez", "habla con
Juan", "mon collègue Pierre Martin", "wenden Sie sich an Frau Anna Weber", "parla amb la Marta Puig"), skipping
job titles and the like; the address and the number are the first ones after the cue (or anywhere in the reply's
own words when none follows it).
"""

from __future__ import annotations

import re

from outboundql.classifiers import Referral
from outboundql.classifiers.text import fold


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{7,}\d(?!\w)")
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ](?:[a-zà-öø-ÿ]+|['’][A-ZÀ-ÖØ-Þ])[a-zà-öø-ÿ'’-]*"
NAME = re.compile(rf"{_NAME_WORD}(?:\s+(?:(?:de|del|la|van|von|der|da|di|le|i|y)\s+)?{_NAME_WORD}){{0,3}}")
#: Capitalised words that are not names (titles, teams, politeness), folded.
NOT_NAMES: frozenset[str] = _words(
    "please our my the head of sales marketing procurement purchasing team department director manager "
    "ceo cto cfo coo vp hr it cc mr mrs ms dr thanks thank regards best hi hello dear he she they her his "
    "email mail phone tel mobile office linkedin por favor nuestro nuestra mi el la los las jefe jefa "
    "director directora responsable departamento equipo compras gracias saludos sr sra don dona hola "
    "correo telefono notre mon ma le la les responsable directeur directrice service equipe achats merci "
    "cordialement m mme bonjour monsieur madame unser unsere mein meine der die das herr frau leiter "
    "leiterin abteilung einkauf vertrieb team danke gruesse grusse hallo kollege kollegin nostre nostra "
    "meu meva el la els les cap directora departament equip compres gracies salutacions bon dia senyor "
    "senyora bitte sie ich wir ihr ihre unsere unseren je nous vous il elle yo ella ell jo we you if "
    "einkaufsleiter einkaufsleiterin vertriebsleiter vertriebsleiterin marketingleiter marketingleiterin "
    "geschaftsfuhrer geschaftsfuhrerin")
_CUES: tuple[str, ...] = (
    "contact", "reach out to", "talk to", "speak to", "speak with", "get in touch with", "write to", "email",
    "colleague", "forwarded", "forwarding", "looping in", "looped in", "cc'ing", "cc'd",
    "copying", "copied", "in charge", "responsible",
    "habla con", "hablar con", "hable con", "contacta con", "contacte con", "contactar con", "escribe a",
    "escriba a", "companera", "companero", "responsable", "encarga",
    "contactez", "contacter", "adressez-vous a", "adressez vous a", "collegue", "voir avec", "ecrivez a",
    "wenden sie sich an", "wende dich an", "ansprechpartner", "kollege", "kollegin", "zustandig", "melden sie sich bei",
    "sprechen sie mit",
    "parla amb", "parleu amb", "contacta amb", "contacteu amb", "escriu a", "escriviu a", "companya", "company",
    "encarrega", "right person", "best person", "persona adecuada", "persona indicada", "reenvio", "bonne personne",
    "transmets", "an unsere", "an unseren", "an meine", "an meinen", "persona adequada",
)


def _after_cue(text: str) -> int | None:
    folded = fold(text)
    positions = [m.end() for cue in _CUES for m in re.finditer(rf"\b{re.escape(cue)}\b", folded)]
    return min(positions) if positions else None


def _name(window: str) -> str | None:
    for match in NAME.finditer(window):
        words = match.group(0).split()
        while words and fold(words[0]) in NOT_NAMES:
            words.pop(0)
        while words and fold(words[-1]) in NOT_NAMES:
            words.pop()
        if words:
            return " ".join(words)
    return None


def find_referral(text: str) -> Referral | None:
    """The person ``text`` refers to, or None when it names nobody."""
    start = _after_cue(text)
    window = text[start:start + 160] if start is not None else ""
    email = EMAIL.search(window) or (EMAIL.search(text) if start is None or not window.strip() else None)
    phone = PHONE.search(window) or (PHONE.search(text) if start is None else None)
    name = _name(window[:100])
    if name is None and email is None and phone is None:
        return None
    return Referral(name=name, email=email.group(0) if email else None, phone=phone.group(0).strip() if phone else None)
