"""Products: create, update, archive; the product lists of a project."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector
from outboundql.services import audit, fields, idempotency, normalize, slugs
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.slugs import unique_slug


@dataclass(frozen=True, slots=True)
class CreateProduct:
    project_id: int
    name: str
    description: str = ""
    website_url: str | None = None
    communication_language: str | None = None
    example_good_urls: Sequence[str] = ()
    example_bad_urls: Sequence[str] = ()
    idempotency_key: str | None = None
    """A retry with the same key answers the first product (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateProduct:
    """Only the fields given change; renaming re-derives the slug."""

    id: int
    name: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    website_url: Maybe[str | None] = UNSET
    communication_language: Maybe[str | None] = UNSET
    example_good_urls: Maybe[Sequence[str] | None] = UNSET
    example_bad_urls: Maybe[Sequence[str] | None] = UNSET


@dataclass(frozen=True, slots=True)
class SetProductArchived:
    id: int
    archived: bool


@dataclass(frozen=True, slots=True)
class ProductChanged:
    product: models.Product
    replayed: bool = False
    """A create's answer to an earlier request with the same idempotency key (nothing was written)."""


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
    cleaned = fields.clean(data, _CLEANERS, check)
    check.raise_if_any()
    return cleaned


async def create_product(access: Access, cmd: CreateProduct) -> ProductChanged:
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    once = idempotency.Once.of(cmd, "product.create", project_id=cmd.project_id)
    cleaned = _clean(given(cmd, exclude=("project_id", "idempotency_key")))

    async def write() -> tuple[ProductChanged, idempotency.Answer]:
        slug = await unique_slug(models.Product, cleaned["name"], fallback="product", project_id=cmd.project_id)
        product = await models.Product.create(project_id=cmd.project_id, slug=slug, created_by=access.user,
                                              **cleaned)
        await audit.record(
            project_id=cmd.project_id, actor=access.user, action="product.create", row=product,
            after=audit.snapshot(product),
        )
        return ProductChanged(product), {"product_id": product.id}

    async def replay(answer: idempotency.Answer) -> ProductChanged | None:
        product = await models.Product.get_or_none(id=answer["product_id"], project_id=cmd.project_id)
        return None if product is None else ProductChanged(product, replayed=True)

    return await idempotency.create_once(once, write, replay)


async def update_product(access: Access, cmd: UpdateProduct) -> ProductChanged:
    """Change the fields given; renaming re-derives the slug (collisions suffixed)."""
    product = await access.get(models.Product, cmd.id, Role.MEMBER, field="id")
    cleaned = _clean(given(cmd, exclude=("id",)))
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
    return ProductChanged(product=product)


async def set_archived(access: Access, cmd: SetProductArchived) -> ProductChanged:
    """Archive (hide from default lists, keep everything) or unarchive. Idempotent."""
    product = await access.get(models.Product, cmd.id, Role.MEMBER, field="id")
    if (product.archived_at is not None) != cmd.archived:
        async with in_transaction():
            before = audit.snapshot(product, ["archived_at"])
            product.archived_at = datetime.now(UTC) if cmd.archived else None
            await product.save(update_fields=["archived_at", "updated_at"])
            await audit.record(
                project_id=product.project_id, actor=access.user,
                action="product.archive" if cmd.archived else "product.unarchive", row=product,
                before=before, after=audit.snapshot(product, ["archived_at"]),
            )
    return ProductChanged(product=product)


async def project_products(project_id: int, include_archived: bool = False) -> list[models.Product]:
    """The products of a project, oldest first; archived ones only when asked."""
    query = models.Product.filter(project_id=project_id)
    if not include_archived:
        query = query.filter(archived_at__isnull=True)
    return list(await query.order_by("id"))


async def product_by_slug(project_id: int, slug: str) -> models.Product | None:
    """One product of a project by its slug (archived ones too), or None."""
    if not slugs.could_be(slug):
        return None
    return await models.Product.filter(project_id=project_id, slug=slug).first()
