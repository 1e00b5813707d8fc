"""Tortoise models, one module per aggregate. Use as ``from outboundql import models``."""

from outboundql.models.accounts import Account, AccountStatusChange, Contact
from outboundql.models.audit import AuditEvent
from outboundql.models.auth import ApiToken, User
from outboundql.models.billing import ApiUsage, Expense
from outboundql.models.campaigns import Campaign, CampaignAccount, CampaignAccountTag
from outboundql.models.execution import OutreachAttempt
from outboundql.models.idempotency import IdempotencyKey
from outboundql.models.imports import ImportJob
from outboundql.models.outreach import Message
from outboundql.models.products import Persona, Product
from outboundql.models.projects import Market, Membership, Project, SavedFilter
from outboundql.models.scoring import FitScore, ScoringRun, ScoringRunItem

__all__ = [
    "Account",
    "AccountStatusChange",
    "ApiToken",
    "ApiUsage",
    "AuditEvent",
    "Campaign",
    "CampaignAccount",
    "CampaignAccountTag",
    "Contact",
    "Expense",
    "FitScore",
    "IdempotencyKey",
    "ImportJob",
    "Market",
    "Membership",
    "Message",
    "OutreachAttempt",
    "Persona",
    "Product",
    "Project",
    "SavedFilter",
    "ScoringRun",
    "ScoringRunItem",
    "User",
]
