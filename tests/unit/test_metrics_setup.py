"""Where several processes' metrics meet (`outboundql.metrics_setup`)."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest

from outboundql import metrics_setup


def test_a_taken_metrics_port_is_an_error_in_the_log_not_a_worker_that_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(metrics_setup.MULTIPROC_ENV, str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="outboundql.metrics_setup"):
            assert metrics_setup.serve_multiprocess("127.0.0.1", port) is False
    assert f"cannot be served on 127.0.0.1:{port}" in caplog.text and "--metrics-port" in caplog.text


def test_an_operators_directory_is_emptied_of_old_samples_and_kept(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setenv(metrics_setup.MULTIPROC_ENV, str(tmp_path))
    assert metrics_setup.prepare_multiprocess_dir("worker") == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    metrics_setup.remove_multiprocess_dir(tmp_path)
    assert tmp_path.exists()


def test_without_one_a_temporary_directory_is_made_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics_setup.MULTIPROC_ENV, raising=False)
    made = metrics_setup.prepare_multiprocess_dir("api")
    try:
        assert made.is_dir() and str(made) == os.environ[metrics_setup.MULTIPROC_ENV]
    finally:
        metrics_setup.remove_multiprocess_dir(made)
        monkeypatch.delenv(metrics_setup.MULTIPROC_ENV, raising=False)  # prepare set it for this process
    assert not made.exists()
