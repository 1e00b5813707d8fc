"""Operations the generated migrations are edited to use where tortoise's own would fail on a live database."""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.migrations import operations as ops


class AddFilledField(ops.AddField):
    """`AddField` of a NOT NULL column to a table that may already hold rows.

    Both databases refuse to add a NOT NULL column without a database default to a table with rows, and the
    models give their defaults in Python only. The column is added with the field's default as its database
    default, so the rows already there get it; PostgreSQL then drops that default again, so the schema is the
    one the models generate (SQLite cannot drop a column default without remaking the table; it keeps it,
    harmlessly). The migration state is the plain `AddField`'s. ``fill``: what the rows already there get, for a
    field without a default of its own (one set by the ORM when a row is made, or kept by a trigger).
    """

    def __init__(self, model_name: str, name: str, field: Any, *, fill: Any = None) -> None:
        super().__init__(model_name, name, field)
        self.fill = fill

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any,
                               state_editor: Any | None = None) -> None:
        if not state_editor:
            return
        model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
        field = model._meta.fields_map[self.name]
        default = self.fill if self.fill is not None else field.default() if callable(field.default) else field.default
        unset = field.db_default
        field.db_default = default
        try:
            await state_editor.add_field(model, self.name)
        finally:
            field.db_default = unset
        client = state_editor.client
        if client.capabilities.dialect == "postgres":
            column = model._meta.fields_db_projection[self.name]
            await client.execute_script(
                f'ALTER TABLE "{model._meta.db_table}" ALTER COLUMN "{column}" DROP DEFAULT')


class DropColumn(ops.RemoveField):
    """`RemoveField` done in place with ``ALTER TABLE … DROP COLUMN`` on both databases (SQLite 3.35+).

    Tortoise remakes a SQLite table to drop a column; dropping the old table then runs the ON DELETE actions of
    every table referencing it (cascades and SET NULLs over live rows) and loses its indexes. The migration state
    is the plain `RemoveField`'s.
    """

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any,
                               state_editor: Any | None = None) -> None:
        if not state_editor:
            return
        client = state_editor.client
        if client.capabilities.dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
            await super().database_forward(app_label, old_state, new_state, state_editor)  # no DROP COLUMN there
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_db_projection[self.name]
        await client.execute_script(f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{column}"')
