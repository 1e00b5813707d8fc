"""What the database keeps itself (`outboundql.models.triggers`): each project's account count (`ProjectCounts`)
and each thread's attention (`CampaignAccount.attention_level` and ``attention_at``, with the inbox's index); the
triggers put in place, then both filled from the rows."""

from datetime import UTC, datetime

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from outboundql.models import triggers
from outboundql.models.migration_ops import AddFilledField


async def keep(apps: object, schema_editor: object) -> None:
    """The triggers in place, then every project counted and every thread's attention set from the rows (one
    transaction: nothing written meanwhile is missed)."""
    client = schema_editor.client  # type: ignore[attr-defined]
    await triggers.install(client, triggers.ACCOUNTS, triggers.ATTENTION)
    await client.execute_script(
        'INSERT INTO "project_counts" ("project_id", "accounts") SELECT p."id", (SELECT COUNT(*) FROM "account" a '
        'WHERE a."project_id" = p."id") FROM "project" p')
    await client.execute_script(triggers.ATTENTION_SET.format(rows="TRUE"))


class Migration(migrations.Migration):
    dependencies = [('models', '0013_api_usage_shares')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProjectCounts',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.OneToOneField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('accounts', fields.IntField(default=0, description="The project's accounts.")),
            ],
            options={'table': 'project_counts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What a project holds, counted by the database itself: triggers on the counted tables move these numbers in'},
            bases=['Model'],
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='attention_at',
            field=fields.DatetimeField(auto_now=False, auto_now_add=True),
            fill=datetime(1970, 1, 1, tzinfo=UTC),  # set from the thread's messages (or when it was added) below
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='attention_level',
            field=fields.SmallIntField(default=0),
        ),
        ops.RunPython(keep),
        ops.AddIndex(  # after the rows are set: one index build rather than an update of every entry
            model_name='CampaignAccount',
            index=Index(fields=['campaign_id', 'attention_level', 'attention_at', 'id']),
        ),
    ]
