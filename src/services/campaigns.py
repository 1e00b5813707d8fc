"""Campaigns: create, update (rename, goal switch, …), archive, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import CampaignStatus, Role
from outboundql.errors import Collector, Conflict, InvalidInput, NotFound
from outboundql.goals.registry import GoalRegistry
from outboundql.services import audit, campaign_stats, fields, normalize, personas
from outboundql.services.access import Access
from outboundql.services.slugs import unique_slug

_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "description": fields.long_text(label="Description"),
    "keywords": fields.string_list(max_items=50, max_length=100, label="Keywords"),
    "communication_language": normalize.normalize_language,
}


def effective_language(campaign: models.Campaign, product: models.Product | None, user: models.User | None) -> str:
    """The language generated text uses: the campaign's, else the product's, else the user's, else English."""
    return (campaign.communication_language or (product and product.communication_language)
            or (user and user.language) or "en")


async def _check_refs(
    project_id: int, data: dict[str, Any], registry: GoalRegistry, check: Collector
) -> dict[str, Any]:
    """Resolve goal, market and audience references (all within ``project_id``)."""
    out: dict[str, Any] = {}
    if "goal_key" in data:
        if data["goal_key"] not in registry:
            check.add("input.goal",
                      f"Unknown goal {data['goal_key']!r}; registered goals: {', '.join(registry.keys())}.")
        out["goal_key"] = data["goal_key"]
    if "market_id" in data:
        market_id = data["market_id"]
        if market_id is not None and not await models.Market.filter(id=market_id, project_id=project_id).exists():
            check.add("input.marketId", "Market not found.", code="NOT_FOUND")
        out["market_id"] = market_id
    if "audience" in data:
        out["audience_config"] = await _audience(project_id, data["audience"], check)
    if "status" in data and data["status"] is not None:
        out["status"] = CampaignStatus(data["status"])
    return out


async def _audience(project_id: int, audience: dict[str, Any] | None, check: Collector) -> dict[str, Any]:
    if not audience or audience.get("kind") in (None, "manual"):
        return {"kind": "manual"}
    if audience.get("kind") != "saved_filter":
        check.add("input.audience.kind",
                  f"Unknown audience kind {audience.get('kind')!r}; use manual or saved_filter.")
        return {"kind": "manual"}
    filter_id = audience.get("saved_filter_id")
    if filter_id is None:
        check.add("input.audience.savedFilterId", "A saved-filter audience needs savedFilterId.")
        return {"kind": "manual"}
    if not await models.SavedFilter.filter(id=filter_id, project_id=project_id).exists():
        check.add("input.audience.savedFilterId", "Saved filter not found.", code="NOT_FOUND")
    return {"kind": "saved_filter", "filter_id": filter_id}


async def create_campaign(
    access: Access, project_id: int, product_id: int, data: dict[str, Any], registry: GoalRegistry
) -> models.Campaign:
    """Create a campaign of one product. The goal defaults to ``sales``; its persona is derived if missing."""
    access.require(project_id, Role.MEMBER, field="input.projectId")
    product = await models.Product.filter(id=product_id, project_id=project_id).first()
    if product is None:
        raise NotFound("Product", field="input.productId")
    check = Collector()
    if product.archived_at is not None:
        check.add("input.productId", f"Product {product.name!r} is archived; unarchive it to start a campaign.")
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check, prefix="input.")
    refs = await _check_refs(project_id, {"goal_key": "sales", **data}, registry, check)
    check.raise_if_any()
    async with in_transaction():
        slug = await unique_slug(models.Campaign, cleaned["name"], fallback="campaign", project_id=project_id)
        campaign = await models.Campaign.create(project_id=project_id, product=product, slug=slug,
                                                created_by=access.user, **cleaned, **refs)
        await personas.derive_persona(access, registry, personas.DerivePersona(product.id, campaign.goal_key))
        await audit.record(project_id=project_id, actor=access.user, action="campaign.create", row=campaign,
                           after=audit.snapshot(campaign))
    return campaign


async def update_campaign(
    access: Access, campaign_id: int, data: dict[str, Any], registry: GoalRegistry
) -> models.Campaign:
    """Rename, switch goal (scores are kept; ``scored_accounts`` follows the new goal), move market,
    change the status hint, language, description, keywords or audience."""
    campaign = await access.get(models.Campaign, campaign_id, Role.MEMBER, field="input.id")
    check = Collector()
    # A null or blank name is reported once, by the name cleaner ("Name is required.").
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check, prefix="input.")
    refs = await _check_refs(campaign.project_id, data, registry, check)
    check.raise_if_any()
    async with in_transaction():
        campaign = await models.Campaign.filter(id=campaign.id).select_for_update().get()
        before = audit.snapshot(campaign)
        if "name" in cleaned and cleaned["name"] != campaign.name:
            campaign.slug = await unique_slug(models.Campaign, cleaned["name"], fallback="campaign",
                                              project_id=campaign.project_id, exclude_id=campaign.id)
        goal_switched = refs.get("goal_key", campaign.goal_key) != campaign.goal_key
        if goal_switched and await models.ScoringRun.filter(active_campaign_id=campaign.id).exists():
            raise Conflict("This campaign is being scored for its current goal; switch the goal once the run "
                           "has ended.", field="input.goal")
        for key, value in {**cleaned, **refs}.items():
            setattr(campaign, key, value)
        if goal_switched:
            await personas.derive_persona(access, registry,
                                          personas.DerivePersona(campaign.product_id, campaign.goal_key))
            campaign.scored_accounts = (await campaign_stats.exact(campaign))["scored_accounts"]
        await campaign.save()
        old, new = audit.changed(before, audit.snapshot(campaign))
        if new:
            await audit.record(project_id=campaign.project_id, actor=access.user,
                               action="campaign.switch_goal" if goal_switched else "campaign.update", row=campaign,
                               before=old, after=new)
    return campaign


async def set_archived(access: Access, campaign_id: int, archived: bool) -> models.Campaign:
    """Soft-hide (or show again) a campaign; every row under it is kept. Idempotent."""
    campaign = await access.get(models.Campaign, campaign_id, Role.MEMBER, field="input.id")
    if (campaign.archived_at is not None) != archived:
        async with in_transaction():
            before = audit.snapshot(campaign, ["archived_at"])
            campaign.archived_at = datetime.now(UTC) if archived else None
            await campaign.save(update_fields=["archived_at", "updated_at"])
            await audit.record(project_id=campaign.project_id, actor=access.user,
                               action="campaign.archive" if archived else "campaign.unarchive", row=campaign,
                               before=before, after=audit.snapshot(campaign, ["archived_at"]))
    return campaign


async def delete_campaign(access: Access, campaign_id: int, confirm_name: str) -> models.Campaign:
    """Delete a campaign and its own rows (campaign accounts, their messages, expenses) — never
    accounts or scores. The campaign's name must be typed back exactly."""
    campaign = await access.get(models.Campaign, campaign_id, Role.MEMBER, field="input.id")
    if (confirm_name or "").strip() != campaign.name:
        raise InvalidInput(
            f"Type the campaign's name ({campaign.name!r}) to confirm; deleting removes its campaign accounts, "
            "messages and expenses for good (archive it to keep them).",
            field="input.confirmName",
        )
    async with in_transaction():
        snapshot = {**audit.snapshot(campaign), **{k: getattr(campaign, k) for k in campaign_stats.COUNTERS}}
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.delete",
                           row=campaign, before=snapshot)
        await campaign.delete()
    return campaign


def filter_campaigns(queryset: Any, flt: dict[str, Any]) -> Any:
    if not flt.get("include_archived"):
        queryset = queryset.filter(archived_at__isnull=True)
    if flt.get("statuses"):
        queryset = queryset.filter(status__in=[CampaignStatus(s) for s in flt["statuses"]])
    if flt.get("goals"):
        queryset = queryset.filter(goal_key__in=flt["goals"])
    if flt.get("product_id") is not None:
        queryset = queryset.filter(product_id=flt["product_id"])
    if flt.get("market_id") is not None:
        queryset = queryset.filter(market_id=flt["market_id"])
    if flt.get("search"):
        queryset = queryset.filter(name__icontains=flt["search"].strip())
    return queryset
