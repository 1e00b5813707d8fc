from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.enums import Channel
from outboundql.models.webhooks import WebhookDeliveryStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_import_campaign_result')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='EMAIL: email\nLINKEDIN: linkedin\nPHONE_CALL: phone_call\nSMS: sms\nWHATSAPP: whatsapp\nINSTAGRAM: instagram\nTWITTER_X: twitter_x\nOTHER: other', enum_type=Channel, max_length=16)),
                ('key', fields.CharField(max_length=64)),
                ('settings', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secrets', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'channel_config', 'app': 'models', 'unique_together': (('project', 'kind'),), 'pk_attr': 'id', 'table_description': 'The channel plugin (``key``) a project delivers one message channel (``kind``) through, with its settings'},
            bases=['ProjectScopedModel'],
        ),
        ops.CreateModel(
            name='SendQuota',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('counter', fields.CharField(max_length=320)),
                ('utc_day', fields.CharField(description=')  #: ``sender:<address>`` or ``domain:<domain>``, lowercase', max_length=10)),
                ('taken', fields.IntField(default=0, description=')  #: the UTC day, ``YYYY-MM-DD`` (text: one value on both databases)')),
            ],
            options={'table': 'send_quota', 'app': 'models', 'unique_together': (('project', 'counter', 'utc_day'),), 'pk_attr': 'id', 'table_description': 'One counter of a project for one UTC day (``sender:ana@x.example``, ``domain:example.org``). Taken one slot'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.TextField(default='', unique=False)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret', fields.TextField(default='', unique=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('disabled_reason', fields.TextField(null=True, unique=False)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'indexes': [Index(fields=['project_id', 'enabled'])], 'pk_attr': 'id', 'table_description': "An integrator's HTTPS URL that receives the project's events it subscribes to, signed with its secret"},
            bases=['ProjectScopedModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.CharField(max_length=64)),
                ('event_type', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=WebhookDeliveryStatus.PENDING, description='PENDING: pending\nDELIVERED: delivered\nFAILED: failed', enum_type=WebhookDeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=32)),
                ('response_status', fields.IntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['endpoint_id', 'status', 'id'])], 'pk_attr': 'id', 'table_description': 'One event to send to one endpoint, with its tries: the outbox row a worker claims when it is due.'},
            bases=['ProjectScopedModel'],
        ),
        ops.AddField(
            model_name='OutreachAttempt',
            name='provider_id',
            field=fields.CharField(null=True, max_length=500),
        ),
    ]
