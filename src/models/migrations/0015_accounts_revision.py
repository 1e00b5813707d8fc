"""Each project's accounts revision (`AccountsRevision`, set by the triggers of `outboundql.models.triggers.REVISIONS`):
the table, the triggers, and a first revision for every project."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

from outboundql.models import triggers


async def revise(apps: object, schema_editor: object) -> None:
    """The triggers in place, then a revision for every project (one transaction: a write meanwhile revises it)."""
    client = schema_editor.client  # type: ignore[attr-defined]
    await triggers.install(client, triggers.REVISIONS)
    random = triggers.RANDOM[client.capabilities.dialect]
    await client.execute_script(
        f'INSERT INTO "accounts_revision" ("project_id", "revision") SELECT "id", {random} FROM "project" WHERE TRUE '
        'ON CONFLICT ("project_id") DO NOTHING')

class Migration(migrations.Migration):
    dependencies = [('models', '0014_kept_by_the_database')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountsRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.OneToOneField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('revision', fields.BigIntField()),
            ],
            options={'table': 'accounts_revision', 'app': 'models', 'pk_attr': 'id', 'table_description': "Which state of a project's accounts is current: a new random ``revision`` whenever a transaction that wrote"},
            bases=['Model'],
        ),
        ops.RunPython(revise),
    ]
