"""The permission layer every resolver goes through.

An `Access` is built once per request from the viewer's memberships. Rows of projects the
viewer is not a member of are invisible: fetching one raises `NotFound`, exactly like a
missing row. A member whose role is too low gets `Forbidden`. Archived projects are read-only:
asking for the member role or higher there raises `ProjectArchived` once `load_archived` has
run (every GraphQL mutation runs it first; reads never need it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tortoise.models import Model

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Forbidden, InvalidInput, NotFound, ProjectArchived

if TYPE_CHECKING:
    from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)

MAX_ID = 2**31 - 1
"""Largest primary key: ids are 32-bit integer columns (a larger one would crash PostgreSQL's query)."""


def parse_id(value: Any) -> int | None:
    """``value`` as a possible row id, or None when no row can have it (not an integer, out of range)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if 0 < pk <= MAX_ID else None

_ROLE_VERBS = {
    Role.VIEWER: "read",
    Role.MEMBER: "change data in",
    Role.ADMIN: "manage members and tokens of",
    Role.OWNER: "delete or re-assign roles of",
}


@dataclass(slots=True)
class Access:
    """What one user may see and do. ``roles`` maps project id to the user's role there."""

    user: models.User
    roles: dict[int, Role] = field(default_factory=dict)
    archived: set[int] = field(default_factory=set)
    token_id: int | None = None
    """The API token the request authenticated with (what its changes are audited as coming through)."""
    """The viewer's archived projects, as `load_archived` last read them: nothing changes in them."""

    @classmethod
    async def for_user(cls, user: models.User) -> Access:
        rows = await models.Membership.filter(user_id=user.id).values_list("project_id", "role")
        return cls(user=user, roles={pid: Role(role) for pid, role in rows})

    @classmethod
    def engine(cls, project_id: int) -> Access:
        """The engine acting in one project (a channel's delivery, a provider's signed result): a member there
        and nobody in particular, so what it writes is audited without a user (``user`` is None)."""
        return cls(user=cast(models.User, None), roles={project_id: Role.MEMBER})

    @property
    def project_ids(self) -> list[int]:
        return list(self.roles)

    async def load_archived(self) -> None:
        """Read which of the viewer's projects are archived (one query; none when the viewer has no project)."""
        ids = self.project_ids
        found: list[Any] = list(await models.Project.filter(id__in=ids, archived_at__isnull=False).values_list(
            "id", flat=True)) if ids else []
        self.archived = {int(pk) for pk in found}

    def require(
        self, project_id: int, role: Role = Role.VIEWER, *, what: str = "Project", field: str | None = None,
        allow_archived: bool = False,
    ) -> Role:
        """The viewer's role in ``project_id``; NotFound (on input ``field``) when not a member,
        Forbidden when too low, ProjectArchived when a change (member role or higher) is asked of an
        archived project (unless ``allow_archived``: unarchiving, deleting)."""
        have = self.roles.get(project_id)
        if have is None:
            raise NotFound(what, field=field)
        if have.rank < role.rank:
            raise Forbidden(
                f"Your role in this project is {have.value}; you need {role.value} or higher to "
                f"{_ROLE_VERBS[role]} it."
            )
        if role.rank >= Role.MEMBER.rank and project_id in self.archived and not allow_archived:
            raise ProjectArchived()
        return have

    def scope(self, queryset: QuerySet[M], project_field: str = "project_id") -> QuerySet[M]:
        """Restrict ``queryset`` to rows of projects the viewer belongs to."""
        return queryset.filter(**{f"{project_field}__in": self.project_ids})

    async def get(
        self,
        model: type[M],
        row_id: Any,
        role: Role = Role.VIEWER,
        *,
        what: str | None = None,
        field: str | None = None,
        project_field: str = "project_id",
    ) -> M:
        """Fetch one row by id, visible to the viewer, checking ``role`` in its project."""
        label = what or model.__name__
        pk = parse_id(row_id)
        if pk is None:
            raise NotFound(label, field=field)
        row = await self.scope(model.filter(id=pk), project_field).first()
        if row is None:
            raise NotFound(label, field=field)
        self.require(_project_id(row, project_field), role, what=label, field=field)
        return row


    async def get_many(
        self,
        model: type[M],
        ids: Sequence[int],
        role: Role = Role.VIEWER,
        *,
        field: str,
        noun: str,
        limit: int,
        what: str | None = None,
        project_field: str = "project_id",
    ) -> list[M]:
        """The rows of ``ids`` in the order given (a repeated id once), each visible to the viewer with ``role``:
        a missing one is NOT_FOUND on its position (``field[i]``), as `get` words it; none, or more than
        ``limit``, is INVALID on ``field`` (``noun``: what the ids are, plural)."""
        label = what or model.__name__
        if not ids:
            raise InvalidInput(f"Give at least one of the {noun}.", field=field)
        if len(ids) > limit:
            raise InvalidInput(f"At most {limit} {noun} per request.", field=field)
        queryset = self.scope(model.filter(id__in=list(set(ids))), project_field)
        if "__" in project_field:  # the project is read through a relation: load it with the rows
            queryset = queryset.select_related(project_field.rsplit("__", 1)[0])
        found = {row.pk: row for row in await queryset}
        rows: dict[int, M] = {}
        for i, pk in enumerate(ids):
            row = found.get(pk)
            if row is None:
                raise NotFound(label, field=f"{field}[{i}]")
            self.require(_project_id(row, project_field), role, what=label, field=f"{field}[{i}]")
            rows.setdefault(pk, row)
        return list(rows.values())


def _project_id(row: Model, project_field: str) -> int:
    value: Any = row
    for part in project_field.split("__"):
        value = getattr(value, part)
    return int(value)
