from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.enums import ImportOrigin, SuppressionKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint
from outboundql.models.migration_ops import AddFilledField

class Migration(migrations.Migration):
    dependencies = [('models', '0005_execution')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ImportFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('import_job', fields.OneToOneField('models.ImportJob', source_field='import_job_id', db_constraint=True, to_field='id', related_name='file', on_delete=OnDelete.CASCADE)),
                ('content', fields.BinaryField()),
            ],
            options={'table': 'import_file', 'app': 'models', 'pk_attr': 'id', 'table_description': "The bytes of an import job's file, kept apart so listing jobs never reads them."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Suppression',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='EMAIL: email\nPHONE: phone\nDOMAIN: domain', enum_type=SuppressionKind, max_length=16)),
                ('value', fields.CharField(max_length=254)),
                ('reason', fields.TextField(default='', unique=False)),
                ('source', fields.CharField(default='manual', max_length=32)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'suppression', 'app': 'models', 'unique_together': (('project', 'kind', 'value'),), 'pk_attr': 'id', 'table_description': 'One suppressed e-mail address, phone number (E.164) or domain of a project, with why and from where.'},
            bases=['ProjectScopedModel'],
        ),
        ops.AddField(
            model_name='Account',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddConstraint(
            model_name='Account',
            constraint=UniqueConstraint(fields=('project', 'source', 'external_id'), name=None),
        ),
        AddFilledField(
            model_name='Campaign',
            name='import_mapping',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Campaign',
            name='import_sender',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='Campaign',
            name='import_token',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='Contact',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Contact',
            name='source',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddConstraint(
            model_name='Contact',
            constraint=UniqueConstraint(fields=('project', 'source', 'external_id'), name=None),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='campaign',
            field=fields.ForeignKeyField('models.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        AddFilledField(
            model_name='ImportJob',
            name='done',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='ImportJob',
            name='dry_run',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='finished_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='heartbeat_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddFilledField(
            model_name='ImportJob',
            name='origin',
            field=fields.CharEnumField(default=ImportOrigin.UPLOAD, description='UPLOAD: upload\nEMAIL: email', enum_type=ImportOrigin, max_length=16),
        ),
        AddFilledField(
            model_name='ImportJob',
            name='runs',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='sender',
            field=fields.CharField(null=True, max_length=254),
        ),
        ops.AddField(
            model_name='ImportJob',
            name='started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
