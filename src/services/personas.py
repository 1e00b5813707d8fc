"""Target personas per (product, goal): upsert (version bump), derivation by a goal, approval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import PersonaStatus, Role
from outboundql.errors import Collector, InvalidInput
from outboundql.goals import api as goals_api
from outboundql.goals.registry import GoalRegistry
from outboundql.services import audit, fields, normalize
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given

PERSONA_FIELDS = (
    "name", "summary", "industries", "job_titles", "pain_points", "company_size_min",
    "company_size_max", "countries", "keywords", "exclusions",
)


@dataclass(frozen=True, slots=True)
class UpsertPersona:
    """The persona fields to set; the ones left `UNSET` keep their value (a new persona takes the derived one)."""

    product_id: int
    goal: str = "sales"
    name: Maybe[str | None] = UNSET
    summary: Maybe[str | None] = UNSET
    industries: Maybe[Sequence[str] | None] = UNSET
    job_titles: Maybe[Sequence[str] | None] = UNSET
    pain_points: Maybe[Sequence[str] | None] = UNSET
    company_size_min: Maybe[int | None] = UNSET
    company_size_max: Maybe[int | None] = UNSET
    countries: Maybe[Sequence[str] | None] = UNSET
    keywords: Maybe[Sequence[str] | None] = UNSET
    exclusions: Maybe[Sequence[str] | None] = UNSET


@dataclass(frozen=True, slots=True)
class DerivePersona:
    product_id: int
    goal: str
    language: str | None = None
    """What the derived persona's prose is written in (a campaign's language); None: the product's, else English."""


@dataclass(frozen=True, slots=True)
class ApprovePersona:
    id: int
    version: int | None = None
    """The version the caller reviewed; refused (CONFLICT) if the persona changed since."""


@dataclass(frozen=True, slots=True)
class PersonaChanged:
    persona: models.Persona


@dataclass(frozen=True, slots=True)
class PersonaDerived:
    persona: models.Persona
    created: bool
    """False when the goal already had a persona (returned as it is)."""


def _countries(value: Any) -> list[str]:
    return [c for c in (normalize.normalize_country(v) for v in (value or [])) if c]


_CLEANERS = {
    "name": fields.text(200, label="Name"),
    "summary": fields.long_text(label="Summary"),
    "industries": fields.string_list(label="Industries"),
    "job_titles": fields.string_list(label="Job titles"),
    "pain_points": fields.string_list(max_length=500, label="Pain points"),
    "company_size_min": fields.int_range(0, 10_000_000, label="Minimum company size"),
    "company_size_max": fields.int_range(0, 10_000_000, label="Maximum company size"),
    "countries": _countries,
    "keywords": fields.string_list(label="Keywords"),
    "exclusions": fields.string_list(label="Exclusions"),
}


def _goal(registry: GoalRegistry, goal_key: str, field: str) -> goals_api.Goal:
    goal = registry.get(goal_key or "")
    if goal is None:
        raise InvalidInput(f"Unknown goal {goal_key!r}; registered goals: {', '.join(registry.keys())}.", field=field)
    return goal


def persona_snapshot(row: models.Persona) -> goals_api.Persona:
    return goals_api.Persona().replace(**{name: getattr(row, name) for name in PERSONA_FIELDS})


def persona_language(product: models.Product, language: str | None = None) -> str:
    """The language a derived persona is written in: the one asked for (a campaign's), else the product's, else
    English."""
    return language or product.communication_language or "en"


async def derived_fields(product: models.Product, goal: goals_api.Goal, language: str | None = None) -> dict[str, Any]:
    """The persona a goal derives, by its ICP tweak, from the product's sales persona (or, when
    there is none, from the product itself), its prose in ``language`` (see `persona_language`)."""
    base_row = await models.Persona.filter(product_id=product.id, goal_key="sales").first()
    base = persona_snapshot(base_row) if base_row else goals_api.Persona(name=product.name, summary=product.description)
    info = goals_api.Product(name=product.name, description=product.description, website_url=product.website_url,
                             language=persona_language(product, language))
    try:
        tweaked = goal.tweak_icp(base, info)
    except Exception as exc:  # a plugin bug: say whose, never crash the request
        raise InvalidInput(f"The {goal.key!r} goal plugin failed to derive a persona: {exc}",
                           field="goal") from exc
    if not isinstance(tweaked, goals_api.Persona):
        raise InvalidInput(
            f"The {goal.key!r} goal plugin's tweak_icp returned {type(tweaked).__name__}, not a Persona.",
            field="goal",
        )
    check = Collector()
    cleaned = fields.clean({name: getattr(tweaked, name) for name in PERSONA_FIELDS}, _CLEANERS, check,
                           prefix="derived.")
    check.raise_if_any()
    return {k: ("" if v is None and not k.startswith("company_size") else v) for k, v in cleaned.items()}


async def derive_persona(access: Access, registry: GoalRegistry, cmd: DerivePersona) -> PersonaDerived:
    """The persona of (product, goal), derived as a draft in ``cmd.language`` if the goal has none yet."""
    product = await access.get(models.Product, cmd.product_id, Role.MEMBER, field="product_id")
    goal = _goal(registry, cmd.goal, "goal")
    language = _language(cmd.language)
    async with in_transaction():
        existing = await models.Persona.filter(product_id=product.id, goal_key=goal.key).select_for_update().first()
        if existing is not None:
            return PersonaDerived(persona=existing, created=False)
        persona = await models.Persona.create(project_id=product.project_id, product=product, goal_key=goal.key,
                                              **await derived_fields(product, goal, language))
        await audit.record(project_id=product.project_id, actor=access.user, action="persona.derive", row=persona,
                           after=audit.snapshot(persona))
    return PersonaDerived(persona=persona, created=True)


async def upsert_persona(access: Access, registry: GoalRegistry, cmd: UpsertPersona) -> PersonaChanged:
    """Create or edit the persona of (product, goal). A new persona starts from the one the goal derives;
    every edit bumps ``version`` and makes it a draft again."""
    product = await access.get(models.Product, cmd.product_id, Role.MEMBER, field="product_id")
    check = Collector()
    goal = registry.get(cmd.goal or "")
    if goal is None:
        check.add("goal", f"Unknown goal {cmd.goal!r}; registered goals: {', '.join(registry.keys())}.")
    cleaned = fields.clean(given(cmd, exclude=("product_id", "goal")), _CLEANERS, check)
    check.raise_if_any()
    assert goal is not None
    async with in_transaction():
        persona = await models.Persona.filter(product_id=product.id, goal_key=goal.key).select_for_update().first()
        if persona is None:
            initial = {**await derived_fields(product, goal), **_defaults(cleaned)}
            _check_sizes(initial.get("company_size_min"), initial.get("company_size_max"))
            persona = await models.Persona.create(
                project_id=product.project_id, product=product, goal_key=goal.key, **initial
            )
            await audit.record(
                project_id=product.project_id, actor=access.user, action="persona.create", row=persona,
                after=audit.snapshot(persona),
            )
            return PersonaChanged(persona=persona)
        before = audit.snapshot(persona)
        for key, value in cleaned.items():
            setattr(persona, key, value if value is not None or key.startswith("company_size") else "")
        _check_sizes(persona.company_size_min, persona.company_size_max)
        old, new = audit.changed(before, audit.snapshot(persona))
        if new:
            persona.version += 1
            persona.status = PersonaStatus.DRAFT
            persona.approved_at = None
            persona.approved_by = None
            await persona.save()
            await audit.record(
                project_id=product.project_id, actor=access.user, action="persona.update", row=persona,
                before=old, after=new,
            )
    return PersonaChanged(persona=persona)


def _language(value: str | None) -> str | None:
    try:
        return normalize.normalize_language(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="language") from None


def _defaults(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cleaned.items() if v is not None}


def _check_sizes(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        check = Collector()
        check.add("company_size_min", "Minimum company size must not exceed the maximum.")
        check.raise_if_any()


async def approve_persona(access: Access, cmd: ApprovePersona) -> PersonaChanged:
    """Approve a persona. With a ``version``, refuse if it was edited since that version was read."""
    persona = await access.get(models.Persona, cmd.id, Role.MEMBER, field="id")
    if cmd.version is not None and cmd.version != persona.version:
        check = Collector()
        check.add(
            "version",
            f"The persona changed since you read it (now version {persona.version}); review it and approve again.",
            code="CONFLICT",
        )
        check.raise_if_any()
    if persona.status is not PersonaStatus.APPROVED:
        async with in_transaction():
            persona.status = PersonaStatus.APPROVED
            persona.approved_at = datetime.now(UTC)
            persona.approved_by = access.user
            await persona.save(update_fields=["status", "approved_at", "approved_by_id", "updated_at"])
            await audit.record(
                project_id=persona.project_id, actor=access.user, action="persona.approve", row=persona,
                after={"status": "approved", "version": persona.version},
            )
    return PersonaChanged(persona=persona)
