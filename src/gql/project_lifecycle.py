"""Renaming, archiving and deleting projects (`services.project_lifecycle`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import lazy_class, maybe, mutation, pk_or_none
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import project_lifecycle as lifecycle

if TYPE_CHECKING:
    from outboundql.gql.projects import Project

ProjectRef = Annotated["Project", strawberry.lazy("outboundql.gql.projects")]


@strawberry.input
class UpdateProjectInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="Unique site-wide; renaming keeps "
                                        "the slug (links keep working) unless one is given here.")


@strawberry.input
class ProjectIdInput:
    id: relay.GlobalID


@strawberry.input
class DeleteProjectInput:
    id: relay.GlobalID
    confirm_name: str = strawberry.field(description="The project's name, typed back exactly.")


@strawberry.type
class ProjectPayload:
    project: ProjectRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ArchiveProjectPayload:
    project: ProjectRef | None = None
    paused_campaign_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Live campaigns archiving paused (resume them after unarchiving).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteProjectPayload:
    deleted_project_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _project(row: models.Project) -> Any:
    return lazy_class(ProjectRef).from_model(row)


@strawberry.type
class ProjectLifecycleMutations:
    @mutation("Rename or describe a project, or change its slug (admins).")
    async def update_project(self, info: Info, input: UpdateProjectInput) -> ProjectPayload:
        cmd = lifecycle.UpdateProject(id=pk_or_none(input.id, "Project"), name=maybe(input.name),
                                      description=maybe(input.description), slug=maybe(input.slug))
        return ProjectPayload(project=_project((await lifecycle.update_project(info.context.access, cmd)).project))

    @mutation("Archive a project (admins): it becomes read-only (every change is refused with PROJECT_ARCHIVED) "
              "and is hidden from `projects` unless asked; its live campaigns are paused. Idempotent.")
    async def archive_project(self, info: Info, input: ProjectIdInput) -> ArchiveProjectPayload:
        cmd = lifecycle.SetProjectArchived(id=pk_or_none(input.id, "Project"), archived=True)
        result = await lifecycle.set_archived(info.context.access, cmd)
        return ArchiveProjectPayload(project=_project(result.project), paused_campaign_ids=[
            relay.GlobalID("Campaign", str(pk)) for pk in result.paused_campaign_ids])

    @mutation("Unarchive a project (admins): it can be changed again; paused campaigns stay paused. Idempotent.")
    async def unarchive_project(self, info: Info, input: ProjectIdInput) -> ProjectPayload:
        cmd = lifecycle.SetProjectArchived(id=pk_or_none(input.id, "Project"), archived=False)
        return ProjectPayload(project=_project((await lifecycle.set_archived(info.context.access, cmd)).project))

    @mutation("Delete a project and everything in it, for good (owners; the name typed back in confirmName). "
              "Only an audit record of the deletion remains, outside the project.")
    async def delete_project(self, info: Info, input: DeleteProjectInput) -> DeleteProjectPayload:
        cmd = lifecycle.DeleteProject(id=pk_or_none(input.id, "Project"), confirm_name=input.confirm_name)
        result = await lifecycle.delete_project(info.context.access, cmd)
        return DeleteProjectPayload(deleted_project_id=relay.GlobalID("Project", str(result.project_id)))
