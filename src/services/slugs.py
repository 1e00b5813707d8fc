"""Slugs unique within a scope: ``acme``, then ``acme-2``, ``acme-3``…"""

from __future__ import annotations

from typing import Any

from slugify import slugify
from tortoise.models import Model

from outboundql.services.sql import column

MAX_SLUG = 100


def could_be(slug: str) -> bool:
    """Whether a row could have ``slug``: a longer one names nothing (and the ORM refuses to compare with it)."""
    return len(slug) <= MAX_SLUG


def base_slug(name: str, fallback: str) -> str:
    return slugify(name, max_length=MAX_SLUG - 6, word_boundary=True) or fallback


async def unique_slug(
    model: type[Model], name: str, *, fallback: str, exclude_id: int | None = None, **scope: Any
) -> str:
    """The first free slug for ``name`` among rows of ``model`` matching ``scope``.

    Call inside the transaction that writes the row: a project-scoped slug locks the project row
    first, so concurrent writers of one name get ``-2``, ``-3``… instead of a unique-key violation."""
    if "project_id" in scope:
        from outboundql import models

        await models.Project.filter(id=scope["project_id"]).select_for_update().first()
    base = base_slug(name, fallback)
    qs = model.filter(slug__startswith=base, **scope)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    taken = set(await column(qs.values_list("slug", flat=True)))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
