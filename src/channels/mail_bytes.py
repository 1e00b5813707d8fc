"""A plain-text mail written straight to the bytes SMTP carries, for the ``email`` channel.

The standard ``email`` package parses every header it is given into a tree and folds it back when the mail is
flattened: about a millisecond a mail, half the channel's own time. The mails the channel sends are all of one
simple kind (one text part, a fixed set of headers, addresses already checked), so they are written here directly:

- header values in ASCII are folded at spaces into lines of at most 78 characters; values with other characters
  (a contact's name ``María López``, a Spanish subject) become RFC 2047 encoded words (UTF-8, base64), which every
  mail client decodes;
- addresses are checked as contacts' addresses are (the plain ASCII form by a pattern, anything else by
  email_validator); an address outside ASCII (``josé@correo.es``) is written in UTF-8 and the mail needs the
  server's SMTPUTF8 (`Mail.utf8`);
- the body is UTF-8 text, sent as it is (7bit) when it is ASCII with lines of at most 78 characters, else
  quoted-printable, so it passes any server, with or without 8BITMIME; lines end in CRLF.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from outboundql.services.normalize import is_plain_email

#: The longest header line written (RFC 5322 recommends 78).
LINE = 78
#: UTF-8 bytes per encoded word: 39 bytes are 52 base64 characters, 64 with ``=?utf-8?b?`` and ``?=``, so that
#: ``Subject: `` and one word fit a line.
_WORD_BYTES = 39
#: A display name written as it is: atoms and spaces (anything else is quoted).
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")


@dataclass(frozen=True, slots=True)
class Mail:
    """A mail ready for ``SMTP.sendmail``."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    utf8: bool
    """An address is outside ASCII: the server must offer SMTPUTF8."""


def address(text: str) -> tuple[str, bool]:
    """``text`` as an address is written, and whether it is outside ASCII; ValueError for what is not one
    address."""
    text = text.strip()
    if is_plain_email(text.lower()):
        return text, False
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{text!r} is not an e-mail address ({exc})") from None
    return (valid.ascii_email, False) if valid.ascii_email else (valid.normalized, True)


def mailbox(name: str, address_text: str) -> str:
    """``name <address>`` as a header value (the address alone without a name); ``address_text`` as `address`
    returns it."""
    name = one_line(name)
    if not name:
        return address_text
    if not name.isascii():
        return f"{encoded_words(name)} <{address_text}>"
    if not _ATOMS.fullmatch(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address_text}>"


def header(name: str, value: str) -> str:
    """One header (without its line end), folded at spaces into lines of at most `LINE` characters (a longer word,
    a long link, stays whole on a line of its own); ``value`` is as it is written (`text` and `mailbox` write what
    needs encoding)."""
    lines, line = [], f"{name}:"
    for word in one_line(value).split(" "):
        if len(line) + 1 + len(word) > LINE:
            lines.append(line)
            line = ""
        line = f"{line} {word}"
    lines.append(line)
    return "\r\n".join(lines)


def text(value: str) -> str:
    """Free text (a subject) as a header value: ASCII words as they are, anything else as encoded words."""
    value = one_line(value)
    if value.isascii() and all(len(word) <= LINE - 2 for word in value.split(" ")):
        return value
    return encoded_words(value)


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, base64), separated by spaces (`header` folds between them)."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode())
        if size + length > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return " ".join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?=" for word in words)


def body(content: str) -> tuple[str, bytes]:
    """The transfer encoding and the bytes of a text body (CRLF line ends, a line end at the end)."""
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    if content.isascii() and all(len(line) <= LINE for line in lines):
        return "7bit", "".join(f"{line}\r\n" for line in lines).encode("ascii")
    encoded = binascii.b2a_qp("".join(f"{line}\n" for line in lines).encode(), istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def write(headers: list[str], content: str) -> bytes:
    """The bytes of a mail of ``headers`` (each from `header`) and the plain text ``content``."""
    encoding, data = body(content)
    head = "\r\n".join([*headers, "MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"',
                        f"Content-Transfer-Encoding: {encoding}"])
    return head.encode() + b"\r\n\r\n" + data


def one_line(text: str) -> str:
    return " ".join(text.split())
