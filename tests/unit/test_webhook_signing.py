"""The Standard Webhooks scheme, checked against the scheme's reference implementation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from outboundql.webhooks import signing

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BODY = b'{"type":"attempt.execute","data":{"id":"1"}}'


def test_what_we_sign_the_reference_verifies_and_the_other_way_round() -> None:
    secret = signing.new_secret()
    assert signing.valid_secret(secret) and secret.startswith("whsec_")
    ours = signing.headers(secret, "msg_1", datetime.now(UTC), BODY)
    assert Webhook(secret).verify(BODY, ours) == {"type": "attempt.execute", "data": {"id": "1"}}
    theirs = Webhook(secret).sign("msg_2", NOW, BODY.decode())
    received = {"webhook-id": "msg_2", "webhook-timestamp": str(int(NOW.timestamp())), "webhook-signature": theirs}
    assert signing.verify(secret, received, BODY, NOW) == "msg_2"


def test_a_wrong_secret_a_changed_body_or_an_old_timestamp_is_refused() -> None:
    secret, other = signing.new_secret(), signing.new_secret()
    sent = signing.headers(secret, "msg_1", NOW, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, signing.headers(secret, "msg_1", datetime.now(UTC), BODY))
    for headers, body, now in [(sent, BODY, NOW), (sent, BODY + b" ", NOW), (sent, BODY, NOW + timedelta(minutes=6)),
                               ({**sent, "webhook-timestamp": "soon"}, BODY, NOW), ({}, BODY, NOW)]:
        with pytest.raises(signing.InvalidSignature):
            signing.verify(other if headers is sent and body is BODY and now is NOW else secret, headers, body, now)


def test_one_matching_signature_of_several_is_enough_while_a_secret_rotates() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    sent = signing.headers(new, "msg_1", NOW, BODY)
    both = {**sent, "webhook-signature": f"{signing.sign(old, 'msg_1', int(NOW.timestamp()), BODY)} "
                                         f"{sent['webhook-signature']}"}
    assert signing.verify(new, both, BODY, NOW) == "msg_1"
    assert not signing.valid_secret("whsec_not base64!") and not signing.valid_secret("whsec_AAAA")
