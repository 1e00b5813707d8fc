"""Tortoise models, one module per aggregate. Use as ``from outboundql import models``."""

from outboundql.models.accounts import Account, AccountStatusChange, Contact
from outboundql.models.audit import AuditEvent
from outboundql.models.auth import ApiToken, User
from outboundql.models.billing import ApiUsage, ApiUsageShare, Expense
from outboundql.models.campaigns import AudienceSync, Campaign, CampaignAccount, CampaignAccountTag
from outboundql.models.channels import ChannelConfig
from outboundql.models.execution import OutreachAttempt
from outboundql.models.idempotency import IdempotencyKey
from outboundql.models.imports import ImportFile, ImportJob
from outboundql.models.invitations import Invitation
from outboundql.models.outreach import Message
from outboundql.models.products import Persona, Product
from outboundql.models.projects import AccountsRevision, Market, Membership, Project, ProjectCounts, SavedFilter
from outboundql.models.scoring import FitScore, ScoringRun, ScoringRunItem
from outboundql.models.send_quota import SendQuota
from outboundql.models.signals import Signal
from outboundql.models.suppressions import Suppression
from outboundql.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "AccountStatusChange",
    "AccountsRevision",
    "ApiToken",
    "ApiUsage",
    "ApiUsageShare",
    "AudienceSync",
    "AuditEvent",
    "Campaign",
    "CampaignAccount",
    "CampaignAccountTag",
    "ChannelConfig",
    "Contact",
    "Expense",
    "FitScore",
    "IdempotencyKey",
    "ImportFile",
    "ImportJob",
    "Invitation",
    "Market",
    "Membership",
    "Message",
    "OutreachAttempt",
    "Persona",
    "Product",
    "Project",
    "ProjectCounts",
    "SavedFilter",
    "ScoringRun",
    "ScoringRunItem",
    "SendQuota",
    "Signal",
    "Suppression",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
