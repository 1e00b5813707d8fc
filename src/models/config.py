"""The one place that builds tortoise configuration, and applies migrations."""

from __future__ import annotations

from typing import Any

MODEL_MODULES: tuple[str, ...] = ("outboundql.models",)
MIGRATIONS_PACKAGE = "outboundql.models.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise config for ``database_url`` with the app label ``models``."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": MIGRATIONS_PACKAGE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _cli_config() -> dict[str, Any]:
    from outboundql.settings import get_settings

    return tortoise_config(get_settings().database_url)


def __getattr__(name: str) -> Any:
    # `TORTOISE_ORM` exists only for the `tortoise` CLI ([tool.tortoise] in pyproject.toml);
    # it is computed on access so importing this module never reads the environment.
    if name == "TORTOISE_ORM":
        return _cli_config()
    raise AttributeError(name)


async def apply_migrations(database_url: str) -> list[str]:
    """Bring the database at ``database_url`` up to the latest migration (one process at a time, see
    `outboundql.models.migrating`), then close connections. Returns the names of the migrations applied."""
    from outboundql.models.migrating import migrate

    return (await migrate(database_url)).applied
