from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.classifiers import ReplyClass
from outboundql.enums import UsageOperation
from tortoise import fields
from tortoise.indexes import Index
from outboundql.models.migration_ops import AddFilledField

class Migration(migrations.Migration):
    dependencies = [('models', '0009_attempt_heartbeat')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ApiUsage',
            name='operation',
            field=fields.CharEnumField(description='SCORE: score\nPERSONA: persona\nDRAFT: draft\nTRANSLATE: translate\nCLASSIFY: classify', enum_type=UsageOperation, max_length=16),
        ),
        # Altering a column remakes the table on SQLite, without its indexes: made again (PostgreSQL kept them).
        ops.RunSQL([
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_project_8e50de" ON "api_usage" ("project_id", "created_at")',
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_campaig_31fbb4" ON "api_usage" ("campaign_id")',
        ]),
        ops.AddField(
            model_name='Campaign',
            name='reply_classifier',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='CampaignAccount',
            name='reply_class',
            field=fields.CharEnumField(null=True, description='INTERESTED: interested\nNOT_INTERESTED: not_interested\nOUT_OF_OFFICE: out_of_office\nREFERRAL: referral\nUNSUBSCRIBE: unsubscribe\nBOUNCE: bounce\nOTHER: other', enum_type=ReplyClass, max_length=16),
        ),
        ops.AddIndex(
            model_name='CampaignAccount',
            index=Index(fields=['campaign_id', 'reply_class']),
        ),
        ops.AddField(
            model_name='Message',
            name='classified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Message',
            name='classifier',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Message',
            name='referral',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Message',
            name='reply_class',
            field=fields.CharEnumField(null=True, description='INTERESTED: interested\nNOT_INTERESTED: not_interested\nOUT_OF_OFFICE: out_of_office\nREFERRAL: referral\nUNSUBSCRIBE: unsubscribe\nBOUNCE: bounce\nOTHER: other', enum_type=ReplyClass, max_length=16),
        ),
        ops.AddField(
            model_name='Message',
            name='reply_class_confidence',
            field=fields.FloatField(null=True),
        ),
        AddFilledField(
            model_name='Message',
            name='reply_class_corrected',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Message',
            name='returns_on',
            field=fields.DateField(null=True),
        ),
    ]
