"""Secrets sealed with a key derived from the server's key: readable back only with that key and on their row."""

from __future__ import annotations

from pathlib import Path

import pytest

from outboundql.services import runtime, secret_box
from outboundql.settings import Settings


def _with_key(tmp_path: Path, key: str) -> runtime.Runtime:
    base = runtime.current()
    return runtime.Runtime(Settings(database_url=f"sqlite://{tmp_path}/x.db", secret_key=key), base.goals,
                           base.jobs, base.clock)


def test_a_sealed_secret_reads_back_and_does_not_show_in_what_is_stored(tmp_path: Path) -> None:
    with runtime.using(_with_key(tmp_path, "a" * 40)):
        stored = secret_box.seal("hunter2-password", "channel:1")
        assert "hunter2" not in stored and stored.startswith("v1.")
        assert secret_box.open_(stored, "channel:1") == "hunter2-password"
        assert secret_box.seal("hunter2-password", "channel:1") != stored  # a fresh nonce each time


def test_another_row_another_key_or_a_changed_text_cannot_read_it(tmp_path: Path) -> None:
    with runtime.using(_with_key(tmp_path, "a" * 40)):
        stored = secret_box.seal("pw", "channel:1")
        with pytest.raises(secret_box.UnreadableSecret):
            secret_box.open_(stored, "channel:2")
        with pytest.raises(secret_box.UnreadableSecret):
            secret_box.open_(stored[:-2] + ("AA" if stored[-2:] != "AA" else "BB"), "channel:1")
        with pytest.raises(secret_box.UnreadableSecret):
            secret_box.open_("pw", "channel:1")
    with runtime.using(_with_key(tmp_path, "b" * 40)), pytest.raises(secret_box.UnreadableSecret, match="set it"):
        secret_box.open_(stored, "channel:1")
