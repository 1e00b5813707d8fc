"""Bring your own scores: fit scores computed outside outboundql, attached to accounts for a campaign.

An external score is stored like any other: a `FitScore` of the campaign's (product, goal) with scorer
``external``, so it takes part in the effective score, bands, the histogram, review and the low-fit
removal exactly as a computed one does.

* **Scale.** Values come on a 0–1 or a 0–10 scale. The caller names it (``scale`` 1 or 10) or leaves it
  out, and then it is inferred from the whole batch: when every value given (overall scores and
  components) is at most 1, the batch is on 0–1; otherwise on 0–10. A value below 0 or above the scale
  is an error (nothing is written).
* **Normalised.** The overall score is stored on 0.0–10.0 with one decimal, like computed scores;
  without an overall score it is the mean of the components (normalised first).
* **Components** (``quality_score``, ``relevance_score``, ``guest_post_likelihood``…) are kept as the
  score's justifications: ``{kind: "component", criterion: <name>, text, value}`` with ``value`` on
  0–10 (one decimal) and ``text`` saying what was given.
* **Scoring runs.** An external score counts as current: a scoring run does not rescore its account,
  and a batch already under way does not overwrite it, unless the run was started with ``force`` (then
  the computed score replaces it). A persona change does not make it due for rescoring either: it was
  not made from the persona. Attaching a score again replaces the previous one (external or computed).
* **Counters.** An account that had no score for the (product, goal) moves ``scoredAccounts`` of every
  campaign of that product and goal it is in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector, InvalidInput
from outboundql.services import audit, campaign_scores, events, fields, scoring_runs
from outboundql.services.access import Access
from outboundql.services.campaign_account_queries import band_of
from outboundql.services.sql import chunks, column, is_postgres, placeholder

SCORER = scoring_runs.EXTERNAL_SCORER
COMPONENT = "component"  # the kind of a component's justification
SCALES = (1.0, 10.0)
MAX_COMPONENTS = 20
MAX_COMPONENT_NAME = 64

_ROWS_PER_STATEMENT = 500  # 12 columns: 6,000 parameters, under SQLite's and PostgreSQL's limits
_COLUMNS = ("project_id", "product_id", "account_id", "goal_key", "score", "band", "justifications",
            "persona_version", "scorer", "model", "created_at", "updated_at")
_UPDATED = ("score", "band", "justifications", "persona_version", "scorer", "model", "updated_at")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


@dataclass(frozen=True, slots=True)
class ExternalScore:
    """One account's score as given: on the batch's scale (0–1 or 0–10)."""

    score: float | None  # overall, in the input scale; None → mean of components
    components: dict[str, float] = field(default_factory=dict)  # name → value, in the input scale


@dataclass(frozen=True, slots=True)
class AttachedScores:
    """What `attach` wrote: the scale used, each account's stored score, and the campaigns to tell."""

    scale: float
    scores: dict[int, float]  # account id → stored score (0.0–10.0, one decimal)
    newly_scored: int  # accounts that had no score for the (product, goal) before
    campaign_ids: tuple[int, ...]  # campaigns whose rows changed (publish `publish` after the commit)


class InvalidScores(ValueError):
    """Some scores cannot be attached; ``problems`` maps each account id to what is wrong (nothing written)."""

    def __init__(self, problems: dict[int, list[str]]) -> None:
        self.problems = problems
        first = next(iter(problems.items()))
        super().__init__(f"{len(problems)} score(s) cannot be attached; account {first[0]}: {first[1][0]}")


# --- values ------------------------------------------------------------------------------------------------


def parse_value(text: str) -> float:
    """A score as a spreadsheet writes it: ``"0.8"``, ``"8,5"`` (decimal comma), ``"85%"`` (0.85).
    ValueError with a message for people otherwise."""
    raw = str(text).strip()
    percent = raw.endswith("%")
    number = raw[:-1].strip() if percent else raw
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"{raw!r} is not a score: write a number such as 0.8, 8.5, 8,5 or 85%.")
    value = float(number.replace(",", "."))
    return value / 100 if percent else value


def infer_scale(scores: Iterable[ExternalScore]) -> float:
    """1.0 when every value of the batch (overall and components) is at most 1, else 10.0."""
    values = [v for s in scores for v in (s.score, *s.components.values()) if v is not None]
    return 1.0 if all(v <= 1 for v in values) else 10.0


def check_scale(scale: float | None) -> float | None:
    """``scale`` when it is one of `SCALES` (or None: inferred); ValueError otherwise."""
    if scale is None or float(scale) in SCALES:
        return None if scale is None else float(scale)
    raise ValueError(f"The scale must be 1 (scores from 0 to 1) or 10 (from 0 to 10), not {scale:g}; leave it "
                     "out to infer it from the values.")


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a score: on ``part`` (``score``, the whole ``item``, or a component's ``name`` or
    ``value``), of the component ``component`` when it is about one."""

    part: Literal["item", "score", "name", "value"]
    message: str
    component: str | None = None


def problems(score: ExternalScore, scale: float) -> list[Problem]:
    """What is wrong with one score on ``scale`` (nothing: it can be attached)."""
    found: list[Problem] = []
    if score.score is None and not score.components:
        found.append(Problem("item", "Give a score or at least one component (the score is then their mean)."))
    if len(score.components) > MAX_COMPONENTS:
        found.append(Problem("item", f"At most {MAX_COMPONENTS} components per score."))
    if score.score is not None:
        message = _out_of_scale(score.score, scale, "The score")
        if message:
            found.append(Problem("score", message))
    for name, value in score.components.items():
        if not name.strip() or len(name.strip()) > MAX_COMPONENT_NAME:
            found.append(Problem("name", f"A component needs a name of 1 to {MAX_COMPONENT_NAME} characters.", name))
            continue
        try:
            fields.storable(name, "The component's name")
        except ValueError as exc:
            found.append(Problem("name", str(exc), name))
            continue
        message = _out_of_scale(value, scale, f"The component {name.strip()!r}")
        if message:
            found.append(Problem("value", message, name))
    return found


def _out_of_scale(value: float, scale: float, label: str) -> str | None:
    if not math.isfinite(value):
        return f"{label} must be a number."
    if not 0 <= value <= scale:
        hint = (" (a batch with a value above 1 is read on 0–10)." if scale == 10
                else "; give scale 10 for scores from 0 to 10.")
        return f"{label} {value:g} is outside the scale 0–{scale:g}{hint}"
    return None


def _normalised(value: float, scale: float) -> float:
    return round(value * 10.0 / scale, 1)


def justifications(score: ExternalScore, scale: float) -> list[dict[str, Any]]:
    """The components as typed justifications, in the order given."""
    return [{"kind": COMPONENT, "criterion": name.strip(), "value": _normalised(value, scale),
             "text": f"{name.strip()}: {value:g} on a 0–{scale:g} scale."}
            for name, value in score.components.items()]


def overall(score: ExternalScore, scale: float) -> float:
    """The stored score: the overall one normalised, else the mean of the normalised components."""
    if score.score is not None:
        return _normalised(score.score, scale)
    values = [v * 10.0 / scale for v in score.components.values()]
    return round(sum(values) / len(values), 1)


# --- writing -----------------------------------------------------------------------------------------------


async def attach(campaign: models.Campaign, scores: Mapping[int, ExternalScore],
                 scale: float | None = None) -> AttachedScores:
    """Store ``scores`` (account id → score) as the external FitScores of ``campaign``'s product and goal,
    replacing any score those accounts had, and move the scores kept on their campaign rows and the counters.
    Runs in the caller's transaction when there is one (else in its own); a few statements per 500 scores.

    The accounts must be of the campaign's project (the caller checks). `InvalidScores` (nothing written)
    when a value is out of the scale; ValueError for a scale other than 1 or 10. Publish `publish` after
    the commit."""
    scale = check_scale(scale) or infer_scale(scores.values())
    bad: dict[int, list[str]] = {}
    for account_id, score in scores.items():
        found = problems(score, scale)
        if found:
            bad[account_id] = [p.message for p in found]
    if bad:
        raise InvalidScores(bad)
    stored = {int(account_id): overall(score, scale) for account_id, score in scores.items()}
    if not stored:
        return AttachedScores(scale, {}, 0, ())
    ids = sorted(stored)
    persona = await models.Persona.get_or_none(product_id=campaign.product_id, goal_key=campaign.goal_key)
    async with in_transaction() as conn:
        # The product's campaigns locked in id order, as a scoring batch locks them: one writer at a time
        # decides which scores are new, so the counters stay exact.
        await models.Campaign.filter(product_id=campaign.product_id).order_by("id").select_for_update().only("id")
        existing: set[int] = set()
        for part in chunks(ids):
            existing.update(await column(models.FitScore.filter(
                product_id=campaign.product_id, goal_key=campaign.goal_key, account_id__in=list(part),
            ).values_list("account_id", flat=True)))
        await _upsert(conn, campaign, persona.version if persona else 0,
                      [(i, stored[i], justifications(scores[i], scale)) for i in ids])
        new_ids = [i for i in ids if i not in existing]
        # The rows of these accounts in every campaign of the product: their kept scores and the counters.
        touched = set(await campaign_scores.sync(account_ids=ids, product_id=campaign.product_id))
        for part in chunks(ids):
            touched.update(await column(models.CampaignAccount.filter(
                account_id__in=list(part), campaign__product_id=campaign.product_id,
                campaign__goal_key=campaign.goal_key,
            ).distinct().values_list("campaign_id", flat=True)))
    return AttachedScores(scale, stored, len(new_ids), tuple(sorted(touched)))


async def _upsert(conn: Any, campaign: models.Campaign, persona_version: int,
                  rows: Sequence[tuple[int, float, list[dict[str, Any]]]]) -> None:
    """INSERT … ON CONFLICT (product_id, goal_key, account_id) DO UPDATE: one statement per 500 scores."""
    model = models.FitScore
    fields_map = model._meta.fields_map
    stamp = fields_map["created_at"].to_db_value(datetime.now(UTC), model)
    width = len(_COLUMNS)
    cast = "::jsonb" if is_postgres(conn) else ""
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED)
    for part in chunks(rows, _ROWS_PER_STATEMENT):
        groups = ", ".join(
            "(" + ", ".join(placeholder(conn, k * width + c + 1) + (cast if _COLUMNS[c] == "justifications" else "")
                            for c in range(width)) + ")"
            for k in range(len(part)))
        values: list[Any] = []
        for account_id, score, reasons in part:
            values += [campaign.project_id, campaign.product_id, account_id, campaign.goal_key, score,
                       fields_map["band"].to_db_value(band_of(score), model),
                       fields_map["justifications"].to_db_value(reasons, model),
                       persona_version, SCORER, None, stamp, stamp]
        await conn.execute_query(
            f"INSERT INTO fit_score ({', '.join(_COLUMNS)}) VALUES {groups} "
            f"ON CONFLICT (product_id, goal_key, account_id) DO UPDATE SET {updates}", values)


async def publish(attached: AttachedScores) -> None:
    """Tell the pages of the campaigns whose rows changed (after the commit)."""
    for campaign_id in attached.campaign_ids:
        await events.publish_campaign_event(campaign_id, "accounts_changed")


# --- the use case ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One account's score in `SetExternalScores`: components as (name, value) pairs, in the input scale."""

    account_id: int | None  # None: an id that names no account (NOT_FOUND on its position)
    score: float | None = None
    components: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class SetExternalScores:
    """Attach externally computed scores to accounts for a campaign's product and goal. All or nothing."""

    campaign_id: int
    scores: tuple[ScoreItem, ...]
    scale: float | None = None  # 1 or 10; None: inferred from the batch (every value ≤ 1 → 1)


@dataclass(frozen=True, slots=True)
class ExternalScoresSet:
    """The campaign after the write, the scale used, and the stored FitScores in input order."""

    campaign: models.Campaign
    scale: float
    scores: tuple[models.FitScore, ...]
    newly_scored: int


async def set_external_scores(access: Access, cmd: SetExternalScores, *, max_items: int) -> ExternalScoresSet:
    """Validate every item (each problem on its path: ``scores[i].account_id``, ``scores[i].score``,
    ``scores[i].components[j].value``…), then attach them all in one transaction, audited; nothing is
    written when any item is refused (the scale belongs to the whole batch). Member role."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    if not cmd.scores:
        raise InvalidInput("Give at least one score.", field="scores")
    if len(cmd.scores) > max_items:
        raise InvalidInput(f"At most {max_items} scores per call (got {len(cmd.scores)}); split the list.",
                           field="scores")
    check = Collector()
    try:
        given_scale = check_scale(cmd.scale)
    except ValueError as exc:
        check.add("scale", str(exc))
        given_scale = None
    ids = {item.account_id for item in cmd.scores if item.account_id is not None}
    known: set[int] = set()
    for part in chunks(sorted(ids)):
        known.update(await column(models.Account.filter(project_id=campaign.project_id, id__in=list(part))
                                  .values_list("id", flat=True)))
    parsed: dict[int, ExternalScore] = {}
    positions: dict[int, int] = {}
    for i, item in enumerate(cmd.scores):
        prefix = f"scores[{i}]."
        if item.account_id is None or item.account_id not in known:
            check.add(prefix + "account_id", "Account not found.", code="NOT_FOUND")
            continue
        if item.account_id in positions:
            check.add(prefix + "account_id", f"This account's score is already given at position "
                      f"{positions[item.account_id]}; give each account once.")
            continue
        if len(item.components) > MAX_COMPONENTS:  # one issue, not one per component
            check.add(prefix + "components", f"At most {MAX_COMPONENTS} components per score (got "
                      f"{len(item.components)}).")
            continue
        named: set[str] = set()
        for j, (name, _) in enumerate(item.components):
            if name.strip() in named:
                check.add(f"{prefix}components[{j}].name", f"The component {name.strip()!r} is given twice.")
            named.add(name.strip())
        positions[item.account_id] = i
        parsed[item.account_id] = ExternalScore(item.score, {name: value for name, value in item.components})
    scale = given_scale or infer_scale(parsed.values())
    for account_id, score in parsed.items():
        i = positions[account_id]
        names = [name for name, _ in cmd.scores[i].components]
        for problem in problems(score, scale):
            if problem.component is not None:
                where = f"scores[{i}].components[{names.index(problem.component)}].{problem.part}"
            else:
                where = f"scores[{i}]" + (".score" if problem.part == "score" else "")
            check.add(where, problem.message)
    check.raise_if_any()
    async with in_transaction():
        attached = await attach(campaign, parsed, scale)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.set_external_scores",
                           row=campaign, after={"scale": scale, "scored": len(attached.scores),
                                                "newly_scored": attached.newly_scored,
                                                "account_ids": sorted(attached.scores)})
    await publish(attached)
    rows = {row.account_id: row for part in chunks(sorted(parsed)) for row in await models.FitScore.filter(
        product_id=campaign.product_id, goal_key=campaign.goal_key, account_id__in=list(part))}
    campaign = await models.Campaign.get(id=campaign.id)
    return ExternalScoresSet(campaign, scale, tuple(rows[item.account_id] for item in cmd.scores
                                                    if item.account_id is not None), attached.newly_scored)
