"""Batch loaders, one set per request. Each returns values aligned with the keys:
``None`` for a missing row, ``[]`` for no children. Callers pass ids of rows they already
may see (e.g. the contacts of a visible account), so loaders do no tenancy filtering."""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from outboundql import models
from outboundql.services import signals
from outboundql.services.api_usage import usage_by_account
from outboundql.services.audiences import recent_syncs
from outboundql.services.execution_queries import next_attempts, tallies
from outboundql.services.expenses import UsageSummary, costs_by_campaign
from outboundql.services.inbox import attention_by_campaign_account, class_counts
from outboundql.services.markets import metrics_by_market
from outboundql.services.messages import said_at
from outboundql.services.saved_filters import match_counts

M = TypeVar("M", bound=Model)
K = TypeVar("K")
V = TypeVar("V")


def then(loader: DataLoader[K, V], key: K, convert: Callable[[V], Any]) -> Any:
    """``convert`` of what ``loader`` holds for ``key``: at once when it is already loaded (primed, or loaded for
    the page), so a resolver returning it stays synchronous and graphql-core completes it without scheduling a
    task; else an awaitable of it, loaded with the rest of the batch. ``convert`` may itself return either."""
    future = loader.cache_map.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return convert(future.result())

    async def later() -> Any:
        result = convert(await loader.load(key))
        return await result if inspect.isawaitable(result) else result

    return later()


def _by_id(model: type[M]) -> Callable[[list[int]], Coroutine[Any, Any, list[M | None]]]:
    async def load(ids: list[int]) -> list[M | None]:
        rows = {row.pk: row for row in await model.filter(id__in=ids)}
        return [rows.get(i) for i in ids]

    return load


def _children(model: type[M], key: str, order: str = "id") -> Callable[[list[int]], Coroutine[Any, Any, list[list[M]]]]:
    async def load(ids: list[int]) -> list[list[M]]:
        grouped: dict[int, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{key}__in": ids}).order_by(order, "id"):
            grouped[getattr(row, key)].append(row)
        return [grouped[i] for i in ids]

    return load


async def load_scores_by_product_account(keys: list[tuple[int, int]]) -> list[list[models.FitScore]]:
    """Every fit score of each (product, account), newest first: one query for the whole page."""
    grouped: dict[tuple[int, int], list[models.FitScore]] = defaultdict(list)
    rows = await models.FitScore.filter(
        product_id__in=list({p for p, _ in keys}), account_id__in=list({a for _, a in keys})
    ).order_by("-updated_at", "-id")
    for row in rows:
        grouped[(row.product_id, row.account_id)].append(row)
    return [grouped[key] for key in keys]


async def load_market_metrics_by_id(ids: list[int]) -> list[Any]:
    """Metrics of each market, summed from its campaigns: one aggregate query for the whole list."""
    metrics = await metrics_by_market(ids)
    return [metrics[i] for i in ids]


async def load_saved_filter_match_count(filters: list[models.SavedFilter]) -> list[int]:
    """Accounts each saved filter matches (`match_counts`: remembered per accounts revision, else one account query
    per project)."""
    counts = await match_counts(filters)
    return [counts[f.id] for f in filters]


async def load_messages_by_campaign_account_id(ids: list[int]) -> list[list[models.Message]]:
    """Each thread in the order things were said (sent/received time, a draft's creation): one query."""
    grouped: dict[int, list[models.Message]] = defaultdict(list)
    for row in await models.Message.filter(campaign_account_id__in=ids):
        grouped[row.campaign_account_id].append(row)
    return [sorted(grouped[i], key=said_at) for i in ids]


async def load_attention_by_campaign_account_id(ids: list[int]) -> list[Any]:
    """The inbox facts of each campaign account (last inbound, unsent drafts): one grouped query."""
    facts = await attention_by_campaign_account(ids)
    return [facts[i] for i in ids]


async def load_costs_by_campaign(campaigns: list[models.Campaign]) -> list[Any]:
    """What each campaign's outcomes cost: four grouped queries for the whole list."""
    costs = await costs_by_campaign(campaigns)
    return [costs[c.id] for c in campaigns]


async def load_api_usage_by_account_id(ids: list[int]) -> list[UsageSummary]:
    """Each account's paid API usage by model, from its shares of the calls: one grouped statement for the page."""
    found = await usage_by_account(ids)
    return [found.get(i, UsageSummary()) for i in ids]


async def load_reply_class_counts_by_campaign_id(ids: list[int]) -> list[Any]:
    """Each campaign's threads counted by class: one grouped query for the page."""
    found = await class_counts(ids)
    return [found[i] for i in ids]


async def load_signals_by_message_id(ids: list[int]) -> list[list[models.Signal]]:
    """Each message's signals: one query for the page of messages."""
    found = await signals.by_message(ids)
    return [found.get(i, []) for i in ids]


async def load_signal_counts_by_campaign_id(ids: list[int]) -> list[list[signals.KindCount]]:
    """Each campaign's confirmed signals by kind: one grouped query for the page."""
    found = await signals.confirmed_counts(campaign_ids=ids)
    return [found.get(i, []) for i in ids]


async def load_signal_counts_by_market_id(ids: list[int]) -> list[list[signals.KindCount]]:
    """Each market's confirmed signals by kind (of its campaigns): one grouped query for the page."""
    found = await signals.confirmed_counts(market_ids=ids)
    return [found.get(i, []) for i in ids]


async def load_execution_tally_by_campaign(campaigns: list[models.Campaign]) -> list[Any]:
    """Each campaign's rows by shown execution status and by goal outcome: one grouped query for the page."""
    found = await tallies(campaigns)
    return [found[c.id] for c in campaigns]


async def load_next_attempt_by_campaign_account_id(ids: list[int]) -> list[models.OutreachAttempt | None]:
    """The earliest pending attempt of each campaign account, or None: one query for the page."""
    found = await next_attempts(ids)
    return [found.get(i) for i in ids]


async def load_audience_syncs_by_campaign_limit(keys: list[tuple[int, int]]) -> list[list[models.AudienceSync]]:
    """The most recent syncs of each (campaign, how many), newest first: one statement for the page."""
    found = await recent_syncs([c for c, _ in keys], max((n for _, n in keys), default=0))
    return [found.get(c, [])[:n] for c, n in keys]


def _loader(fn: Callable[..., Any]) -> Any:
    return field(default_factory=lambda: DataLoader(load_fn=fn))


# RUF009 is about shared mutable defaults; `_loader` returns a default_factory, so each
# request gets fresh DataLoaders.
@dataclass(slots=True)
class Loaders:
    account_by_id: DataLoader[int, models.Account | None] = _loader(_by_id(models.Account))
    product_by_id: DataLoader[int, models.Product | None] = _loader(_by_id(models.Product))
    project_by_id: DataLoader[int, models.Project | None] = _loader(_by_id(models.Project))
    user_by_id: DataLoader[int, models.User | None] = _loader(_by_id(models.User))
    contacts_by_account_id: DataLoader[int, list[models.Contact]] = _loader(
        _children(models.Contact, "account_id")
    )
    status_changes_by_account_id: DataLoader[int, list[models.AccountStatusChange]] = _loader(
        _children(models.AccountStatusChange, "account_id", "-id")
    )
    campaign_by_id: DataLoader[int, models.Campaign | None] = _loader(_by_id(models.Campaign))
    contact_by_id: DataLoader[int, models.Contact | None] = _loader(_by_id(models.Contact))
    market_by_id: DataLoader[int, models.Market | None] = _loader(_by_id(models.Market))
    scores_by_product_account: DataLoader[tuple[int, int], list[models.FitScore]] = _loader(
        load_scores_by_product_account
    )
    tags_by_campaign_account_id: DataLoader[int, list[models.CampaignAccountTag]] = _loader(
        _children(models.CampaignAccountTag, "campaign_account_id", "tag")
    )
    personas_by_product_id: DataLoader[int, list[models.Persona]] = _loader(
        _children(models.Persona, "product_id", "goal_key")
    )
    market_metrics_by_id: DataLoader[int, Any] = _loader(load_market_metrics_by_id)
    campaigns_by_market_id: DataLoader[int, list[models.Campaign]] = _loader(
        _children(models.Campaign, "market_id", "-id")
    )
    saved_filter_match_count: DataLoader[models.SavedFilter, int] = field(
        default_factory=lambda: DataLoader(load_fn=load_saved_filter_match_count, cache_key_fn=lambda f: f.id)
    )
    campaign_account_by_id: DataLoader[int, models.CampaignAccount | None] = _loader(_by_id(models.CampaignAccount))
    messages_by_campaign_account_id: DataLoader[int, list[models.Message]] = _loader(
        load_messages_by_campaign_account_id
    )
    scoring_runs_by_campaign_id: DataLoader[int, list[models.ScoringRun]] = _loader(
        _children(models.ScoringRun, "campaign_id", "-id")
    )
    expenses_by_campaign_id: DataLoader[int, list[models.Expense]] = _loader(
        _children(models.Expense, "campaign_id", "-incurred_on")
    )
    costs_by_campaign: DataLoader[models.Campaign, Any] = field(
        default_factory=lambda: DataLoader(load_fn=load_costs_by_campaign, cache_key_fn=lambda c: c.id)
    )
    api_usage_by_account_id: DataLoader[int, UsageSummary] = _loader(load_api_usage_by_account_id)
    attention_by_campaign_account_id: DataLoader[int, Any] = _loader(load_attention_by_campaign_account_id)
    message_by_id: DataLoader[int, models.Message | None] = _loader(_by_id(models.Message))
    attempts_by_campaign_account_id: DataLoader[int, list[models.OutreachAttempt]] = _loader(
        _children(models.OutreachAttempt, "campaign_account_id", "-id")
    )
    next_attempt_by_campaign_account_id: DataLoader[int, models.OutreachAttempt | None] = _loader(
        load_next_attempt_by_campaign_account_id
    )
    reply_class_counts_by_campaign_id: DataLoader[int, Any] = _loader(load_reply_class_counts_by_campaign_id)
    signals_by_message_id: DataLoader[int, list[models.Signal]] = _loader(load_signals_by_message_id)
    signal_counts_by_campaign_id: DataLoader[int, list[signals.KindCount]] = _loader(
        load_signal_counts_by_campaign_id)
    signal_counts_by_market_id: DataLoader[int, list[signals.KindCount]] = _loader(load_signal_counts_by_market_id)
    audience_syncs_by_campaign_limit: DataLoader[tuple[int, int], list[models.AudienceSync]] = _loader(
        load_audience_syncs_by_campaign_limit)
    execution_tally_by_campaign: DataLoader[models.Campaign, Any] = field(
        default_factory=lambda: DataLoader(load_fn=load_execution_tally_by_campaign, cache_key_fn=lambda c: c.id)
    )
