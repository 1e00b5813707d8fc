"""The phrase lists of the ``rules`` classifier: data, one tuple per language and class.

Phrases are written as a person types them; they are normalised like the reply before matching (lower case,
accents and punctuation removed, whitespace collapsed) and match whole words, so ``"not interested"`` matches
"Not interested!" and "NOT  interested." but not "nothing interesting". Extend a list by adding a phrase; add a
language by adding a key to `PHRASES`, `STOP_WORDS` and `NEGATIONS`.

`NEGATIONS` are the words that, just before an INTERESTED phrase, cancel it ("not interested", "no estamos
interesados", "pas intéressé", "kein Interesse", "no ens interessa").
"""

from __future__ import annotations

from outboundql.classifiers import ReplyClass

# short names keep the tables below readable (A: away, Y: yes)
B, U, A, R, N, Y = (ReplyClass.BOUNCE, ReplyClass.UNSUBSCRIBE, ReplyClass.OUT_OF_OFFICE, ReplyClass.REFERRAL,
                    ReplyClass.NOT_INTERESTED, ReplyClass.INTERESTED)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words counted to guess the language of a reply without one (a vote: the language with most hits wins).
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and you your with for this that have will would please thanks thank we our is are not "
        "be at on it of to i me my back office"),
    "es": _words(
        "el la los las que de del con para por una uno es no estoy estamos gracias hola saludos muy "
        "pero esta este usted nos nuestro hasta mi"),
    "fr": _words(
        "le la les des une un est pas je nous vous votre merci bonjour avec pour dans sur ce cette "
        "mais ne suis sommes cordialement"),
    "de": _words(
        "der die das und ich sie wir nicht mit ist ein eine bitte danke vielen gruesse gruße fur "
        "für ihr ihre uns bin sind auf den dem"),
    "ca": _words(
        "el la els les amb per que no som estic gracies gràcies bon dia salutacions una un és molt "
        "però aquest aquesta nostre ens fins meu"),
}

#: Words that cancel an INTERESTED phrase when one of them comes just before it (up to three words before).
NEGATIONS: dict[str, frozenset[str]] = {
    "en": _words("not no never t nor neither"),
    "es": _words("no nunca ni tampoco"),
    "fr": _words("pas ne n jamais plus"),
    "de": _words("nicht kein keine keinen keinerlei nie"),
    "ca": _words("no mai ni gens"),
}

PHRASES: dict[str, dict[ReplyClass, tuple[str, ...]]] = {
    "en": {
        B: ("delivery status notification", "undeliverable", "delivery has failed", "could not be delivered",
            "couldn't be delivered", "address not found", "mail delivery failed", "mail delivery subsystem",
            "user unknown", "recipient address rejected", "mailbox unavailable", "mailbox is full",
            "no such user", "message not delivered", "returned to sender", "does not exist",
            "permanent failure", "550 5.1.1", "mailer-daemon"),
        U: ("unsubscribe", "remove me", "remove us", "take me off", "take us off", "stop emailing",
            "stop contacting", "stop sending", "do not contact", "don't contact", "don't email", "do not email",
            "opt out", "opt me out", "no more emails", "never contact", "off your list", "from your list",
            "from your mailing list", "gdpr"),
        A: ("out of office", "out of the office", "automatic reply", "auto reply", "autoreply", "on vacation",
            "on holiday", "on leave", "annual leave", "parental leave", "maternity leave", "away from the office",
            "limited access to email", "limited access to my email", "currently away", "i am away",
            "i'm away", "back in the office", "will be back", "i'll be back", "return to the office",
            "returning on", "out until", "travelling with limited"),
        R: ("contact my colleague", "reach out to", "please contact", "you should talk to", "talk to",
            "speak to", "speak with", "get in touch with", "the right person", "right person is",
            "better person", "not the right person", "not the person", "in charge of", "responsible for",
            "handles this", "handles that", "forwarded your email", "forwarding this", "cc'ing", "copying",
            "looping in", "no longer with", "no longer works", "has left the company", "who handles",
            "would be the best person", "is the best person"),
        N: ("not interested", "no interest", "no thanks", "no thank you", "not a fit", "not a priority",
            "not for us", "not at this time", "not right now", "we'll pass", "we will pass", "pass on this",
            "we're all set", "we are all set", "already have", "already use", "already using",
            "already work with", "happy with our current", "no budget", "not looking", "no need",
            "don't need", "do not need", "decline", "not going to move forward", "won't be moving forward",
            "we are good", "we're good", "not in the market"),
        Y: ("interested", "sounds interesting", "sounds good", "sounds great", "let's talk", "let's chat",
            "happy to chat", "happy to talk", "set up a call", "schedule a call", "book a call", "a quick call",
            "send me more", "send more info", "more information", "more details", "tell me more",
            "send over", "pricing", "price list", "a demo", "free next week", "available next week",
            "what time works", "calendar link", "does tuesday work", "love to learn more", "keen to",
            "would like to know more", "let's do it", "count me in"),
    },
    "es": {
        B: ("no se pudo entregar", "no ha podido ser entregado", "error de entrega", "direccion no existe",
            "la direccion no existe", "usuario desconocido", "buzon lleno", "buzon no disponible",
            "mensaje no entregado", "no se ha podido entregar", "fallo en la entrega"),
        U: ("darme de baja", "darnos de baja", "dame de baja", "denme de baja", "baja de la lista",
            "eliminen mi", "eliminad mi", "borrar mis datos", "borren mis datos", "no me vuelvan a escribir",
            "no vuelvan a contactar", "no me contacten", "no nos contacten", "dejen de escribir",
            "dejad de escribir", "dejen de enviar", "quitarme de", "quitenme de", "quitadme de", "sacarme de",
            "de vuestra lista", "de su lista", "lopd", "rgpd"),
        A: ("fuera de la oficina", "fuera de oficina", "respuesta automatica", "de vacaciones",
            "ausente", "estare de vuelta", "de vuelta el", "volvere el", "regresare", "me reincorporo",
            "acceso limitado al correo", "baja por maternidad", "baja por paternidad", "fuera hasta",
            "no estare disponible"),
        R: ("habla con", "hablar con", "hable con", "contacta con", "contacte con", "contactar con",
            "ponte en contacto con", "pongase en contacto con", "escribe a", "escriba a", "la persona adecuada",
            "la persona indicada", "el responsable", "la responsable", "se encarga", "lleva este tema",
            "lleva esos temas", "te paso el contacto", "le reenvio", "te reenvio", "ya no trabaja",
            "ya no esta en la empresa", "mi companera", "mi companero"),
        N: ("no estamos interesados", "no estoy interesado", "no estoy interesada", "no nos interesa",
            "no me interesa", "no gracias", "no, gracias", "ya tenemos", "ya trabajamos con", "ya contamos con",
            "no es prioridad", "no es el momento", "no encaja", "no necesitamos", "sin presupuesto",
            "no tenemos presupuesto", "por ahora no", "de momento no", "paso", "descartamos"),
        Y: ("me interesa", "nos interesa", "interesado", "interesada", "interesados", "suena bien",
            "suena interesante", "hablemos", "podemos hablar", "agendar una llamada", "una llamada",
            "una reunion", "una demo", "mas informacion", "mas detalles", "envíame", "enviame", "mandame",
            "precio", "precios", "tarifas", "que dia te va bien", "cuando te va bien", "me encantaria"),
    },
    "fr": {
        B: ("non remis", "n'a pas pu etre remis", "echec de la remise", "echec de livraison",
            "adresse introuvable", "destinataire inconnu", "utilisateur inconnu", "boite pleine",
            "boite aux lettres pleine", "message non distribue", "n'existe pas"),
        U: ("desabonner", "desinscrire", "desinscription", "desabonnement", "retirez-moi", "retirez moi",
            "supprimez mon adresse", "supprimer mes donnees", "ne plus me contacter", "ne me contactez plus",
            "ne plus recevoir", "arretez de m'ecrire", "cessez de", "de votre liste", "rgpd"),
        A: ("absent du bureau", "absente du bureau", "reponse automatique", "en conges", "en conge",
            "en vacances", "de retour le", "je serai de retour", "je suis absent", "je suis absente",
            "acces limite", "absence", "absent", "absente", "reprendrai", "hors du bureau", "en deplacement"),
        R: ("contactez", "contacter", "adressez-vous", "adressez vous", "mon collegue", "ma collegue",
            "la bonne personne", "la personne en charge", "en charge de", "responsable de", "s'occupe de",
            "je transmets", "je transfere", "ne fait plus partie", "a quitte", "voir avec", "ecrivez a"),
        N: ("pas interesse", "pas interesses", "pas interessee", "pas interessés", "ne nous interesse pas",
            "ne m'interesse pas", "non merci", "pas pour nous", "pas le moment", "pas une priorite",
            "nous avons deja", "deja un prestataire", "deja equipes", "pas de budget", "pas besoin",
            "nous passons", "nous declinons", "pas d'actualite"),
        Y: ("interesse", "interessee", "interesses", "ca m'interesse", "cela m'interesse", "nous interesse",
            "avec plaisir", "discutons", "un appel", "un rendez-vous", "un echange", "une demo",
            "plus d'informations", "plus d'infos", "plus de details", "envoyez-moi", "tarifs", "prix",
            "quand etes-vous disponible", "vos disponibilites", "pourquoi pas"),
    },
    "de": {
        B: ("unzustellbar", "nicht zugestellt", "zustellung fehlgeschlagen", "konnte nicht zugestellt",
            "empfanger unbekannt", "adresse existiert nicht", "postfach voll", "postfach ist voll",
            "benutzer unbekannt", "unbekannter empfanger"),
        U: ("abmelden", "austragen", "aus ihrem verteiler", "aus dem verteiler", "verteiler nehmen",
            "keine weiteren e-mails", "keine e-mails mehr", "keine mails mehr", "nicht mehr kontaktieren",
            "nicht mehr anschreiben", "kontaktieren sie mich nicht", "schreiben sie mir nicht", "loschen sie",
            "daten loschen", "dsgvo", "werbung verbitte"),
        A: ("abwesenheitsnotiz", "automatische antwort", "nicht im buro", "ausser haus", "außer haus",
            "im urlaub", "urlaubsbedingt", "abwesend", "wieder erreichbar", "wieder im buro", "wieder da",
            "zuruck am", "ab dem", "elternzeit", "eingeschrankt erreichbar", "keinen zugriff auf e-mails"),
        R: ("wenden sie sich an", "wende dich an", "ansprechpartner", "ansprechpartnerin", "kollege",
            "kollegin", "zustandig", "zuständig", "verantwortlich", "leite ihre", "weitergeleitet",
            "nicht mehr im unternehmen", "nicht mehr bei uns", "melden sie sich bei", "sprechen sie mit",
            "die richtige person", "der richtige ansprechpartner"),
        N: ("kein interesse", "keinen bedarf", "kein bedarf", "nicht interessiert", "nein danke",
            "haben bereits", "bereits einen anbieter", "arbeiten bereits mit", "derzeit nicht",
            "aktuell nicht", "momentan nicht", "kein budget", "passt nicht", "keine prioritat",
            "verzichten", "sehen wir keinen", "absage"),
        Y: ("interessiert", "interesse", "klingt gut", "klingt interessant", "gerne", "termin",
            "telefonat", "ein gesprach", "eine demo", "mehr informationen", "weitere informationen",
            "unterlagen", "schicken sie mir", "senden sie mir", "preise", "preisliste", "angebot",
            "wann passt es", "lassen sie uns sprechen"),
    },
    "ca": {
        B: ("no s'ha pogut lliurar", "no s'ha pogut entregar", "error de lliurament", "adreca no existeix",
            "l'adreca no existeix", "usuari desconegut", "bustia plena", "missatge no lliurat"),
        U: ("donar-me de baixa", "doneu-me de baixa", "donar-nos de baixa", "baixa de la llista",
            "no em torneu a escriure", "no ens torneu a contactar", "no em contacteu", "deixeu d'escriure",
            "deixeu d'enviar", "esborreu les meves dades", "elimineu la meva", "traieu-me", "rgpd"),
        A: ("fora de l'oficina", "fora de l oficina", "resposta automatica", "de vacances", "absent",
            "absenta", "tornare el", "tornare", "de tornada", "estare fora", "acces limitat",
            "baixa de maternitat", "baixa de paternitat", "no estare disponible"),
        R: ("parla amb", "parleu amb", "contacta amb", "contacteu amb", "poseu-vos en contacte amb",
            "escriu a", "escriviu a", "la persona adequada", "el responsable", "la responsable",
            "s'encarrega", "porta aquest tema", "us reenvio", "et reenvio", "ja no treballa",
            "la meva companya", "el meu company"),
        N: ("no ens interessa", "no m'interessa", "no estem interessats", "no estic interessat",
            "no estic interessada", "no gracies", "no, gracies", "ja tenim", "ja treballem amb",
            "no es prioritari", "no es el moment", "no necessitem", "sense pressupost", "de moment no",
            "per ara no"),
        Y: ("m'interessa", "ens interessa", "interessat", "interessada", "interessats", "sona be",
            "sona interessant", "parlem", "una trucada", "una reunio", "una demo", "mes informacio",
            "mes detalls", "envia'm", "envieu-me", "preu", "preus", "tarifes", "quan et va be",
            "quin dia us va be"),
    },
}

#: Class precedence when phrases of several classes match: the first one listed wins.
PRECEDENCE: tuple[ReplyClass, ...] = (B, U, A, R, N, Y)
