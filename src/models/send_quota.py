"""Sending caps: how many messages a project sent per counter (a sender, a recipient domain) on one UTC day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from outboundql.models.projects import Project


class SendQuota(Model):
    """One counter of a project for one UTC day (``sender:ana@x.example``, ``domain:example.org``). Taken one slot
    at a time by a conditional upsert (`outboundql.services.send_quota`), so every worker counts in the same row;
    rows of past days are left behind (a few per counter and day) and may be deleted at any time."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    counter = fields.CharField(max_length=320)  #: ``sender:<address>`` or ``domain:<domain>``, lowercase
    utc_day = fields.CharField(max_length=10)  #: the UTC day, ``YYYY-MM-DD`` (text: one value on both databases)
    taken = fields.IntField(default=0)  #: slots taken that day

    class Meta:
        table = "send_quota"
        unique_together = (("project", "counter", "utc_day"),)
