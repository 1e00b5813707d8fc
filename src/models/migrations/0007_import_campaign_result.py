from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_data_in_out')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ImportJob',
            name='campaign_result',
            field=fields.JSONField(null=True, description='What adding the accounts to the campaign did (added, already_present, blocked, scored, error), null until then.', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
