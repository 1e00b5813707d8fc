from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.enums import ScoringItemState, ScoringStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScoringRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='scoring_runs', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('goal_key', fields.CharField(max_length=64)),
                ('scorer', fields.CharField(max_length=32)),
                ('force', fields.BooleanField(default=False)),
                ('language', fields.CharField(default='en', max_length=8)),
                ('persona_version', fields.IntField(default=0)),
                ('examples', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=ScoringStatus.RUNNING, description='IDLE: idle\nRUNNING: running\nCOMPLETED: completed\nFAILED: failed', enum_type=ScoringStatus, max_length=16)),
                ('active_campaign_id', fields.IntField(null=True, unique=True)),
                ('total', fields.IntField(default=0)),
                ('done', fields.IntField(default=0)),
                ('failed', fields.IntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('resumed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'scoring_run', 'app': 'models', 'indexes': [Index(fields=['campaign_id', 'created_at']), Index(fields=['status'])], 'pk_attr': 'id', 'table_description': "One scoring job over a campaign's accounts. The database, not the broker, is its truth:"},
            bases=['ProjectScopedModel'],
        ),
        ops.CreateModel(
            name='ScoringRunItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.ScoringRun', source_field='run_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('batch', fields.IntField()),
                ('state', fields.CharEnumField(default=ScoringItemState.PENDING, description='PENDING: pending\nDONE: done\nFAILED: failed', enum_type=ScoringItemState, max_length=16)),
                ('error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'scoring_run_item', 'app': 'models', 'unique_together': (('run', 'account'),), 'indexes': [Index(fields=['run_id', 'batch', 'state'])], 'pk_attr': 'id', 'table_description': 'An account a run must score, in the batch (job message) that carries it.'},
            bases=['Model'],
        ),
    ]
