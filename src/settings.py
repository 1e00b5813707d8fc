"""Runtime settings, read once from the environment (prefix ``OUTBOUNDQL_``).

Every setting is documented in the README's configuration table; a test keeps the two equal.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from strawberry.http.websocket_origin import normalize_allowed_origins

from outboundql.llm.pricing import DEFAULT_PRICES, ModelPrice


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
    max_query_depth: int = Field(
        default=12, ge=2, le=50,
        description="Most levels of fields a query may nest (`{ viewer { email } }` is 2); deeper is refused with "
        "QUERY_TOO_DEEP.",
    )
    max_aliases: int = Field(
        default=30, ge=1, description="Most aliases one document may use; refused with TOO_MANY_ALIASES."
    )
    max_tokens: int = Field(
        default=5000, ge=100, description="Most lexical tokens one document may contain; refused with TOO_MANY_TOKENS."
    )
    max_query_cost: int = Field(
        default=50_000, ge=1,
        description="Most objects one operation may ask for, computed before it runs (page sizes multiplied through "
        "nested lists); more is refused with QUERY_TOO_COSTLY.",
    )
    rate_limit_points: int = Field(
        default=5000, ge=0,
        description="Points each API token (or IP address, without one) may spend per rate-limit window; an "
        "operation costs one point per started hundred objects of its query cost. 0: no rate limit.",
    )
    rate_limit_window_seconds: int = Field(
        default=3600, ge=1, description="Length of the fixed rate-limit window, in seconds."
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest HTTP request body accepted, in bytes (413 above it)."
    )
    max_upload_bytes: int = Field(
        default=10_000_000, ge=1024,
        description="Largest file one upload (`importAccounts`) may carry, in bytes; a multipart request may be this "
        "much larger than `max_body_bytes` (413 above the sum).",
    )
    max_input_items: int = Field(
        default=12_000, ge=100,
        description="Most list items and objects one request's variables may hold (ids, bulk items, contacts…), "
        "counted before they are read; refused with TOO_MANY_INPUT_ITEMS.",
    )
    max_json_depth: int = Field(
        default=64, ge=8, le=500,
        description="Deepest nesting of arrays and objects in a request's JSON (body, GET `variables`, websocket "
        "message), checked before parsing: 400 above it (a websocket is closed with 4400).",
    )
    body_timeout_seconds: float = Field(
        default=10.0, gt=0,
        description="Time a client has to send a request's whole body once its headers arrived: 408 after it "
        "(so slow senders cannot hold connections open).",
    )
    max_bulk_items: int = Field(default=1000, ge=1, description="Most items one bulk mutation accepts.")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins (scheme, host, port) whose pages may call the API: HTTP requests (CORS) and "
        'websockets. JSON list, e.g. `["http://localhost:5173"]`; `["*"]` allows every origin. Empty: only pages '
        "served by this server (GraphiQL) and non-browser clients.",
    )
    cors_allow_credentials: bool = Field(
        default=False,
        description="Let allowed origins' requests carry the browser's credentials (cookies, HTTP auth); API "
        "tokens in `Authorization` need no such permission. Refused together with `*` in `allowed_origins`.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs short-lived links (export downloads). Unset: a random key made once and kept "
        "beside the SQLite database (`<file>.secret`), or in `outboundql.secret` in the working directory for other "
        "databases; set the same value on every API process when they run on several machines.",
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="The address people and providers reach this server at (scheme, host, port, path prefix): "
        "the base of links made outside a request, such as an e-mail's unsubscribe link and a webhook channel's "
        "result callback.",
    )
    export_link_seconds: int = Field(
        default=900, ge=30, le=86_400,
        description="How long the download link of an export works, in seconds (15 minutes by default).",
    )
    token_touch_interval_seconds: int = Field(
        default=60, ge=0, description="How stale `lastUsedAt` of an API token may get before it is refreshed."
    )
    auth_cache_seconds: int = Field(
        default=30, ge=0, le=3600,
        description="How long an API process remembers a token's user and roles (a request it answers runs no SQL "
        "to authenticate); revocations, role changes and removals take effect at once regardless. 0: no cache.",
    )
    disable_plugins: str = Field(
        default="",
        description="Comma-separated entry-point names of goal plugins not to load, e.g. `podcast,webinar`.",
    )
    trace_plugins: bool = Field(default=False, description="Print every plugin hook call (debugging plugins).")
    log_level: str = Field(
        default="info", description="Log level of every process: the API (uvicorn's lines too), workers and mail-in."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="Log lines as JSON objects or for a console; `auto`: JSON unless stderr is a terminal.",
    )
    scorer: str = Field(
        default="rubric", pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="Default fit scorer: the key of an installed scorer plugin (`outboundql scorers` lists them; "
        "`rubric` when it names none); `scoreCampaign(scorer:)` overrides it for one run."
    )
    scoring_batch_size: int = Field(
        default=200, ge=1, le=5000,
        description="Accounts per scoring job message with the rubric scorer (the LLM scorer uses `LLM_BATCH_SIZE`).",
    )
    scoring_resume_interval_seconds: float = Field(
        default=30.0, gt=0,
        description="How often each worker process enqueues again the pending batches of scoring runs that made no "
        "progress for twice as long (their messages were lost, e.g. Redis restarted empty): such a run goes on "
        "within about three times this.",
    )
    scheduler_interval_seconds: float = Field(
        default=5.0, gt=0,
        description="How often each process that runs jobs (the embedded server, each `outboundql worker`) ticks the "
        "outreach scheduler: plans waiting rows and claims due attempts.",
    )
    attempt_lease_seconds: int = Field(
        default=300, ge=10,
        description="How long the execution of a claimed attempt may go without a sign of life (executions renew "
        "it as they go) before another tick claims the attempt again: its worker died. A claim whose job never "
        "started gets twice as long (the job queue lost its message).",
    )
    out_of_office_days: int = Field(
        default=7, ge=1,
        description="Days an out-of-office reply that states no return date pauses its campaign account's plan.",
    )
    webhook_private_addresses: bool = Field(
        default=False,
        description="Let webhooks (the webhook channel, event endpoints) go to loopback, private and link-local "
        "addresses: receivers inside the operator's own network, or on this machine while developing. Off: public "
        "addresses only, so a project's webhook URL cannot reach into the network the server runs in.",
    )
    mail_in_domain: str = Field(
        default="localhost",
        description="Domain of campaign import addresses (`import+<token>@<domain>`) that `outboundql mail-in` "
        "receives mail for; the organisation's mail server relays that domain's mail to the receiver.",
    )
    mail_in_max_sessions: int = Field(
        default=20, ge=1,
        description="Most SMTP sessions `outboundql mail-in` holds at once; a connection over it is answered 421 "
        "(try again later) and closed.",
    )
    llm_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible API (`POST {url}/chat/completions`), "
        "e.g. `https://api.openai.com/v1`. Unset: no LLM features.",
    )
    llm_model: str | None = Field(default=None, description="Model name sent to the LLM endpoint, e.g. `gpt-4o-mini`.")
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key for the LLM endpoint, sent as `Authorization: Bearer …`."
    )
    llm_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one LLM request, in seconds.")
    llm_max_attempts: int = Field(
        default=4, ge=1, le=10,
        description="Requests per LLM call, the first included: 429, 5xx, timeouts and connection errors are retried.",
    )
    llm_backoff_seconds: float = Field(
        default=1.0, ge=0,
        description="Wait before the first LLM retry; doubles on each retry (a 429's `Retry-After` wins, ≤ 60 s).",
    )
    llm_batch_size: int = Field(default=20, ge=1, le=100, description="Accounts scored per LLM request.")
    llm_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES),
        description="USD per million tokens per model, replacing the built-in table. JSON, e.g. "
        '`{"my-model": {"input_per_million": 0.5, "output_per_million": 1.5}}`. A model not listed costs 0.',
    )

    @field_validator("allowed_origins")
    @classmethod
    def _normalize_origins(cls, origins: list[str]) -> list[str]:
        # As browsers send them in `Origin` (lowercase, no default port): CORS compares the strings as they are.
        return sorted(normalize_allowed_origins(origins))

    @model_validator(mode="after")
    def _no_credentials_for_every_origin(self) -> Settings:
        if self.cors_allow_credentials and "*" in self.allowed_origins:
            raise ValueError("cors_allow_credentials cannot be used with '*' in allowed_origins (every website "
                             "could act with a visitor's cookies): list the origins instead")
        return self

    @property
    def disabled_plugins(self) -> list[str]:
        return [name.strip() for name in self.disable_plugins.split(",") if name.strip()]


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
