"""The unsubscribe link of an e-mail, ``/unsubscribe/<token>``: GET shows a small page with one button, POST
unsubscribes (`outboundql.services.unsubscribes`).

GET never unsubscribes: mail scanners and link previews follow links. POST does, whatever its body: the page's
button, and the RFC 8058 one-click POST a mailbox provider sends (body ``List-Unsubscribe=One-Click``) — which can
carry no CSRF token, by design; the signed token in the path is the credential and the action only ever removes
the recipient from the list. The page speaks the reader's language when it is one of a few (Accept-Language),
else English; a bad token answers 404.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from outboundql.services import unsubscribes

ROUTE_NAME = "unsubscribe"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
}

#: The page's words: title, the question, the button, done, already done, not found.
TEXTS: dict[str, dict[str, str]] = {
    "en": {"title": "Unsubscribe", "ask": "Stop e-mails from {sender} to {address}?", "button": "Unsubscribe",
           "done": "{address} is unsubscribed: {sender} will not e-mail it again.",
           "already": "{address} is unsubscribed: {sender} will not e-mail it again.",
           "missing": "This unsubscribe link is not valid. If you keep receiving e-mails, reply to one of them."},
    "es": {"title": "Darse de baja", "ask": "¿Dejar de recibir correos de {sender} en {address}?",
           "button": "Darse de baja", "done": "{address} está dado de baja: {sender} no volverá a escribirle.",
           "already": "{address} está dado de baja: {sender} no volverá a escribirle.",
           "missing": "Este enlace de baja no es válido. Si sigue recibiendo correos, responda a uno de ellos."},
    "fr": {"title": "Se désabonner", "ask": "Ne plus recevoir d'e-mails de {sender} à {address} ?",
           "button": "Se désabonner", "done": "{address} est désabonné : {sender} ne lui écrira plus.",
           "already": "{address} est désabonné : {sender} ne lui écrira plus.",
           "missing": "Ce lien de désabonnement n'est pas valide. Si vous recevez encore des e-mails, répondez "
                      "à l'un d'eux."},
    "de": {"title": "Abmelden", "ask": "Keine E-Mails mehr von {sender} an {address}?", "button": "Abmelden",
           "done": "{address} ist abgemeldet: {sender} schreibt nicht mehr an diese Adresse.",
           "already": "{address} ist abgemeldet: {sender} schreibt nicht mehr an diese Adresse.",
           "missing": "Dieser Abmeldelink ist ungültig. Wenn Sie weiterhin E-Mails erhalten, antworten Sie auf "
                      "eine davon."},
    "pt": {"title": "Cancelar inscrição", "ask": "Deixar de receber e-mails de {sender} em {address}?",
           "button": "Cancelar inscrição", "done": "{address} foi removido: {sender} não voltará a escrever.",
           "already": "{address} foi removido: {sender} não voltará a escrever.",
           "missing": "Este link de cancelamento não é válido. Se continuar a receber e-mails, responda a um deles."},
    "it": {"title": "Annulla iscrizione", "ask": "Non ricevere più e-mail da {sender} a {address}?",
           "button": "Annulla iscrizione", "done": "{address} è stato rimosso: {sender} non scriverà più.",
           "already": "{address} è stato rimosso: {sender} non scriverà più.",
           "missing": "Questo link non è valido. Se continui a ricevere e-mail, rispondi a una di esse."},
}


def language_of(request: Request) -> str:
    """The first language of Accept-Language the page speaks (by weight), else English."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        weighted.append((-weight, position, tag.strip().lower().split("-")[0]))
    for _, _, language in sorted(weighted):
        if language in TEXTS:
            return language
    return "en"


def _page(language: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex">'
            f"<title>{escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;"
            "margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.5rem 1.25rem}</style>"
            f"</head><body><h1>{escape(title)}</h1>{body}</body></html>")
    return HTMLResponse(html, status_code=status, headers=HEADERS)


async def unsubscribe_page(request: Request) -> Response:
    language = language_of(request)
    words = TEXTS[language]
    token = request.path_params["token"]
    try:
        if request.method == "POST":
            done = await unsubscribes.unsubscribe(token)
            found = done.link
            key = "done" if done.added else "already"
        else:
            found = await unsubscribes.link(token)
            key = "already" if found.unsubscribed else "ask"
    except unsubscribes.LinkNotFound:
        return _page(language, words["title"], f"<p>{escape(words['missing'])}</p>", status=404)
    text = escape(words[key].format(sender=found.sender, address=found.address))
    if key != "ask":
        return _page(language, words["title"], f"<p>{text}</p>")
    return _page(language, words["title"], f'<p>{text}</p><form method="post">'
                                           f'<button type="submit">{escape(words["button"])}</button></form>')


route = Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET", "POST"], name=ROUTE_NAME)
