from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.enums import AttemptOutcome, AttemptStatus, Channel, ExecutionState, ExecutionStatus, GoalOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from outboundql.models.migration_ops import AddFilledField

class Migration(migrations.Migration):
    dependencies = [('models', '0004_idempotency_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutreachAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign_account', fields.ForeignKeyField('models.CampaignAccount', source_field='campaign_account_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('channel', fields.CharEnumField(description='EMAIL: email\nLINKEDIN: linkedin\nPHONE_CALL: phone_call\nSMS: sms\nWHATSAPP: whatsapp\nINSTAGRAM: instagram\nTWITTER_X: twitter_x\nOTHER: other', enum_type=Channel, max_length=16)),
                ('step', fields.IntField()),
                ('attempt_number', fields.IntField()),
                ('plan_round', fields.IntField(default=1)),
                ('status', fields.CharEnumField(description='AWAITING_APPROVAL: awaiting_approval\nSCHEDULED: scheduled\nEXECUTING: executing\nAWAITING_RESULT: awaiting_result\nDONE: done\nFAILED: failed\nREJECTED: rejected\nCANCELLED: cancelled', enum_type=AttemptStatus, max_length=24)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=32)),
                ('executed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('subject', fields.CharField(null=True, max_length=500)),
                ('body', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(null=True, max_length=500)),
                ('outcome', fields.CharEnumField(null=True, description='SENT: sent\nBOUNCED: bounced\nCONNECTED: connected\nVOICEMAIL: voicemail\nNO_ANSWER: no_answer\nBUSY: busy\nFAILED: failed', enum_type=AttemptOutcome, max_length=16)),
                ('goal_achieved', fields.BooleanField(null=True)),
                ('notes', fields.TextField(default='', unique=False)),
                ('error', fields.TextField(null=True, unique=False)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reviewed_by', fields.ForeignKeyField('models.User', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'outreach_attempt', 'app': 'models', 'indexes': [Index(fields=['status', 'due_at']), Index(fields=['campaign_id', 'status']), Index(fields=['campaign_account_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One attempt of a cadence step to one contact: planned, approved, claimed by a worker, delivered through a'},
            bases=['ProjectScopedModel'],
        ),
        ops.AddField(
            model_name='Account',
            name='time_zone',
            field=fields.CharField(null=True, max_length=64),
        ),
        AddFilledField(
            model_name='Campaign',
            name='cadence',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        AddFilledField(
            model_name='Campaign',
            name='execution_state',
            field=fields.CharEnumField(default=ExecutionState.NOT_LIVE, description='NOT_LIVE: not_live\nLIVE: live\nPAUSED: paused\nSTOPPED: stopped', enum_type=ExecutionState, max_length=16),
        ),
        ops.AddField(
            model_name='Campaign',
            name='live_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Campaign',
            name='outreach_started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='attempts_made',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='execution_disabled',
            field=fields.BooleanField(default=False),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='execution_status',
            field=fields.CharEnumField(default=ExecutionStatus.NOT_PLANNED, description='NOT_PLANNED: not_planned\nPLANNING: planning\nAWAITING_APPROVAL: awaiting_approval\nAWAITING_EXECUTION: awaiting_execution\nEXECUTING: executing\nRESCHEDULED: rescheduled\nCOMPLETED: completed\nMAX_RETRIES: max_retries\nDISQUALIFIED: disqualified\nDISABLED: disabled\nCAMPAIGN_PAUSED: campaign_paused', enum_type=ExecutionStatus, max_length=24),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='goal_outcome',
            field=fields.CharEnumField(default=GoalOutcome.OPEN, description='OPEN: open\nACHIEVED: achieved\nLOST: lost', enum_type=GoalOutcome, max_length=16),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='plan_round',
            field=fields.IntField(default=1),
        ),
        ops.AddIndex(
            model_name='CampaignAccount',
            index=Index(fields=['campaign_id', 'execution_status']),
        ),
        ops.AddField(
            model_name='Contact',
            name='time_zone',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
