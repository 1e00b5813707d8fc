from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index
from outboundql.models.migration_ops import AddFilledField

class Migration(migrations.Migration):
    dependencies = [('models', '0010_reply_classes')]

    initial = False

    operations = [
        AddFilledField(
            model_name='Campaign',
            name='add_inbound_contacts',
            field=fields.BooleanField(default=False),
        ),
        AddFilledField(
            model_name='Campaign',
            name='lose_on_not_interested',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='CampaignAccount',
            name='paused_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['direction', 'reply_class', 'created_at']),
        ),
    ]
