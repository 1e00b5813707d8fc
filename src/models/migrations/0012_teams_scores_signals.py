from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from outboundql.enums import AudienceSyncStatus, Role, SignalStatus, UsageOperation
from outboundql.models.audit import AuditSource
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from outboundql.models.migration_ops import AddFilledField, DropColumn

#: Each campaign row's kept scores and each campaign's score counters, from the fit scores (what
#: `outboundql.services.campaign_scores.sync` keeps them at from now on).
KEPT_SCORES = [
    'UPDATE "campaign_account" SET "ai_score" = (SELECT fs."score" FROM "fit_score" fs JOIN "campaign" c '
    'ON c."id" = "campaign_account"."campaign_id" WHERE fs."product_id" = c."product_id" '
    'AND fs."goal_key" = c."goal_key" AND fs."account_id" = "campaign_account"."account_id")',
    'UPDATE "campaign_account" SET "score_stale" = CASE WHEN "ai_score" IS NULL AND EXISTS (SELECT 1 '
    'FROM "fit_score" o JOIN "campaign" c ON c."id" = "campaign_account"."campaign_id" '
    'WHERE o."product_id" = c."product_id" AND o."account_id" = "campaign_account"."account_id" '
    'AND o."goal_key" <> c."goal_key") THEN TRUE ELSE FALSE END',
    'UPDATE "campaign_account" SET "effective_score" = COALESCE("override_score", "ai_score")',
    'UPDATE "campaign" SET "stale_score_count" = (SELECT COUNT(*) FROM "campaign_account" ca '
    'WHERE ca."campaign_id" = "campaign"."id" AND ca."score_stale")',
    *(f'UPDATE "campaign" SET "score_bucket_{b}" = (SELECT COUNT(*) FROM "campaign_account" ca '
      f'WHERE ca."campaign_id" = "campaign"."id" AND ca."ai_score" IS NOT NULL'
      f'{f" AND ca.{chr(34)}ai_score{chr(34)} >= {b}" if b else ""}'
      f'{f" AND ca.{chr(34)}ai_score{chr(34)} < {b + 1}" if b < 9 else ""})' for b in range(10)),
]


async def move_signals(apps: object, schema_editor: object) -> None:
    """A message's signals were a list of notes on the message: each becomes a confirmed signal of kind
    ``other``, as a person wrote it."""
    client = schema_editor.client  # type: ignore[attr-defined]
    postgres = client.capabilities.dialect == "postgres"
    length = "jsonb_array_length" if postgres else "json_array_length"
    rows = await client.execute_query_dict(
        'SELECT m."id", m."project_id", m."campaign_account_id", ca."campaign_id", m."signals", m."created_by_id", '
        'm."created_at" FROM "message" m JOIN "campaign_account" ca ON ca."id" = m."campaign_account_id" '
        f'WHERE m."signals" IS NOT NULL AND {length}(m."signals") > 0 ORDER BY m."id"')

    def mark(n: int) -> str:
        return f"${n}" if postgres else "?"

    for row in rows:
        notes = row["signals"] if isinstance(row["signals"], list) else loads(row["signals"] or "[]")
        for note in dict.fromkeys(str(n).strip() for n in notes if str(n).strip()):
            values = [row["project_id"], row["id"], row["campaign_account_id"], row["campaign_id"], note[:300],
                      row["created_by_id"], row["created_at"], row["created_at"]]
            await client.execute_query(
                'INSERT INTO "signal" ("project_id", "message_id", "campaign_account_id", "campaign_id", "kind", '
                '"text", "status", "source", "created_by_id", "created_at", "updated_at") VALUES '
                f"({mark(1)}, {mark(2)}, {mark(3)}, {mark(4)}, 'other', {mark(5)}, 'confirmed', 'person', {mark(6)}, "
                f"{mark(7)}, {mark(8)})", values)


class Migration(migrations.Migration):
    dependencies = [('models', '0011_replies_and_inbound')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AudienceSync',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='audience_syncs', on_delete=OnDelete.CASCADE)),
                ('active_campaign_id', fields.IntField(null=True, unique=True)),
                ('status', fields.CharEnumField(default=AudienceSyncStatus.QUEUED, description='QUEUED: queued\nRUNNING: running\nCOMPLETED: completed\nFAILED: failed', enum_type=AudienceSyncStatus, max_length=16)),
                ('trigger', fields.CharField(default='manual', max_length=16)),
                ('total', fields.IntField(default=0)),
                ('done', fields.IntField(default=0)),
                ('added', fields.IntField(default=0)),
                ('already_present', fields.IntField(default=0)),
                ('removed', fields.IntField(default=0)),
                ('kept', fields.IntField(default=0)),
                ('blocked', fields.JSONField(default=list, description='Refused accounts grouped like a bulk add: [{reason, status, count, account_ids, message, override_flag}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('heartbeat_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'audience_sync', 'app': 'models', 'indexes': [Index(fields=['campaign_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One filling of a campaign from its audience (`outboundql.services.audiences`): its progress and what it did.'},
            bases=['ProjectScopedModel'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=254)),
                ('role', fields.CharEnumField(description='OWNER: owner\nADMIN: admin\nMEMBER: member\nVIEWER: viewer', enum_type=Role, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('invited_by', fields.ForeignKeyField('models.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_by', fields.ForeignKeyField('models.User', source_field='accepted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivery', fields.CharField(default='not_configured', description='``emailed``, ``not_configured`` (no e-mail channel: the inviter passes the token on) or ``failed``.', max_length=16)),
                ('delivery_error', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'invitation', 'app': 'models', 'indexes': [Index(fields=['project_id', 'created_at']), Index(fields=['project_id', 'email'])], 'pk_attr': 'id', 'table_description': 'An offer of a role in a project, accepted once with its token before it expires. Only the SHA-256 of the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Signal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='signal_rows', on_delete=OnDelete.CASCADE)),
                ('campaign_account', fields.ForeignKeyField('models.CampaignAccount', source_field='campaign_account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=64)),
                ('text', fields.CharField(max_length=300)),
                ('status', fields.CharEnumField(description='PROPOSED: proposed\nCONFIRMED: confirmed\nDISMISSED: dismissed', enum_type=SignalStatus, max_length=16)),
                ('source', fields.CharField(default='person', max_length=64)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signal', 'app': 'models', 'indexes': [Index(fields=['message_id', 'id']), Index(fields=['campaign_id', 'status', 'kind'])], 'pk_attr': 'id', 'table_description': "One signal of a message (a reply, a call's notes), rolled up by kind per campaign and market."},
            bases=['ProjectScopedModel'],
        ),
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['project_id', 'name'],
        ),
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['project_id', 'employee_count'],
        ),
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['project_id', 'created_at'],
        ),
        ops.RemoveIndex(
            model_name='Account',
            name=None,
            fields=['project_id', 'updated_at'],
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['project_id', 'name', 'id']),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['project_id', 'employee_count', 'id']),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['project_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['project_id', 'updated_at', 'id']),
        ),
        ops.AlterField(
            model_name='ApiUsage',
            name='operation',
            field=fields.CharEnumField(description='SCORE: score\nPERSONA: persona\nDRAFT: draft\nTRANSLATE: translate\nCLASSIFY: classify\nSIGNALS: signals', enum_type=UsageOperation, max_length=16),
        ),
        # Altering a column remakes the table on SQLite, without its indexes: made again (PostgreSQL kept them).
        ops.RunSQL([
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_project_8e50de" ON "api_usage" ("project_id", "created_at")',
            'CREATE INDEX IF NOT EXISTS "idx_api_usage_campaig_31fbb4" ON "api_usage" ("campaign_id")',
        ]),
        ops.RemoveIndex(
            model_name='AuditEvent',
            name=None,
            fields=['project_id', 'created_at'],
        ),
        ops.AlterModelOptions(
            name='AuditEvent',
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['project_id', 'created_at', 'id']), Index(fields=['project_id', 'actor_id', 'created_at']), Index(fields=['object_type', 'object_id'])], 'pk_attr': 'id', 'table_description': 'One change: the actor, the action, the row, and its fields before and after, and where it came from.'},
        ),
        ops.AlterField(
            model_name='AuditEvent',
            name='project',
            field=fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='api_token',
            field=fields.ForeignKeyField('models.ApiToken', source_field='api_token_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='source',
            field=fields.CharEnumField(null=True, description='API: api\nCLI: cli\nWORKER: worker\nIMPORT: import', enum_type=AuditSource, max_length=8),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['project_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['project_id', 'actor_id', 'created_at']),
        ),
        ops.RunSQL([  # kept by PostgreSQL, lost by SQLite's remade table (see above)
            'CREATE INDEX IF NOT EXISTS "idx_audit_event_object__f85e0e" ON "audit_event" ("object_type", "object_id")',
        ]),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_0',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_1',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_2',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_3',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_4',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_5',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_6',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_7',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_8',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='score_bucket_9',
            field=fields.IntField(default=0),
        ),
        AddFilledField(
            model_name='Campaign',
            name='stale_score_count',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='CampaignAccount',
            name='ai_score',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='CampaignAccount',
            name='effective_score',
            field=fields.FloatField(null=True),
        ),
        AddFilledField(
            model_name='CampaignAccount',
            name='score_stale',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='CampaignAccount',
            name='via_audience',
            field=fields.BooleanField(null=True),
        ),
        ops.RunSQL(KEPT_SCORES),
        ops.AddIndex(
            model_name='CampaignAccount',
            index=Index(fields=['campaign_id', 'effective_score', 'id']),
        ),
        ops.AddIndex(
            model_name='CampaignAccount',
            index=Index(fields=['campaign_id', 'created_at', 'id']),
        ),
        ops.RemoveIndex(
            model_name='ImportJob',
            name=None,
            fields=['project_id', 'created_at'],
        ),
        ops.AddIndex(
            model_name='ImportJob',
            index=Index(fields=['project_id', 'created_at', 'id']),
        ),
        ops.AddField(
            model_name='Message',
            name='signals_read_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(move_signals),
        DropColumn(model_name='Message', name='signals'),
        ops.AddIndex(
            model_name='OutreachAttempt',
            index=Index(fields=['campaign_id', 'due_at', 'id']),
        ),
    ]
