"""Target personas per (product, goal): upsert (version bump) and approval."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from outboundql import models
from outboundql.errors import Collector
from outboundql.models.enums import PersonaStatus, Role
from outboundql.services import audit, fields, normalize
from outboundql.services.access import Access
from tortoise.transactions import in_transaction

_GOAL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

PERSONA_FIELDS = (
    "name", "summary", "industries", "job_titles", "pain_points", "company_size_min",
    "company_size_max", "countries", "keywords", "exclusions",
)


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


async def upsert_persona(access: Access, product_id: Any, goal_key: str, data: dict[str, Any]) -> models.Persona:
    """Create or edit the persona of (product, goal). Every edit bumps ``version`` and makes it a draft again."""
    product = await access.get(models.Product, product_id, Role.MEMBER, field="input.productId")
    check = Collector()
    if not _GOAL_KEY.match(goal_key or ""):
        check.add("input.goal", f"Goal key {goal_key!r} must be lowercase snake_case, e.g. 'sales'.")
    cleaned = fields.clean(data, _CLEANERS, check, prefix="input.")
    check.raise_if_any()
    async with in_transaction():
        persona = await models.Persona.filter(product_id=product.id, goal_key=goal_key).select_for_update().first()
        if persona is None:
            _check_sizes(cleaned.get("company_size_min"), cleaned.get("company_size_max"))
            persona = await models.Persona.create(
                project_id=product.project_id, product=product, goal_key=goal_key, **_defaults(cleaned)
            )
            await audit.record(
                project_id=product.project_id, actor=access.user, action="persona.create", row=persona,
                after=audit.snapshot(persona),
            )
            return persona
        before = audit.snapshot(persona)
        for key, value in cleaned.items():
            setattr(persona, key, value if value is not None or key.startswith("company_size") else "")
        _check_sizes(persona.company_size_min, persona.company_size_max)
        old, new = audit.changed(before, audit.snapshot(persona))
        if new:
            persona.version += 1
            persona.status = PersonaStatus.DRAFT
            persona.approved_at = None
            persona.approved_by = None  # type: ignore[assignment]
            await persona.save()
            await audit.record(
                project_id=product.project_id, actor=access.user, action="persona.update", row=persona,
                before=old, after=new,
            )
    return persona


def _defaults(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cleaned.items() if v is not None}


def _check_sizes(low: int | None, high: int | None) -> None:
    if low is not None and high is not None and low > high:
        check = Collector()
        check.add("input.companySizeMin", "Minimum company size must not exceed the maximum.")
        check.raise_if_any()


async def approve_persona(access: Access, persona_id: Any, expected_version: int | None = None) -> models.Persona:
    """Approve a persona. With ``expected_version``, refuse if it was edited since it was read."""
    persona = await access.get(models.Persona, persona_id, Role.MEMBER, field="input.id")
    if expected_version is not None and expected_version != persona.version:
        check = Collector()
        check.add(
            "input.version",
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
    return persona
