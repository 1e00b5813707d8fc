"""A project's life: renaming and describing it, archiving (read-only, hidden from lists) and unarchiving, and
deleting it with everything in it.

* Admins update, archive and unarchive; only owners delete, and only with the project's name typed back.
* An archived project refuses every change (`ProjectArchived`) but being unarchived or deleted; archiving pauses
  its live campaigns (nothing is sent from an archived project), and unarchiving leaves them paused: resume
  each when ready.
* Deleting removes every row of the project (products, accounts, campaigns and their rows, messages, attempts,
  scores, imports, webhooks, channels, usage records, invitations, members, its audit trail). What remains is
  one audit event outside any project (``project.delete``: who, when, the project's name, slug and sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import ExecutionState, Role
from outboundql.errors import Collector, Conflict, InvalidInput, NotFound
from outboundql.services import audit, auth_cache, execution, fields, runtime, slugs, sql
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class UpdateProject:
    id: int | None
    name: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    slug: Maybe[str] = UNSET
    """Unique site-wide; renaming keeps the slug (links keep working) unless one is given."""


@dataclass(frozen=True, slots=True)
class SetProjectArchived:
    id: int | None
    archived: bool


@dataclass(frozen=True, slots=True)
class DeleteProject:
    id: int | None
    confirm_name: str


@dataclass(frozen=True, slots=True)
class ProjectChanged:
    project: models.Project
    paused_campaign_ids: tuple[int, ...] = ()
    """Live campaigns that archiving paused."""


@dataclass(frozen=True, slots=True)
class ProjectDeleted:
    project_id: int


def _project_id(access: Access, project_id: int | None, role: Role, *, allow_archived: bool = False) -> int:
    if project_id is None:
        raise NotFound("Project", field="id")
    access.require(project_id, role, field="id", allow_archived=allow_archived)
    return project_id


async def update_project(access: Access, cmd: UpdateProject) -> ProjectChanged:
    """Change the name, description or slug given."""
    project_id = _project_id(access, cmd.id, Role.ADMIN)
    check = Collector()
    data = fields.clean(given(cmd, exclude=("id",)), {
        "name": fields.text(200, required=True, label="Name"),
        "description": fields.long_text(label="Description"),
        "slug": _clean_slug,
    }, check)
    check.raise_if_any()
    async with in_transaction():
        project = await models.Project.filter(id=project_id).select_for_update().get()
        slug = data.get("slug")
        if slug and slug != project.slug and await models.Project.filter(slug=slug).exclude(id=project.id).exists():
            raise Conflict(f"The slug {slug!r} is taken: choose another.", field="slug")
        async with audit.tracked(project, project_id=project.id, actor=access.user, action="project.update"):
            for key, value in data.items():
                setattr(project, key, value)
            await project.save()
    return ProjectChanged(project)


def _clean_slug(value: str | None) -> str:
    slug = fields.storable(value or "", "Slug").strip()
    if not slug or len(slug) > slugs.MAX_SLUG or not _SLUG.fullmatch(slug):
        raise ValueError(f"{slug!r} is not a slug: lowercase letters, digits and single hyphens, at most "
                         f"{slugs.MAX_SLUG} characters (e.g. acme-sales).")
    return slug


async def set_archived(access: Access, cmd: SetProjectArchived) -> ProjectChanged:
    """Archive (read-only, hidden from `projects` by default) or unarchive. Idempotent."""
    project_id = _project_id(access, cmd.id, Role.ADMIN, allow_archived=True)  # archiving again: a no-op
    project = await models.Project.get(id=project_id)
    paused: list[int] = []
    if (project.archived_at is not None) == cmd.archived:
        return ProjectChanged(project)
    if cmd.archived:
        live = models.Campaign.filter(project_id=project_id, execution_state=ExecutionState.LIVE).order_by("id")
        for campaign_id in await sql.column(live.values_list("id", flat=True)):
            try:
                await execution.pause_campaign(access, execution.PauseCampaign(campaign_id=int(campaign_id)))
            except InvalidInput:  # paused or stopped meanwhile
                continue
            paused.append(int(campaign_id))
    async with in_transaction():
        project = await models.Project.filter(id=project_id).select_for_update().get()
        before = audit.snapshot(project, ["archived_at"])
        project.archived_at = runtime.now() if cmd.archived else None
        await project.save(update_fields=["archived_at", "updated_at"])
        after = audit.snapshot(project, ["archived_at"])
        if paused:
            after["paused_campaign_ids"] = paused
        await audit.record(project_id=project.id, actor=access.user,
                           action="project.archive" if cmd.archived else "project.unarchive", row=project,
                           before=before, after=after)
    if cmd.archived:
        access.archived.add(project.id)
    else:
        access.archived.discard(project.id)
    return ProjectChanged(project, tuple(paused))


async def delete_project(access: Access, cmd: DeleteProject) -> ProjectDeleted:
    """Delete the project and everything in it, for good. Its name must be typed back exactly."""
    project_id = _project_id(access, cmd.id, Role.OWNER, allow_archived=True)
    project = await models.Project.get(id=project_id)
    if (cmd.confirm_name or "").strip() != project.name:
        raise InvalidInput(f"Type the project's name ({project.name!r}) to confirm; deleting removes its products, "
                           "accounts, campaigns, conversations and history for good (archive it to keep them).",
                           field="confirm_name")
    member_ids = await sql.column(models.Membership.filter(project_id=project_id).values_list("user_id", flat=True))
    async with in_transaction():
        project = await models.Project.filter(id=project_id).select_for_update().get()
        sizes = {
            "accounts": await models.Account.filter(project_id=project_id).count(),
            "campaigns": await models.Campaign.filter(project_id=project_id).count(),
            "members": len(member_ids),
        }
        await audit.record(project_id=None, actor=access.user, action="project.delete", row=project,
                           before={**audit.snapshot(project, ["name", "slug", "archived_at"]), **sizes})
        # Campaigns first: a campaign holds on to its product (RESTRICT); everything else goes with the project.
        await models.Campaign.filter(project_id=project_id).delete()
        await models.Project.filter(id=project_id).delete()
    access.roles.pop(project_id, None)
    access.archived.discard(project_id)
    for user_id in sorted({int(u) for u in member_ids}):
        await auth_cache.invalidate_user_access(user_id)
    return ProjectDeleted(project_id)
