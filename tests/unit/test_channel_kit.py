"""The channel authors' kit checks a configuration as configureChannel does and counts a quota as the server's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outboundql.channels.email import EMAIL
from outboundql.channels.testing import MemoryQuota, configured
from outboundql.channels.webhook import WEBHOOK
from outboundql.webhooks import signing


def test_configured_fills_defaults_and_opens_secrets() -> None:
    secret = signing.new_secret()
    config = configured(WEBHOOK, kind="phone_call", settings={"url": "https://calls.example/hook"},
                        secrets={"signingSecret": secret}, project_id=7)
    assert (config.project_id, config.kind, config.settings["url"], dict(config.secrets)) == (
        7, "phone_call", "https://calls.example/hook", {"signingSecret": secret})
    mail = configured(EMAIL, settings={"host": "smtp.example.com", "fromAddress": "ana@acme.example"},
                      secrets={"password": "pw"})
    assert mail.kind == "email" and mail.settings["port"] == 587  # the default filled in


def test_configured_refuses_what_configure_channel_refuses() -> None:
    with pytest.raises(ValueError) as error:
        configured(WEBHOOK, settings={"url": "ftp://x", "colour": "red"}, secrets={"nope": "x"})
    text = str(error.value)
    assert "settings.url: Endpoint URL must be an http(s) URL." in text
    assert "settings.colour: The webhook channel has no setting 'colour'" in text
    assert "secrets.nope: The webhook channel has no secret 'nope'." in text
    assert "secrets.signingSecret: Signing secret is required: set it in secrets." in text
    with pytest.raises(ValueError, match=r"^kind: The email channel does not deliver sms; it delivers email\."):
        configured(EMAIL, kind="sms", settings={"host": "smtp.example.com", "fromAddress": "ana@acme.example"},
                   secrets={"password": "pw"})


def test_configured_runs_the_channels_own_validate() -> None:
    with pytest.raises(ValueError, match=r"settings\.host: 'smtp\.example\.com:25' is not a host name"):
        configured(EMAIL, settings={"host": "smtp.example.com:25", "fromAddress": "ana@acme.example"},
                   secrets={"password": "pw"})


async def test_memory_quota_takes_all_or_nothing_and_frees_at_midnight() -> None:
    quota = MemoryQuota(now=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    assert await quota.take({"sender:a": 2, "domain:x": 1}) is None
    assert await quota.take({"sender:a": 2, "domain:x": 1}) == datetime(2026, 3, 3, tzinfo=UTC)
    assert quota.taken == {"sender:a": 1, "domain:x": 1}  # the refused take counted nothing
    assert await quota.take({"sender:a": 2}) is None
