"""Products: create, update, archive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector
from outboundql.services import audit, fields, normalize
from outboundql.services.access import Access
from outboundql.services.slugs import unique_slug


def _url_list(value: Any) -> list[str]:
    urls = [normalize.normalize_url(u) for u in (value or []) if str(u).strip()]
    if len(urls) > 3:
        raise ValueError("Give at most 3 example URLs (2–3 calibrate scoring best).")
    return [u for u in urls if u]


_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "description": fields.long_text(label="Description"),
    "website_url": normalize.normalize_url,
    "communication_language": normalize.normalize_language,
    "example_good_urls": _url_list,
    "example_bad_urls": _url_list,
}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    check = Collector()
    cleaned = fields.clean(data, _CLEANERS, check, prefix="input.")
    check.raise_if_any()
    return cleaned


async def create_product(access: Access, project_id: int, data: dict[str, Any]) -> models.Product:
    access.require(project_id, Role.MEMBER, field="input.projectId")
    cleaned = _clean(data)
    async with in_transaction():
        slug = await unique_slug(models.Product, cleaned["name"], fallback="product", project_id=project_id)
        product = await models.Product.create(project_id=project_id, slug=slug, created_by=access.user, **cleaned)
        await audit.record(
            project_id=project_id, actor=access.user, action="product.create", row=product,
            after=audit.snapshot(product),
        )
    return product


async def update_product(access: Access, product_id: Any, data: dict[str, Any]) -> models.Product:
    """Change fields; renaming re-derives the slug (collisions suffixed)."""
    product = await access.get(models.Product, product_id, Role.MEMBER, field="input.id")
    cleaned = _clean(data)
    async with in_transaction(), audit.tracked(product, project_id=product.project_id, actor=access.user,
                                               action="product.update"):
        if "name" in cleaned and cleaned["name"] != product.name:
            product.slug = await unique_slug(
                models.Product, cleaned["name"], fallback="product", project_id=product.project_id,
                exclude_id=product.id,
            )
        for key, value in cleaned.items():
            setattr(product, key, value)
        await product.save()
    return product


async def set_archived(access: Access, product_id: Any, archived: bool) -> models.Product:
    """Archive (hide from default lists, keep everything) or unarchive. Idempotent."""
    product = await access.get(models.Product, product_id, Role.MEMBER, field="input.id")
    if (product.archived_at is not None) != archived:
        async with in_transaction():
            before = audit.snapshot(product, ["archived_at"])
            product.archived_at = datetime.now(UTC) if archived else None
            await product.save(update_fields=["archived_at", "updated_at"])
            await audit.record(
                project_id=product.project_id, actor=access.user,
                action="product.archive" if archived else "product.unarchive", row=product,
                before=before, after=audit.snapshot(product, ["archived_at"]),
            )
    return product
