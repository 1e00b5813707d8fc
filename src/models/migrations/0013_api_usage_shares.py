"""Each account's share of a paid call (`ApiUsageShare`); shares of the calls about one account (drafts) filled in."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_teams_scores_signals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiUsageShare',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('usage', fields.ForeignKeyField('models.ApiUsage', source_field='usage_id', db_constraint=True, to_field='id', related_name='shares', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('cost_usd', fields.DecimalField(default=0, description="This account's part of the call's cost (six decimals, like ApiUsage.cost_usd).", max_digits=12, decimal_places=6)),
                ('input_units', fields.IntField(default=0)),
                ('output_units', fields.IntField(default=0)),
            ],
            options={'table': 'api_usage_share', 'app': 'models', 'unique_together': (('usage_id', 'account_id'),), 'indexes': [Index(fields=['account_id'])], 'pk_attr': 'id', 'table_description': "One account's share of a paid call: a call about N accounts (a scoring batch, replies read together)"},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='ApiUsage',
            options={'table': 'api_usage', 'app': 'models', 'indexes': [Index(fields=['project_id', 'created_at']), Index(fields=['campaign_id'])], 'pk_attr': 'id', 'table_description': 'One call to a paid service (LLM, enrichment), in USD. What each account of the call cost is in its'},
        ),
        ops.AlterField(
            model_name='ApiUsage',
            name='account',
            field=fields.ForeignKeyField('models.Account', source_field='account_id', null=True, description='The account when the call was about exactly one (a draft); null for a call about several (their shares', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        # Altering a column remakes the table on SQLite, without its indexes: made again (PostgreSQL kept them).
        ops.RunSQL([
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_project_8e50de" ON "api_usage" ("project_id", "created_at")',
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_campaig_31fbb4" ON "api_usage" ("campaign_id")',
        ]),
        # A call about one account was all that account's; calls about several kept no record of whom they were about.
        ops.RunSQL([
            'INSERT INTO "api_usage_share" ("usage_id", "project_id", "account_id", "cost_usd", "input_units", '
            '"output_units") SELECT "id", "project_id", "account_id", "cost_usd", "input_units", "output_units" '
            'FROM "api_usage" WHERE "account_id" IS NOT NULL',
        ]),
    ]
