"""Who did what to which row."""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class AuditEvent(Model):
    """One change: the actor, the action, the row, and its fields before and after."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE)
    actor = fields.ForeignKeyField("models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL)
    action = fields.CharField(max_length=64)  # e.g. "account.update"
    object_type = fields.CharField(max_length=32)
    object_id = fields.IntField()
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_event"
        indexes = [
            Index(fields=["project_id", "created_at"]),
            Index(fields=["object_type", "object_id"]),
        ]
