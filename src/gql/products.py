"""Products and their personas (one per goal)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import ProjectNode, lazy_class, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import PersonaStatus
from outboundql.gql.errors import UserError
from outboundql.gql.goals import GoalType, goal_type
from outboundql.gql.idempotency import idempotency_key, replayed
from outboundql.services import personas as personas_service
from outboundql.services import products as products_service

if TYPE_CHECKING:
    from outboundql.gql.users import User

UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]


@strawberry.type(description="What a project sells or promotes. Its description anchors personas and scoring.")
class Product(ProjectNode):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="Unique in the project; a taken slug gets -2, -3….")
    description: str
    website_url: str | None
    communication_language: str | None = strawberry.field(
        description="BCP 47 language tag (e.g. es, pt-BR), the default for campaigns.")
    example_good_urls: list[str] = strawberry.field(description="2–3 sites of ideal accounts (calibration).")
    example_bad_urls: list[str] = strawberry.field(description="2–3 sites of poor-fit accounts (calibration).")
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Product]
    node_model = models.Product

    @strawberry.field(description="Who created the product (null once their account is gone).")
    async def created_by(self, info: Info) -> UserRef | None:
        if self.row.created_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.created_by_id)
        return lazy_class(UserRef).from_model(row) if row else None

    @strawberry.field(description="The personas of this product, one per goal, by goal key.")
    async def personas(self, info: Info) -> list[Persona]:
        return [Persona.from_model(p) for p in await info.context.loaders.personas_by_product_id.load(self.row.id)]

    @strawberry.field(description="The persona for one goal, or null when the goal has none yet.")
    async def persona(self, info: Info, goal: str = "sales") -> Persona | None:
        rows = await info.context.loaders.personas_by_product_id.load(self.row.id)
        return next((Persona.from_model(p) for p in rows if p.goal_key == goal), None)


@strawberry.type(description="The target persona (ICP) of one (product, goal). `version` goes up on every edit.")
class Persona(ProjectNode):
    id: relay.NodeID[int]
    goal_key: str = strawberry.field(description="Key of the goal plugin this persona is for, e.g. `sales`.")
    status: PersonaStatus
    version: int
    name: str
    summary: str
    industries: list[str]
    job_titles: list[str]
    pain_points: list[str]
    company_size_min: int | None
    company_size_max: int | None
    countries: list[str] = strawberry.field(description="ISO 3166-1 alpha-2 codes.")
    keywords: list[str]
    exclusions: list[str]
    approved_at: datetime | None
    updated_at: datetime
    row: strawberry.Private[models.Persona]
    node_model = models.Persona

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.from_model(await info.context.loaders.product_by_id.load(self.row.product_id))

    @strawberry.field(description="The goal this persona is for.")
    def goal(self, info: Info) -> GoalType:
        return goal_type(info, self.row.goal_key)


@strawberry.input
class CreateProductInput:
    project_id: relay.GlobalID
    name: str
    description: str = ""
    website_url: str | None = None
    communication_language: str | None = None
    example_good_urls: list[str] = strawberry.field(default_factory=list)
    example_bad_urls: list[str] = strawberry.field(default_factory=list)
    idempotency_key: str | None = idempotency_key("the first product")

    def to_command(self) -> products_service.CreateProduct:
        return products_service.CreateProduct(
            project_id=pk_of(self.project_id, "Project", "project_id"), name=self.name, description=self.description,
            website_url=self.website_url, communication_language=self.communication_language,
            example_good_urls=self.example_good_urls, example_bad_urls=self.example_bad_urls,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input(description="Only the fields given change.")
class UpdateProductInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    website_url: str | None = strawberry.UNSET
    communication_language: str | None = strawberry.UNSET
    example_good_urls: list[str] | None = strawberry.UNSET
    example_bad_urls: list[str] | None = strawberry.UNSET

    def to_command(self) -> products_service.UpdateProduct:
        return products_service.UpdateProduct(
            id=pk_of(self.id, "Product", "id"), name=maybe(self.name), description=maybe(self.description),
            website_url=maybe(self.website_url), communication_language=maybe(self.communication_language),
            example_good_urls=maybe(self.example_good_urls), example_bad_urls=maybe(self.example_bad_urls),
        )


@strawberry.input
class ProductIdInput:
    id: relay.GlobalID


@strawberry.type
class ProductPayload:
    product: Product | None = None
    replayed: bool = replayed("createProduct")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields of the persona to set; omitted fields keep their value.")
class UpsertPersonaInput:
    product_id: relay.GlobalID
    goal: str = "sales"
    name: str | None = strawberry.UNSET
    summary: str | None = strawberry.UNSET
    industries: list[str] | None = strawberry.UNSET
    job_titles: list[str] | None = strawberry.UNSET
    pain_points: list[str] | None = strawberry.UNSET
    company_size_min: int | None = strawberry.UNSET
    company_size_max: int | None = strawberry.UNSET
    countries: list[str] | None = strawberry.UNSET
    keywords: list[str] | None = strawberry.UNSET
    exclusions: list[str] | None = strawberry.UNSET

    def to_command(self) -> personas_service.UpsertPersona:
        return personas_service.UpsertPersona(
            product_id=pk_of(self.product_id, "Product", "product_id"), goal=self.goal, name=maybe(self.name),
            summary=maybe(self.summary), industries=maybe(self.industries), job_titles=maybe(self.job_titles),
            pain_points=maybe(self.pain_points), company_size_min=maybe(self.company_size_min),
            company_size_max=maybe(self.company_size_max), countries=maybe(self.countries),
            keywords=maybe(self.keywords), exclusions=maybe(self.exclusions),
        )


@strawberry.input
class DerivePersonaInput:
    product_id: relay.GlobalID
    goal: str
    language: str | None = strawberry.field(
        default=None, description="BCP 47 tag (e.g. `es`, `pt-BR`) the derived persona's name, summary and pain points "
        "are written in; the product's communication language when omitted, else English. Matching terms "
        "(industries, job titles, keywords) are not translated.")

    def to_command(self) -> personas_service.DerivePersona:
        return personas_service.DerivePersona(product_id=pk_of(self.product_id, "Product", "product_id"),
                                              goal=self.goal, language=self.language)


@strawberry.type
class DerivePersonaPayload:
    persona: Persona | None = None
    created: bool = strawberry.field(default=False, description="False when the goal already had a persona.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ApprovePersonaInput:
    id: relay.GlobalID
    version: int | None = strawberry.field(
        default=None, description="The version you reviewed; refused (CONFLICT) if the persona changed since."
    )

    def to_command(self) -> personas_service.ApprovePersona:
        return personas_service.ApprovePersona(id=pk_of(self.id, "Persona", "id"), version=self.version)


@strawberry.type
class PersonaPayload:
    persona: Persona | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductMutations:
    @mutation("Create a product; the slug comes from the name.")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        result = await products_service.create_product(info.context.access, input.to_command())
        return ProductPayload(product=Product.from_model(result.product), replayed=result.replayed)

    @mutation("Change a product's fields; renaming re-derives the slug.")
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        result = await products_service.update_product(info.context.access, input.to_command())
        return ProductPayload(product=Product.from_model(result.product))

    @mutation("Hide a product from default lists; everything is kept.")
    async def archive_product(self, info: Info, input: ProductIdInput) -> ProductPayload:
        cmd = products_service.SetProductArchived(id=pk_of(input.id, "Product", "id"), archived=True)
        result = await products_service.set_archived(info.context.access, cmd)
        return ProductPayload(product=Product.from_model(result.product))

    @mutation("Show an archived product again.")
    async def unarchive_product(self, info: Info, input: ProductIdInput) -> ProductPayload:
        cmd = products_service.SetProductArchived(id=pk_of(input.id, "Product", "id"), archived=False)
        result = await products_service.set_archived(info.context.access, cmd)
        return ProductPayload(product=Product.from_model(result.product))

    @mutation("Create or edit the persona of (product, goal). Every edit bumps the version and makes it a draft.")
    async def upsert_persona(self, info: Info, input: UpsertPersonaInput) -> PersonaPayload:
        result = await personas_service.upsert_persona(info.context.access, info.context.goals, input.to_command())
        return PersonaPayload(persona=Persona.from_model(result.persona))

    @mutation("Give a goal its persona: derived by the goal's ICP tweaks from the product's sales persona (or "
              "description), its prose in `language`, as a draft to review and approve. Returns the existing one if "
              "there is one.")
    async def derive_persona(self, info: Info, input: DerivePersonaInput) -> DerivePersonaPayload:
        result = await personas_service.derive_persona(info.context.access, info.context.goals, input.to_command())
        return DerivePersonaPayload(persona=Persona.from_model(result.persona), created=result.created)

    @mutation("Approve a persona.")
    async def approve_persona(self, info: Info, input: ApprovePersonaInput) -> PersonaPayload:
        result = await personas_service.approve_persona(info.context.access, input.to_command())
        return PersonaPayload(persona=Persona.from_model(result.persona))
