"""Projects (the tenants) and their members."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector
from outboundql.services import audit, auth_cache, fields, idempotency, slugs
from outboundql.services.access import Access
from outboundql.services.slugs import unique_slug


@dataclass(frozen=True, slots=True)
class CreateProject:
    name: str
    description: str = ""
    idempotency_key: str | None = None
    """A retry with the same key answers the first project; keys of new projects are the user's."""


@dataclass(frozen=True, slots=True)
class ProjectCreated:
    project: models.Project
    replayed: bool = False
    """The answer to an earlier request with the same idempotency key (nothing was written)."""


async def create_project(access: Access, cmd: CreateProject) -> ProjectCreated:
    """Create a project; the viewer becomes its owner (``access`` knows it from then on)."""
    check = Collector()
    data = fields.clean(
        {"name": cmd.name, "description": cmd.description},
        {"name": fields.text(200, required=True, label="Name"), "description": fields.long_text(label="Description")},
        check,
    )
    check.raise_if_any()
    once = idempotency.Once.of(cmd, "project.create", user=access.user)

    async def write() -> tuple[ProjectCreated, idempotency.Answer]:
        slug = await unique_slug(models.Project, data["name"], fallback="project")
        project = await models.Project.create(name=data["name"], slug=slug, description=data["description"])
        await models.Membership.create(user=access.user, project=project, role=Role.OWNER)
        await audit.record(
            project_id=project.id, actor=access.user, action="project.create", row=project,
            after=audit.snapshot(project),
        )
        return ProjectCreated(project), {"project_id": project.id}

    async def replay(answer: idempotency.Answer) -> ProjectCreated | None:
        # The viewer's still: a project they were removed from since is gone for them. Their membership is read
        # now, not taken from the roles this request started with: a retry racing the first request may have read
        # those before the first one committed the project.
        membership = await models.Membership.filter(
            project_id=answer["project_id"], user_id=access.user.id).select_related("project").first()
        if membership is None:
            return None
        access.roles[membership.project_id] = membership.role
        return ProjectCreated(membership.project, replayed=True)

    result = await idempotency.create_once(once, write, replay)
    if not result.replayed:
        access.roles[result.project.id] = Role.OWNER
        await auth_cache.invalidate_user_access(access.user.id)
    return result


def visible_projects(access: Access, include_archived: bool = False) -> QuerySet[models.Project]:
    """The projects the viewer is a member of, oldest first; archived ones only when asked."""
    query = access.scope(models.Project.all(), "id")
    if not include_archived:
        query = query.filter(archived_at__isnull=True)
    return query.order_by("id")


async def project_by_slug(access: Access, slug: str) -> models.Project | None:
    """A project of the viewer by slug, or None (also when the viewer is not a member)."""
    if not slugs.could_be(slug):
        return None
    return await access.scope(models.Project.filter(slug=slug), "id").first()


async def project_members(project_id: int) -> list[models.Membership]:
    """The memberships of a project, oldest first, with their users loaded."""
    return list(await models.Membership.filter(project_id=project_id).select_related("user").order_by("id"))


async def campaign_by_slug(project_id: int, slug: str) -> models.Campaign | None:
    """One campaign of a project by slug (archived ones too), or None."""
    if not slugs.could_be(slug):
        return None
    return await models.Campaign.filter(project_id=project_id, slug=slug).first()
