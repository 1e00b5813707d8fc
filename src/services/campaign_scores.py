"""The scores kept on each campaign row, and the campaign counters that follow them.

A campaign row carries ``ai_score`` (the account's fit score for the campaign's product and goal),
``score_stale`` (the product's only scores of the account are under other goals) and
``effective_score`` (the override when set, else ``ai_score``), so the review list filters and sorts
on an index instead of looking scores up row by row. The campaign counts its rows by them:
``scored_accounts``, ``stale_score_count`` and ``score_bucket_0`` … ``score_bucket_9`` (the
histogram of ``ai_score``).

Every writer of a fit score, an override or a campaign row calls `sync` in its own transaction, with
the campaigns it touches locked (`outboundql.services.locks.locked_campaign`, or the product's
campaigns in id order as scoring does): `sync` reads what the rows hold and what the scores say,
rewrites the rows that differ and moves the counters by the difference. `recount` calls it too, so a
row that drifted is repaired the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise import connections

from outboundql.services import campaign_stats
from outboundql.services.sql import chunks, int_list

BUCKETS = tuple(f"score_bucket_{i}" for i in range(10))
"""The histogram counters: [0, 1) … [8, 9), then [9, 10]."""


def bucket_of(score: float) -> str:
    return BUCKETS[min(9, max(0, int(score)))]


def row_deltas(ai_score: float | None, stale: bool, sign: int = 1) -> dict[str, int]:
    """What one row with these scores adds to its campaign's counters (``sign=-1``: removing it)."""
    deltas: dict[str, int] = defaultdict(int)
    if ai_score is not None:
        deltas["scored_accounts"] += sign
        deltas[bucket_of(float(ai_score))] += sign
    if stale:
        deltas["stale_score_count"] += sign
    return deltas


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    campaign_id: int
    override: float | None
    stored: tuple[float | None, bool, float | None]  # ai_score, score_stale, effective_score as kept
    actual: tuple[float | None, bool, float | None]  # as the fit scores and the override say


_TRUTH = (
    "SELECT ca.id AS id, ca.campaign_id AS campaign_id, ca.override_score AS override_score, "
    "ca.ai_score AS ai_score, ca.score_stale AS score_stale, ca.effective_score AS effective_score, "
    "cur.score AS actual_ai, "
    "CASE WHEN cur.id IS NULL AND EXISTS (SELECT 1 FROM fit_score o WHERE o.product_id = c.product_id "
    "AND o.account_id = ca.account_id AND o.goal_key <> c.goal_key) THEN 1 ELSE 0 END AS actual_stale "
    "FROM campaign_account ca JOIN campaign c ON c.id = ca.campaign_id "
    "LEFT JOIN fit_score cur ON cur.product_id = c.product_id AND cur.goal_key = c.goal_key "
    "AND cur.account_id = ca.account_id WHERE "
)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _literal(value: float | None) -> str:
    return "NULL" if value is None else repr(float(value))


async def _rows(conn: Any, where: str, params: list[Any]) -> list[_Row]:
    found = []
    for r in await conn.execute_query_dict(_TRUTH + where, params):
        override, ai = _float(r["override_score"]), _float(r["actual_ai"])
        found.append(_Row(
            id=int(r["id"]), campaign_id=int(r["campaign_id"]), override=override,
            stored=(_float(r["ai_score"]), bool(r["score_stale"]), _float(r["effective_score"])),
            actual=(ai, bool(r["actual_stale"]), override if override is not None else ai),
        ))
    return found


async def sync(*, account_ids: Iterable[int] | None = None, campaign_ids: Iterable[int] | None = None,
               product_id: int | None = None, move_counters: bool = True) -> dict[int, int]:
    """Bring the kept scores of the campaign rows in scope in line with the fit scores and overrides, and move
    the counters of their campaigns by the difference (unless ``move_counters`` is False: `recount` sets them
    from the rows afterwards). The scope is the rows of ``account_ids`` (in any campaign, or only in those of
    ``product_id`` and/or ``campaign_ids``), or every row of ``campaign_ids``. Call it inside the writer's
    transaction with those campaigns locked. Returns how many rows changed, by campaign (only those that did)."""
    if account_ids is None and campaign_ids is None:
        raise ValueError("sync needs account_ids or campaign_ids")
    conn = connections.get("default")  # the transaction's, inside one
    scope = f" AND c.product_id = {int(product_id)}" if product_id is not None else ""
    if campaign_ids is not None:
        scope += f" AND ca.campaign_id IN ({int_list(sorted(set(campaign_ids)))})"
    wheres = ([f"ca.account_id IN ({int_list(part)}){scope}" for part in chunks(sorted(set(account_ids)))]
              if account_ids is not None else [f"1 = 1{scope}"])
    changed: list[_Row] = []
    for where in wheres:
        changed += [r for r in await _rows(conn, where, []) if r.stored != r.actual]
    if not changed:
        return {}
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in changed:
        for sign, (ai, stale, _) in ((-1, row.stored), (1, row.actual)):
            for name, delta in row_deltas(ai, stale, sign).items():
                deltas[row.campaign_id][name] += delta
    for part in chunks(sorted(changed, key=lambda r: r.id)):
        # One statement per chunk; the values are floats and booleans (inlined as SQL literals, nothing else).
        ai_case = " ".join(f"WHEN {r.id} THEN {_literal(r.actual[0])}" for r in part)
        stale_case = " ".join(f"WHEN {r.id} THEN {'TRUE' if r.actual[1] else 'FALSE'}" for r in part)
        kept_ai = f"CAST(CASE id {ai_case} END AS DOUBLE PRECISION)"
        await conn.execute_query(
            f"UPDATE campaign_account SET ai_score = {kept_ai}, score_stale = CASE id {stale_case} END, "
            f"effective_score = COALESCE(override_score, {kept_ai}) WHERE id IN ({int_list(r.id for r in part)})")
    if move_counters:
        for campaign_id in sorted(deltas):
            await campaign_stats.bump(campaign_id, **deltas[campaign_id])
    counts: dict[int, int] = defaultdict(int)
    for row in changed:
        counts[row.campaign_id] += 1
    return dict(counts)


_BUCKET = "CASE " + " ".join(f"WHEN cur.score >= {b} THEN {b}" for b in range(9, 0, -1)) + " ELSE 0 END"


async def exact(conn: Any, campaign_id: int) -> dict[str, int]:
    """``scored_accounts``, ``stale_score_count`` and the buckets as the fit scores say they are (one grouped
    query)."""
    counts = dict.fromkeys(("scored_accounts", "stale_score_count", *BUCKETS), 0)
    truth = _TRUTH.replace("cur.score AS actual_ai", f"CASE WHEN cur.id IS NULL THEN -1 ELSE {_BUCKET} END AS bucket")
    for row in await conn.execute_query_dict(
            f"SELECT t.bucket AS bucket, t.actual_stale AS stale, COUNT(*) AS n FROM ({truth} "
            f"ca.campaign_id = {int(campaign_id)}) t GROUP BY t.bucket, t.actual_stale"):
        n, bucket = int(row["n"]), int(row["bucket"])
        if bucket >= 0:
            counts["scored_accounts"] += n
            counts[BUCKETS[bucket]] += n
        if int(row["stale"]):
            counts["stale_score_count"] += n
    return counts


SCORE_COUNTERS = frozenset({"scored_accounts", "stale_score_count", *BUCKETS})
"""The counters `sync` keeps: a writer removing rows takes them from the rows' kept scores (`removal_deltas`)."""


async def removal_deltas(campaign_id: int, row_ids: Sequence[int]) -> dict[str, int]:
    """What removing these rows of the campaign takes from the score counters, from their kept scores (call it
    before deleting them, in the same transaction)."""
    conn = connections.get("default")
    deltas: dict[str, int] = defaultdict(int)
    for part in chunks(sorted(set(row_ids))):
        for row in await conn.execute_query_dict(
                f"SELECT ai_score, score_stale FROM campaign_account WHERE campaign_id = {int(campaign_id)} "
                f"AND id IN ({int_list(part)})"):
            for name, delta in row_deltas(_float(row["ai_score"]), bool(row["score_stale"]), -1).items():
                deltas[name] += delta
    return dict(deltas)
