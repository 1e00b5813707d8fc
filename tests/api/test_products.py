"""Products: slugs, validation, rename, archive."""

from __future__ import annotations

from typing import Any

import pytest

from outboundql import models
from tests.helpers import data_of, global_id

PRODUCT_FIELDS = "id name slug description websiteUrl communicationLanguage exampleGoodUrls exampleBadUrls archivedAt"

CREATE = f"""
mutation($input: CreateProductInput!) {{
  createProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} errors {{ code field message }} }}
}}
"""

UPDATE = f"""
mutation($input: UpdateProductInput!) {{
  updateProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} errors {{ code field message }} }}
}}
"""

ARCHIVE = """
mutation($id: ID!) { archiveProduct(input: {id: $id}) { product { id archivedAt } errors { code field } } }
"""

UNARCHIVE = """
mutation($id: ID!) { unarchiveProduct(input: {id: $id}) { product { id archivedAt } errors { code field } } }
"""

LIST = """
query($slug: String!, $all: Boolean!) {
  project(slug: $slug) { products(includeArchived: $all) { slug } one: product(slug: "widget") { name } }
}
"""


@pytest.fixture
def create(gql: Any, owner: Any, project: models.Project) -> Any:
    async def run(project_id: int | None = None, **fields: Any) -> dict[str, Any]:
        variables = {"input": {"projectId": global_id("Project", project_id or project.id), **fields}}
        return data_of(await gql(CREATE, variables, as_=owner))["createProduct"]

    return run


@pytest.fixture
def update(gql: Any, owner: Any) -> Any:
    async def run(product_id: str, **fields: Any) -> dict[str, Any]:
        return data_of(await gql(UPDATE, {"input": {"id": product_id, **fields}}, as_=owner))["updateProduct"]

    return run


async def test_create_product(create: Any, project: models.Project) -> None:
    p = await create(name="Widget Pro", description="Sells widgets", websiteUrl="widget.example.com",
                     communicationLanguage="ES", exampleGoodUrls=["good1.com", "https://good2.com"],
                     exampleBadUrls=["bad.com"])
    assert p["errors"] == []
    prod = p["product"]
    assert prod["slug"] == "widget-pro"
    assert prod["websiteUrl"] == "https://widget.example.com"
    assert prod["communicationLanguage"] == "es"
    assert prod["exampleGoodUrls"] == ["https://good1.com", "https://good2.com"]
    assert prod["exampleBadUrls"] == ["https://bad.com"]
    assert prod["archivedAt"] is None
    row = await models.Product.get(project_id=project.id)
    assert row.created_by_id is not None
    assert await models.AuditEvent.filter(action="product.create").count() == 1


async def test_slug_collisions_get_numbered_suffixes(create: Any) -> None:
    slugs = [(await create(name=name))["product"]["slug"] for name in ("Widget", "widget", "WIDGET!", "Widget")]
    assert slugs == ["widget", "widget-2", "widget-3", "widget-4"]


async def test_slug_prefix_is_not_a_collision(create: Any) -> None:
    assert (await create(name="Widget Pro"))["product"]["slug"] == "widget-pro"
    assert (await create(name="Widget"))["product"]["slug"] == "widget"


async def test_same_slug_in_another_project(create: Any, owner: Any, make_project: Any) -> None:
    other = await make_project(owner, "Other")
    assert (await create(name="Widget"))["product"]["slug"] == "widget"
    assert (await create(other.id, name="Widget"))["product"]["slug"] == "widget"


async def test_slug_of_a_name_without_letters(create: Any) -> None:
    assert (await create(name="???"))["product"]["slug"] == "product"


async def test_create_validation(create: Any) -> None:
    p = await create(name=" ", websiteUrl="ftp://example.com", communicationLanguage="english",
                     exampleGoodUrls=["a.com", "b.com", "c.com", "d.com"], exampleBadUrls=["not a url"])
    assert p["product"] is None
    assert {e["field"] for e in p["errors"]} == {
        "input.name", "input.websiteUrl", "input.communicationLanguage", "input.exampleGoodUrls",
        "input.exampleBadUrls",
    }
    assert all(e["code"] == "INVALID" for e in p["errors"])
    assert await models.Product.all().count() == 0


async def test_update_rename_rederives_slug(create: Any, update: Any) -> None:
    await create(name="Gadget")
    widget = (await create(name="Widget"))["product"]
    renamed = await update(widget["id"], name="Gadget")
    assert renamed["errors"] == []
    assert renamed["product"]["slug"] == "gadget-2"
    # renaming to a name whose slug it already has keeps it
    again = await update(widget["id"], name="gadget")
    assert again["product"]["slug"] == "gadget-2"
    other = await update(widget["id"], name="Doohickey", description="new")
    assert other["product"]["slug"] == "doohickey"
    assert other["product"]["description"] == "new"
    assert await models.AuditEvent.filter(action="product.update").count() == 3


async def test_update_without_rename_keeps_slug(create: Any, update: Any) -> None:
    widget = (await create(name="Widget"))["product"]
    p = await update(widget["id"], description="About widgets", exampleGoodUrls=["x.com", "y.com"])
    assert p["product"]["slug"] == "widget"
    assert p["product"]["exampleGoodUrls"] == ["https://x.com", "https://y.com"]


async def test_update_validation(create: Any, update: Any) -> None:
    widget = (await create(name="Widget"))["product"]
    p = await update(widget["id"], name="", exampleBadUrls=["1.com", "2.com", "3.com", "4.com"])
    assert {e["field"] for e in p["errors"]} == {"input.name", "input.exampleBadUrls"}
    assert (await models.Product.get()).name == "Widget"


async def test_update_unknown_product(update: Any) -> None:
    p = await update(global_id("Product", 777), name="X")
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("NOT_FOUND", "input.id")]


async def test_archive_and_unarchive_are_idempotent(create: Any, gql: Any, owner: Any,
                                                    project: models.Project) -> None:
    widget = (await create(name="Widget"))["product"]
    await create(name="Gadget")

    first = data_of(await gql(ARCHIVE, {"id": widget["id"]}, as_=owner))["archiveProduct"]
    assert first["errors"] == [] and first["product"]["archivedAt"] is not None
    second = data_of(await gql(ARCHIVE, {"id": widget["id"]}, as_=owner))["archiveProduct"]
    assert second["product"]["archivedAt"] == first["product"]["archivedAt"]
    assert await models.AuditEvent.filter(action="product.archive").count() == 1

    listed = data_of(await gql(LIST, {"slug": project.slug, "all": False}, as_=owner))["project"]
    assert [p["slug"] for p in listed["products"]] == ["gadget"]
    assert listed["one"] == {"name": "Widget"}  # still reachable by slug
    listed = data_of(await gql(LIST, {"slug": project.slug, "all": True}, as_=owner))["project"]
    assert [p["slug"] for p in listed["products"]] == ["widget", "gadget"]

    for _ in range(2):
        back = data_of(await gql(UNARCHIVE, {"id": widget["id"]}, as_=owner))["unarchiveProduct"]
        assert back["errors"] == [] and back["product"]["archivedAt"] is None
    assert await models.AuditEvent.filter(action="product.unarchive").count() == 1
    listed = data_of(await gql(LIST, {"slug": project.slug, "all": False}, as_=owner))["project"]
    assert [p["slug"] for p in listed["products"]] == ["widget", "gadget"]
