"""Projects (the tenants) and their members."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector, Conflict, NotFound
from outboundql.services import audit, fields
from outboundql.services.access import Access
from outboundql.services.slugs import unique_slug


async def create_project(user: models.User, name: str, description: str = "") -> models.Project:
    """Create a project; its creator becomes the owner."""
    check = Collector()
    data = fields.clean(
        {"name": name, "description": description},
        {"name": fields.text(200, required=True, label="Name"), "description": fields.long_text(label="Description")},
        check,
        prefix="input.",
    )
    check.raise_if_any()
    async with in_transaction():
        slug = await unique_slug(models.Project, data["name"], fallback="project")
        project = await models.Project.create(name=data["name"], slug=slug, description=data["description"])
        await models.Membership.create(user=user, project=project, role=Role.OWNER)
        await audit.record(
            project_id=project.id, actor=user, action="project.create", row=project, after=audit.snapshot(project)
        )
    return project


async def add_member(access: Access, project_id: int, email: str, role: Role) -> models.Membership:
    """Add a user (by e-mail) to a project. Admins add members and viewers, owners anyone."""
    have = access.require(project_id, Role.ADMIN, field="input.projectId")
    if role.rank >= Role.ADMIN.rank and have is not Role.OWNER:
        access.require(project_id, Role.OWNER)
    user = await models.User.filter(email=email.strip().lower()).first()
    if user is None:
        raise NotFound("User", field="input.email")
    if await models.Membership.filter(user_id=user.id, project_id=project_id).exists():
        raise Conflict(f"{user.email} is already a member of this project.", field="input.email")
    async with in_transaction():
        membership = await models.Membership.create(user=user, project_id=project_id, role=role)
        await audit.record(
            project_id=project_id, actor=access.user, action="membership.create", row=membership,
            after={"user": user.email, "role": role.value},
        )
    return membership
