"""Signed links that go out with an attempt: each names its attempt, for its purpose only."""

from __future__ import annotations

from outboundql.channels import links


def test_a_link_names_its_attempt_for_its_purpose_only() -> None:
    token = links.token(links.UNSUBSCRIBE, 123_456)
    assert links.attempt_of(links.UNSUBSCRIBE, token) == 123_456
    assert links.attempt_of(links.RESULT, token) is None
    assert links.attempt_of(links.RESULT, links.token(links.RESULT, 7)) == 7
    assert links.url(links.UNSUBSCRIBE, 1).endswith("/unsubscribe/" + links.token(links.UNSUBSCRIBE, 1))


def test_a_changed_or_made_up_token_names_nothing() -> None:
    token = links.token(links.UNSUBSCRIBE, 41)
    body, signature = token.split(".")
    for bad in [links.UNSUBSCRIBE + "2." + signature, token + "x", body, "", "u1.", "." * 3, "u" + "z" * 200,
                token.replace(".", "..")]:
        assert links.attempt_of(links.UNSUBSCRIBE, bad) is None
