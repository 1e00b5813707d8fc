"""The built-in ``email`` channel against a real SMTP server (aiosmtpd on 127.0.0.1): the mail as it arrives
(sender, recipient, Reply-To, Message-ID on the sender's domain, the thread of a sequence, RFC 8058 one-click
unsubscribe), STARTTLS and implicit TLS with a self-signed certificate and a login, and what each failure means to
the engine: temporary (4xx, nothing listening) retried, a refused recipient bounced, a wrong configuration neither
and said how to fix; and the daily caps: an attempt over one is deferred, nothing sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from outboundql.channels import Configured, Deferred, Delivered, Delivery, DeliveryFailed
from outboundql.channels.email import EmailChannel, caps
from tests.smtp_sink import Sink, free_port, smtp_server, temp_certificate

UNSUBSCRIBE = "https://outbound.example/unsubscribe/u1c.abcdefghijklmnopqrstuv"


def delivery(**overrides: Any) -> Delivery:
    values: dict[str, Any] = dict(
        attempt_id=12, delivery_key="attempt-12", project_id=1, campaign_id=3, channel="email",
        address="maria.lopez@globex.example", contact_name="María López", account_name="Globex",
        subject="Quick question about Globex", body="Hi María,\n\nA short note.\n\nAna", step=1, attempt_number=1,
        unsubscribe_url=UNSUBSCRIBE)
    values.update(overrides)
    return Delivery(**values)


def config(port: int, secrets: Mapping[str, str] | None = None, **settings: Any) -> Configured:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none", "fromAddress": "ana@acme.example",
                              "fromName": "Ana Ruiz", "replyTo": "replies@acme.example"}
    values.update(settings)
    return Configured(project_id=1, kind="email", settings=values, secrets=secrets or {})


class Quota:
    """Answers ``full`` (a time) or takes; remembers what was asked."""

    def __init__(self, full: datetime | None = None) -> None:
        self.full = full
        self.asked: list[dict[str, int]] = []

    async def take(self, limits: Mapping[str, int]) -> datetime | None:
        self.asked.append(dict(limits))
        return self.full


def header(mail: Any, name: str) -> str:
    return " ".join(str(mail[name]).split())  # long headers arrive folded


async def test_the_first_mail_arrives_with_its_headers() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, Delivered)
    [mail] = sink.mails
    assert sink.envelopes == [("ana@acme.example", ["maria.lopez@globex.example"])]
    assert header(mail, "From") == "Ana Ruiz <ana@acme.example>"
    assert header(mail, "To") == "María López <maria.lopez@globex.example>"
    assert header(mail, "Reply-To") == "replies@acme.example"
    assert header(mail, "Subject") == "Quick question about Globex"
    assert re.fullmatch(r"<[^<>@\s]+@acme\.example>", header(mail, "Message-ID"))
    assert result.provider_id == header(mail, "Message-ID")
    assert mail["In-Reply-To"] is None and mail["References"] is None
    assert header(mail, "List-Unsubscribe") == f"<{UNSUBSCRIBE}>"
    assert header(mail, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail["Date"] is not None
    assert mail.get_content().replace("\r\n", "\n").strip() == "Hi María,\n\nA short note.\n\nAna"


async def test_follow_ups_answer_the_thread() -> None:
    channel = EmailChannel()
    async with smtp_server() as sink:
        first = await channel.deliver(delivery(), config(sink.port))
        assert isinstance(first, Delivered) and first.provider_id
        second = await channel.deliver(delivery(step=2, attempt_id=13, subject="Quick question about Globex",
                                                thread=(first.provider_id,)), config(sink.port))
        assert isinstance(second, Delivered) and second.provider_id
        third = await channel.deliver(delivery(step=3, attempt_id=14, subject="Re: Quick question about Globex",
                                               thread=(first.provider_id, second.provider_id)), config(sink.port))
    assert isinstance(third, Delivered)
    _, two, three = sink.mails
    assert header(two, "In-Reply-To") == first.provider_id
    assert header(two, "References") == first.provider_id
    assert header(three, "In-Reply-To") == second.provider_id
    assert header(three, "References") == f"{first.provider_id} {second.provider_id}"
    assert header(two, "Subject") == header(three, "Subject") == "Re: Quick question about Globex"
    assert len({header(m, "Message-ID") for m in sink.mails}) == 3


async def test_starttls_with_a_login() -> None:
    certificate = temp_certificate()
    async with smtp_server(starttls=certificate, users={"ana": "s3cret"}) as sink:
        channel = EmailChannel(tls_context=certificate.client_context())
        sent = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="starttls",
                                                        username="ana"))
        wrong = await channel.deliver(delivery(), config(sink.port, {"password": "nope"}, security="starttls",
                                                         username="ana"))
        untrusted = await EmailChannel().deliver(delivery(), config(sink.port, {"password": "s3cret"},
                                                                    security="starttls", username="ana"))
        plain = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="none",
                                                         username="ana"))
    assert isinstance(sent, Delivered)
    assert sink.logins == ["ana"] and len(sink.mails) == 1
    assert isinstance(wrong, DeliveryFailed) and not wrong.retryable and not wrong.bounced
    assert "username and password" in wrong.error
    assert isinstance(untrusted, DeliveryFailed) and not untrusted.retryable and not untrusted.bounced
    assert "certificate" in untrusted.error
    assert isinstance(plain, DeliveryFailed) and not plain.retryable and not plain.bounced  # the server wants TLS


async def test_implicit_tls_with_a_login() -> None:
    certificate = temp_certificate()
    async with smtp_server(tls=certificate, users={"ana": "s3cret"}) as sink:
        channel = EmailChannel(tls_context=certificate.client_context())
        sent = await channel.deliver(delivery(), config(sink.port, {"password": "s3cret"}, security="tls",
                                                        username="ana"))
    assert isinstance(sent, Delivered)
    assert sink.logins == ["ana"] and len(sink.mails) == 1


async def test_a_login_without_its_password_is_refused_before_connecting() -> None:
    result = await EmailChannel().deliver(delivery(), config(free_port(), username="ana"))
    assert isinstance(result, DeliveryFailed) and not result.retryable and "password" in result.error


@pytest.mark.parametrize(("answer", "retryable", "bounced"), [
    ("451 4.7.1 Greylisted, try again later", True, False),
    ("550 5.1.1 No such user here", False, True),
])
async def test_a_refused_recipient(answer: str, retryable: bool, bounced: bool) -> None:
    sink = Sink(refuse_rcpt={"maria.lopez@globex.example": answer})
    async with smtp_server(sink):
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, DeliveryFailed)
    assert (result.retryable, result.bounced) == (retryable, bounced)
    assert answer.split()[0] in result.error and sink.mails == []


@pytest.mark.parametrize(("answer", "retryable", "bounced"), [
    ("452 4.3.1 Insufficient system storage", True, False),
    ("554 5.7.1 Message rejected as spam", False, True),
])
async def test_a_refused_message(answer: str, retryable: bool, bounced: bool) -> None:
    sink = Sink(refuse_data=answer)
    async with smtp_server(sink):
        result = await EmailChannel().deliver(delivery(), config(sink.port))
    assert isinstance(result, DeliveryFailed)
    assert (result.retryable, result.bounced) == (retryable, bounced)


async def test_nothing_listening_is_temporary() -> None:
    result = await EmailChannel(timeout=5).deliver(delivery(), config(free_port()))
    assert isinstance(result, DeliveryFailed) and result.retryable and not result.bounced
    assert "127.0.0.1" in result.error


async def test_a_missing_configuration_says_what_to_set() -> None:
    result = await EmailChannel().deliver(delivery(), Configured(project_id=1, kind="email", settings={}))
    assert isinstance(result, DeliveryFailed) and not result.retryable and "fromAddress" in result.error


async def test_an_address_that_is_not_one_bounces_without_sending() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(address="maria lopez@globex.example"), config(sink.port))
    assert isinstance(result, DeliveryFailed) and result.bounced and sink.mails == []


async def test_header_injection_is_flattened() -> None:
    async with smtp_server() as sink:
        result = await EmailChannel().deliver(delivery(subject="Hello\r\nBcc: victim@evil.example",
                                                       contact_name="María\nBcc: x@evil.example"), config(sink.port))
    assert isinstance(result, Delivered)
    [mail] = sink.mails
    assert mail["Bcc"] is None and sink.envelopes[0][1] == ["maria.lopez@globex.example"]
    assert header(mail, "Subject") == "Hello Bcc: victim@evil.example"


async def test_caps_are_taken_before_sending_and_a_full_one_defers() -> None:
    tomorrow = datetime(2026, 3, 3, tzinfo=UTC)
    async with smtp_server() as sink:
        taken, full = Quota(), Quota(full=tomorrow)
        sent = await EmailChannel().deliver(delivery(quota=taken), config(sink.port, dailyCapPerSender=120))
        deferred = await EmailChannel().deliver(delivery(quota=full), config(sink.port))
    assert isinstance(sent, Delivered)
    assert taken.asked == [{"sender:ana@acme.example": 120, "domain:globex.example": 50}]
    assert isinstance(deferred, Deferred) and deferred.until == tomorrow and "cap" in deferred.reason
    assert len(sink.mails) == 1


def test_the_default_caps_protect_a_new_sender() -> None:
    limits = caps("Ana@Acme.example", "maria@Globex.example", Configured(project_id=1, kind="email"))
    assert limits == {"sender:ana@acme.example": 200, "domain:globex.example": 50}


def test_configuration_checks_beyond_the_types() -> None:
    check = EmailChannel().validate
    assert check({"host": "smtp.acme.example", "port": 587, "security": "starttls",
                  "fromAddress": "ana@acme.example", "replyTo": "replies@acme.example"}, {}) == {}
    problems = check({"host": "smtp://smtp.acme.example:587", "port": 465, "security": "starttls",
                      "fromAddress": "ana at acme", "replyTo": "x@"}, {})
    assert set(problems) == {"host", "fromAddress", "replyTo", "security"}
    assert "without a scheme" in problems["host"] and "usually speaks tls" in problems["security"]


def test_the_channel_is_built_in() -> None:
    from outboundql.services import runtime

    channel = runtime.channels().get("email")
    assert channel is not None and channel.serves == frozenset({"email"})
    assert [s.key for s in channel.settings] == [
        "host", "port", "security", "username", "fromAddress", "fromName", "replyTo", "dailyCapPerSender",
        "dailyCapPerRecipientDomain", "password"]
    assert [s.key for s in channel.settings if s.secret] == ["password"]
