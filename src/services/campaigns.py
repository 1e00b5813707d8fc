"""Campaigns: create, update (rename, goal switch, …), archive, delete; the campaign list of a project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import CampaignStatus, Role
from outboundql.errors import Collector, Conflict, InvalidInput, NotFound
from outboundql.goals.registry import GoalRegistry
from outboundql.services import (
    audiences,
    audit,
    campaign_scores,
    campaign_stats,
    events,
    execution,
    fields,
    idempotency,
    markets,
    normalize,
    personas,
    reply_classes,
)
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.locks import locked_campaign
from outboundql.services.slugs import unique_slug

_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "description": fields.long_text(label="Description"),
    "keywords": fields.string_list(max_items=50, max_length=100, label="Keywords"),
    "communication_language": normalize.normalize_language,
}


@dataclass(frozen=True, slots=True)
class Audience:
    """How a campaign reaches its accounts: ``manual``, ``saved_filter`` with ``saved_filter_id``, or ``market``
    (its market's landscape). ``auto_add``: the campaign fills itself as matching accounts are created, imported
    or change (`outboundql.services.audiences`)."""

    kind: str = "manual"
    saved_filter_id: int | None = None
    auto_add: bool = False


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    project_id: int
    product_id: int
    name: str
    goal: str = "sales"
    description: str = ""
    keywords: Sequence[str] = ()
    communication_language: str | None = None
    market_id: int | None = None
    status: CampaignStatus = CampaignStatus.DRAFT
    audience: Audience | None = None
    idempotency_key: str | None = None
    """A retry with the same key answers the first campaign (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateCampaign:
    """Only the fields given change. A null ``status`` leaves it alone; a null ``market_id`` or
    ``audience`` clears it (no market, a manual audience)."""

    id: int
    name: Maybe[str | None] = UNSET
    goal: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    keywords: Maybe[Sequence[str] | None] = UNSET
    communication_language: Maybe[str | None] = UNSET
    market_id: Maybe[int | None] = UNSET
    status: Maybe[CampaignStatus | None] = UNSET
    audience: Maybe[Audience | None] = UNSET
    reply_classifier: Maybe[str | None] = UNSET
    lose_on_not_interested: Maybe[bool | None] = UNSET
    add_inbound_contacts: Maybe[bool | None] = UNSET


@dataclass(frozen=True, slots=True)
class SetCampaignArchived:
    id: int
    archived: bool


@dataclass(frozen=True, slots=True)
class DeleteCampaign:
    id: int
    confirm_name: str


@dataclass(frozen=True, slots=True)
class CampaignChanged:
    campaign: models.Campaign
    replayed: bool = False
    """A create's answer to an earlier request with the same idempotency key (nothing was written)."""


@dataclass(frozen=True, slots=True)
class CampaignDeleted:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class CampaignFilter:
    """Which campaigns of a project to list. ``product_ids`` and ``market_ids``: None for any, else one
    of these (an empty tuple matches nothing: the caller was given an id that names no row)."""

    include_archived: bool = False
    statuses: Sequence[CampaignStatus] | None = None
    goals: Sequence[str] | None = None
    product_ids: Sequence[int] | None = None
    market_ids: Sequence[int] | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignOrder:
    field: Literal["name", "created_at", "updated_at"] = "created_at"
    descending: bool = True


def effective_language(campaign: models.Campaign, product: models.Product | None, user: models.User | None) -> str:
    """The language generated text uses: the campaign's, else the product's, else the user's, else English."""
    return (campaign.communication_language or (product and product.communication_language)
            or (user and user.language) or "en")


async def _check_refs(
    project_id: int, data: dict[str, Any], registry: GoalRegistry, check: Collector
) -> dict[str, Any]:
    """Resolve goal, market and audience references (all within ``project_id``) into model fields."""
    out: dict[str, Any] = {}
    if "goal" in data:
        if data["goal"] not in registry:
            check.add("goal", f"Unknown goal {data['goal']!r}; registered goals: {', '.join(registry.keys())}.")
        out["goal_key"] = data["goal"]
    if "market_id" in data:
        market_id = data["market_id"]
        if market_id is not None and not await models.Market.filter(id=market_id, project_id=project_id).exists():
            check.add("market_id", "Market not found.", code="NOT_FOUND")
        out["market_id"] = market_id
    if "audience" in data:
        out["audience_config"] = await _audience(project_id, data["audience"], check)
    elif data.get("market_id") is not None and data.get("creating"):
        out["audience_config"] = await _market_audience(project_id, data["market_id"])
    if data.get("status") is not None:
        out["status"] = CampaignStatus(data["status"])
    if "reply_classifier" in data:
        key = (data["reply_classifier"] or "").strip() or None
        if key is not None and not reply_classes.is_available(key):
            check.add("reply_classifier", f"Unknown reply classifier {key!r}; installed: "
                      f"{', '.join(c.key for c in reply_classes.available())}.", code="NOT_FOUND")
        out["reply_classifier"] = key
    if "lose_on_not_interested" in data:
        if data["lose_on_not_interested"] is None:
            check.add("lose_on_not_interested", "Say true or false (null cannot be stored).")
        out["lose_on_not_interested"] = bool(data["lose_on_not_interested"])
    if "add_inbound_contacts" in data:
        if data["add_inbound_contacts"] is None:
            check.add("add_inbound_contacts", "Say true or false (null cannot be stored).")
        out["add_inbound_contacts"] = bool(data["add_inbound_contacts"])
    return out


async def _audience(project_id: int, audience: Audience | None, check: Collector) -> dict[str, Any]:
    if audience is None or audience.kind in (None, "manual"):
        if audience is not None and audience.auto_add:
            check.add("audience.auto_add", "A manual audience cannot fill itself; choose a saved filter or the "
                      "market as the audience.")
        return {"kind": "manual"}
    if audience.kind == "market":
        return {"kind": "market", "auto_add": bool(audience.auto_add)}
    if audience.kind != "saved_filter":
        check.add("audience.kind", f"Unknown audience kind {audience.kind!r}; use manual, saved_filter or market.")
        return {"kind": "manual"}
    if audience.saved_filter_id is None:
        check.add("audience.saved_filter_id", "A saved-filter audience needs a saved filter.")
        return {"kind": "manual"}
    if not await models.SavedFilter.filter(id=audience.saved_filter_id, project_id=project_id).exists():
        check.add("audience.saved_filter_id", "Saved filter not found.", code="NOT_FOUND")
    return {"kind": "saved_filter", "filter_id": audience.saved_filter_id, "auto_add": bool(audience.auto_add)}


async def _market_audience(project_id: int, market_id: int) -> dict[str, Any]:
    """A campaign created in a market starts with the market's landscape as its audience (when it has one)."""
    market = await models.Market.filter(id=market_id, project_id=project_id).first()
    if market is None or markets.landscape(market.filters) is None:
        return {"kind": "manual"}
    return {"kind": "market", "auto_add": False}


async def _changed(campaign: models.Campaign) -> CampaignChanged:
    """After commit: tell the campaign's subscribers, and answer the row."""
    await events.publish_campaign_event(campaign.id, "campaign_updated")
    return CampaignChanged(campaign=campaign)


async def create_campaign(access: Access, goals: GoalRegistry, cmd: CreateCampaign) -> CampaignChanged:
    """Create a campaign of one product. The goal defaults to ``sales``; its persona is derived if missing.
    A retry with the request's idempotency key answers the first campaign (checked before the product,
    market and audience: one archived or deleted since does not turn the retry into an error)."""
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    once = idempotency.Once.of(cmd, "campaign.create", project_id=cmd.project_id)

    async def write() -> tuple[CampaignChanged, idempotency.Answer]:
        product = await models.Product.filter(id=cmd.product_id, project_id=cmd.project_id).first()
        if product is None:
            raise NotFound("Product", field="product_id")
        check = Collector()
        if product.archived_at is not None:
            check.add("product_id", f"Product {product.name!r} is archived; unarchive it to start a campaign.")
        cleaned = fields.clean({"name": cmd.name, "description": cmd.description, "keywords": list(cmd.keywords),
                                "communication_language": cmd.communication_language}, _CLEANERS, check)
        given_refs: dict[str, Any] = {"goal": cmd.goal, "market_id": cmd.market_id, "status": cmd.status,
                                      "creating": True}
        if cmd.audience is not None:  # none given: the market's landscape when it has one, else manual
            given_refs["audience"] = cmd.audience
        refs = await _check_refs(cmd.project_id, given_refs, goals, check)
        check.raise_if_any()
        slug = await unique_slug(models.Campaign, cleaned["name"], fallback="campaign", project_id=cmd.project_id)
        campaign = await models.Campaign.create(project_id=cmd.project_id, product=product, slug=slug,
                                                created_by=access.user, **cleaned, **refs)
        await personas.derive_persona(access, goals, personas.DerivePersona(
            product_id=product.id, goal=campaign.goal_key, language=campaign.communication_language))
        await audit.record(project_id=cmd.project_id, actor=access.user, action="campaign.create", row=campaign,
                           after=audit.snapshot(campaign))
        return CampaignChanged(campaign), {"campaign_id": campaign.id}

    async def replay(answer: idempotency.Answer) -> CampaignChanged | None:
        campaign = await models.Campaign.get_or_none(id=answer["campaign_id"], project_id=cmd.project_id)
        return None if campaign is None else CampaignChanged(campaign, replayed=True)

    result = await idempotency.create_once(once, write, replay)
    return result if result.replayed else await _changed(result.campaign)


async def update_campaign(access: Access, goals: GoalRegistry, cmd: UpdateCampaign) -> CampaignChanged:
    """Rename, switch goal (scores are kept; ``scored_accounts`` follows the new goal), move market,
    change the status hint, language, description, keywords, audience or reply classifier (null: the default)."""
    campaign = await access.get(models.Campaign, cmd.id, Role.MEMBER, field="id")
    data = given(cmd, exclude=("id",))
    check = Collector()
    # A null or blank name is reported once, by the name cleaner ("Name is required.").
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check)
    refs = await _check_refs(campaign.project_id, data, goals, check)
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
                           "has ended.", field="goal")
        released = (audiences.kind_of(campaign) != "manual" and "audience_config" in refs
                    and refs["audience_config"]["kind"] == "manual")
        for key, value in {**cleaned, **refs}.items():
            setattr(campaign, key, value)
        if goal_switched:
            await personas.derive_persona(access, goals, personas.DerivePersona(
                product_id=campaign.product_id, goal=campaign.goal_key, language=campaign.communication_language))
        await campaign.save()
        if goal_switched:  # every row's AI score, staleness and effective score follow the new goal, and the counters
            await campaign_scores.sync(campaign_ids=[campaign.id])
            await campaign.refresh_from_db(fields=list(campaign_stats.COUNTERS))
        old, new = audit.changed(before, audit.snapshot(campaign))
        if new:
            await audit.record(project_id=campaign.project_id, actor=access.user,
                               action="campaign.switch_goal" if goal_switched else "campaign.update", row=campaign,
                               before=old, after=new)
    if released:  # the audience was removed: its rows nobody worked on go, the others stay
        await audiences.release_all(campaign)
    return await _changed(campaign)


async def set_archived(access: Access, cmd: SetCampaignArchived) -> CampaignChanged:
    """Soft-hide (or show again) a campaign; every row under it is kept. Idempotent. Archiving stops the
    campaign's outreach for good (execution STOPPED, pending attempts cancelled, active rows completed)."""
    campaign = await access.get(models.Campaign, cmd.id, Role.MEMBER, field="id")
    if (campaign.archived_at is not None) != cmd.archived:
        async with in_transaction():
            campaign = await locked_campaign(campaign.id)
            if cmd.archived:
                await execution.stop_campaign(campaign)
            before = audit.snapshot(campaign, ["archived_at"])
            campaign.archived_at = datetime.now(UTC) if cmd.archived else None
            await campaign.save(update_fields=["archived_at", "updated_at"])
            await audit.record(project_id=campaign.project_id, actor=access.user,
                               action="campaign.archive" if cmd.archived else "campaign.unarchive", row=campaign,
                               before=before, after=audit.snapshot(campaign, ["archived_at"]))
    return await _changed(campaign)


async def delete_campaign(access: Access, cmd: DeleteCampaign) -> CampaignDeleted:
    """Delete a campaign and its own rows (campaign accounts, their messages, expenses) — never
    accounts or scores. The campaign's name must be typed back exactly."""
    campaign = await access.get(models.Campaign, cmd.id, Role.MEMBER, field="id")
    if (cmd.confirm_name or "").strip() != campaign.name:
        raise InvalidInput(
            f"Type the campaign's name ({campaign.name!r}) to confirm; deleting removes its campaign accounts, "
            "messages and expenses for good (archive it to keep them).",
            field="confirm_name",
        )
    campaign_id = campaign.id
    async with in_transaction():
        snapshot = {**audit.snapshot(campaign), **{k: getattr(campaign, k) for k in campaign_stats.COUNTERS}}
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.delete",
                           row=campaign, before=snapshot)
        await campaign.delete()
    await events.publish_campaign_event(campaign_id, "campaign_updated")
    return CampaignDeleted(campaign_id=campaign_id)


def project_campaigns(
    access: Access, project_id: int, flt: CampaignFilter | None = None, order: CampaignOrder | None = None
) -> QuerySet[models.Campaign]:
    """The campaigns of ``project_id`` (the viewer must be a member) matching ``flt``, sorted by
    ``order`` (default: newest first), ties broken by id in the same direction."""
    access.require(project_id)
    flt = flt or CampaignFilter()
    order = order or CampaignOrder()
    queryset = models.Campaign.filter(project_id=project_id)
    if not flt.include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    if flt.statuses:
        queryset = queryset.filter(status__in=[CampaignStatus(s) for s in flt.statuses])
    if flt.goals:
        queryset = queryset.filter(goal_key__in=list(flt.goals))
    if flt.product_ids is not None:
        queryset = queryset.filter(product_id__in=list(flt.product_ids))
    if flt.market_ids is not None:
        queryset = queryset.filter(market_id__in=list(flt.market_ids))
    if flt.search and flt.search.strip():
        queryset = queryset.filter(name__icontains=flt.search.strip())
    sign = "-" if order.descending else ""
    return queryset.order_by(f"{sign}{order.field}", f"{sign}id")
