"""Runtime settings, read once from the environment (prefix ``OUTBOUNDQL_``).

Every setting is documented in the README's configuration table; a test keeps the two equal.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite://{Path.cwd() / 'outboundql.db'}"


class Settings(BaseSettings):
    """Process settings. Construct with keyword arguments in tests; use `get_settings()` elsewhere."""

    model_config = SettingsConfigDict(env_prefix="OUTBOUNDQL_", extra="ignore", frozen=True)

    database_url: str = Field(
        default_factory=_default_database_url,
        description="Database URL: `sqlite:///abs/path.db` or `postgres://user@host:5432/db`. "
        "Default: `outboundql.db` in the working directory.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for the job broker and live events. Unset: in-process jobs and events.",
    )
    embedded_worker_threads: int = Field(
        default=2, ge=1, le=32, description="Worker threads of the in-process job worker (embedded mode)."
    )
    max_page_size: int = Field(default=100, ge=1, le=1000, description="Largest `first`/`last` a connection accepts.")
    max_query_depth: int = Field(default=12, ge=2, le=50, description="Deepest selection a query may nest.")
    max_aliases: int = Field(default=30, ge=1, description="Most aliases one document may use.")
    max_tokens: int = Field(default=5000, ge=100, description="Most lexical tokens one document may contain.")
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest HTTP request body accepted, in bytes (413 above it)."
    )
    max_bulk_items: int = Field(default=1000, ge=1, description="Most items one bulk mutation accepts.")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to open websockets (e.g. a UI dev server). JSON list.",
    )
    token_touch_interval_seconds: int = Field(
        default=60, ge=0, description="How stale `lastUsedAt` of an API token may get before it is refreshed."
    )
    disable_plugins: str = Field(
        default="",
        description="Comma-separated entry-point names of goal plugins not to load, e.g. `podcast,webinar`.",
    )
    trace_plugins: bool = Field(default=False, description="Print every plugin hook call (debugging plugins).")
    log_level: str = Field(default="info", description="Log level of the server and workers.")

    @property
    def disabled_plugins(self) -> list[str]:
        return [name.strip() for name in self.disable_plugins.split(",") if name.strip()]


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
