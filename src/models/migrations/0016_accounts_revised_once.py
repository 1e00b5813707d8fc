"""The accounts revision's triggers of `outboundql.models.triggers.REVISIONS` installed again: on PostgreSQL one
transaction-local setting lists the projects a transaction revised (0015 named one per project, and each name stayed
defined in the database session); on SQLite an account update writes its project's revision once."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from outboundql.models import triggers


async def install(apps: object, schema_editor: object) -> None:
    await triggers.install(schema_editor.client, triggers.REVISIONS)  # type: ignore[attr-defined]


class Migration(migrations.Migration):
    dependencies = [('models', '0015_accounts_revision')]

    initial = False

    operations = [ops.RunPython(install)]
