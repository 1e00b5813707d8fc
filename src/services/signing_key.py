"""The server's secret signing key (short-lived links such as export downloads).

``OUTBOUNDQL_SECRET_KEY`` when set. Otherwise a random key is made the first time one is needed and kept,
so links survive a restart and every process of one machine agrees: in ``<database file>.secret`` beside a
SQLite database (mode 0600), else in ``outboundql.secret`` in the working directory. A key that cannot be
kept (an in-memory database, a read-only directory) lives as long as the process, with a warning. A kept key
readable by group or others is refused (``ExposedKeyFile``). On a server database without the setting, each
host keeps a key of its own, so :func:`warn_if_kept_per_host` warns at startup.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import tempfile
from pathlib import Path

from outboundql.services import runtime
from outboundql.settings import Settings

KEY_FILE = "outboundql.secret"

log = logging.getLogger(__name__)


class ExposedKeyFile(Exception):
    """A kept key file is readable by group or others: not used, since anyone who can read it can forge links."""


def signing_key() -> bytes:
    """The key of this process's settings (see the module's docstring)."""
    settings = runtime.settings()
    configured = _configured_key(settings)
    return configured if configured is not None else _kept_key(settings.database_url)


def warn_if_kept_per_host(settings: Settings) -> None:
    """Warn (once per process) when the key would be kept per host: links made on one host fail on another."""
    if _configured_key(settings) is None and not settings.database_url.startswith("sqlite://"):
        _warn_kept_per_host(str(key_path(settings.database_url)))


@functools.cache
def _warn_kept_per_host(path: str) -> None:
    log.warning("OUTBOUNDQL_SECRET_KEY is not set: export links are signed with a key kept in %s on this host only. "
                "With more than one API process on more than one host, a link made on one host answers 404 on "
                "another: set OUTBOUNDQL_SECRET_KEY to the same value everywhere.", path)


def _configured_key(settings: Settings) -> bytes | None:
    secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else ""
    return secret.encode() if secret else None


@functools.cache
def _kept_key(database_url: str) -> bytes:
    path = key_path(database_url)
    if path is None:
        return secrets.token_bytes(32)  # an in-memory database dies with the process too
    try:
        return _read_or_create(path).encode()
    except OSError as exc:
        log.warning("Could not keep a signing key in %s (%s): links made by this process stop working when it "
                    "stops, and other processes cannot verify them. Set OUTBOUNDQL_SECRET_KEY.", path, exc)
        return secrets.token_bytes(32)


def key_path(database_url: str) -> Path | None:
    """Where the key made for ``database_url`` is kept; None for an in-memory SQLite database."""
    if database_url.startswith("sqlite://"):
        location = database_url.removeprefix("sqlite://").split("?", 1)[0]
        if not location or ":memory:" in location or location.startswith("file::memory:"):
            return None
        return Path(location + ".secret")
    return Path.cwd() / KEY_FILE


def _read_or_create(path: Path) -> str:
    if path.exists():
        return _read(path)
    # Written whole under another name, then linked into place: a concurrent process either wins the link or
    # reads the winner's complete file, never a half-written one.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".outboundql-key-")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ExposedKeyFile(f"The signing key file {path} is readable by group or others (mode {mode & 0o777:o}): "
                             f"not used. Make it private (chmod 600 {path}), or remove it to make a new one (links "
                             "made before stop working), or set OUTBOUNDQL_SECRET_KEY.")
    key = path.read_text().strip()
    if len(key) < 32:
        raise OSError(f"the key in {path} is shorter than 32 characters")
    return key
