from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_scoring_runs')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='translated_language',
            field=fields.CharField(null=True, max_length=8),
        ),
    ]
