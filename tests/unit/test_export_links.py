"""Signed export links: what a token claims survives the round trip; anything changed, or signed with another
key, is not valid; and the server's key is kept beside a SQLite database when none is configured."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outboundql.exports import links
from outboundql.services import signing_key

CLAIMS = links.LinkClaims("campaign_accounts", project_id=3, campaign_id=12, user_id=7,
                          expires_at=datetime(2026, 12, 1, 9, 45, tzinfo=UTC))
KEY = b"k" * 32


def test_a_token_carries_its_claims() -> None:
    token = links.sign(CLAIMS, KEY)
    assert links.verify(token, KEY) == CLAIMS
    assert links.verify(links.sign(CLAIMS, KEY), KEY) == CLAIMS  # the same claims, the same token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")  # URL-safe
    project_wide = links.LinkClaims("messages", 3, None, 7, CLAIMS.expires_at)
    assert links.verify(links.sign(project_wide, KEY), KEY) == project_wide


def test_a_changed_token_or_another_key_is_not_valid() -> None:
    token = links.sign(CLAIMS, KEY)
    body, signature = token.split(".")
    other = links.sign(links.LinkClaims("campaign_accounts", 3, 13, 7, CLAIMS.expires_at), KEY)
    for bad in [
        links.sign(CLAIMS, b"another key"),
        other.split(".")[0] + "." + signature,  # another campaign's claims under this signature
        body + "." + signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"),
        body, "", ".", "a.b.c", token + "=", token.replace(".", "!"), "é" + token, "x" * 2000,
    ]:
        assert links.verify(bad, KEY) is None, bad


def test_signed_nonsense_is_not_valid_either() -> None:
    for body in (b"[]", b"{}", b'{"k":"x","p":"a","c":null,"u":1,"e":1}', b"not json"):
        mac = links._mac(body, KEY)
        assert links.verify(f"{links._b64(body)}.{links._b64(mac)}", KEY) is None


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///srv/data/outboundql.db", "/srv/data/outboundql.db.secret"),
    ("sqlite:///srv/data/outboundql.db?busy_timeout=10000", "/srv/data/outboundql.db.secret"),
    ("sqlite://:memory:", None),
])
def test_where_the_key_is_kept(url: str, path: str | None) -> None:
    found = signing_key.key_path(url)
    assert (None if found is None else str(found)) == path


def test_other_databases_keep_it_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert signing_key.key_path("postgres://u@h:5432/db") == tmp_path / "outboundql.secret"


def test_a_kept_key_is_made_once_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "outboundql.db.secret"
    first = signing_key._read_or_create(path)
    assert len(first) >= 32 and signing_key._read_or_create(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["outboundql.db.secret"]  # no temporary file left behind


def test_a_configured_key_wins(tmp_path: Path) -> None:
    from outboundql.services import runtime
    from outboundql.settings import Settings

    base = runtime.current()
    configured = runtime.Runtime(Settings(database_url=f"sqlite://{tmp_path}/x.db", secret_key="s" * 40),
                                 base.goals, base.jobs, base.clock)
    with runtime.using(configured):
        assert signing_key.signing_key() == b"s" * 40
    kept = runtime.Runtime(Settings(database_url=f"sqlite://{tmp_path}/x.db"), base.goals, base.jobs, base.clock)
    with runtime.using(kept):
        assert signing_key.signing_key() == (tmp_path / "x.db.secret").read_text().encode()
        assert signing_key.signing_key() == signing_key.signing_key()


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outboundql.secret"
    path.write_text("k" * 48)
    path.chmod(0o644)
    with pytest.raises(signing_key.ExposedKeyFile, match="chmod 600"):
        signing_key._read_or_create(path)
    path.chmod(0o600)
    assert signing_key._read_or_create(path) == "k" * 48


def test_a_key_kept_per_host_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    from outboundql.settings import Settings

    signing_key._warn_kept_per_host.cache_clear()
    with caplog.at_level("WARNING", logger=signing_key.__name__):
        signing_key.warn_if_kept_per_host(Settings(database_url="sqlite://db.sqlite3"))
        signing_key.warn_if_kept_per_host(Settings(database_url="postgres://u@h:5432/db", secret_key="s" * 40))
        assert caplog.records == []
        signing_key.warn_if_kept_per_host(Settings(database_url="postgres://u@h:5432/db"))
        signing_key.warn_if_kept_per_host(Settings(database_url="postgres://u@h:5432/db"))
    assert len(caplog.records) == 1
    assert "set OUTBOUNDQL_SECRET_KEY" in caplog.records[0].getMessage()
