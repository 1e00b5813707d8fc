"""Users and project membership."""

from __future__ import annotations

from dataclasses import dataclass

from outboundql import models
from outboundql.errors import Collector, Conflict
from outboundql.services import auth_cache, fields, normalize
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given


async def create_user(email: str, name: str = "", language: str | None = None) -> models.User:
    check = Collector()
    data = fields.clean(
        {"email": email, "name": name, "language": language},
        {
            "email": normalize.normalize_email,
            "name": fields.text(200, label="Name"),
            "language": normalize.normalize_language,
        },
        check,
    )
    if not data.get("email"):
        check.add("email", "E-mail is required.")
    check.raise_if_any()
    if await models.User.filter(email=data["email"]).exists():
        raise Conflict(f"A user with e-mail {data['email']} already exists.", field="email")
    return await models.User.create(email=data["email"], name=data["name"] or "", language=data["language"])


async def find_user(email: str) -> models.User | None:
    return await models.User.filter(email=email.strip().lower()).first()


async def visible_users(access: Access, ids: list[int]) -> dict[int, models.User]:
    """The users among ``ids`` the viewer may see, by id: themselves and members of a project they share."""
    shared = set(
        await models.Membership.filter(user_id__in=ids, project_id__in=access.project_ids).values_list(
            "user_id", flat=True
        )
    ) | {access.user.id}
    return {u.id: u for u in await models.User.filter(id__in=[i for i in ids if i in shared])}


async def shared_memberships(access: Access, user_id: int) -> list[models.Membership]:
    """A user's memberships in the projects the viewer is a member of, by project."""
    return list(
        await models.Membership.filter(user_id=user_id, project_id__in=access.project_ids).order_by("project_id")
    )


@dataclass(frozen=True, slots=True)
class UpdateViewer:
    name: Maybe[str] = UNSET
    language: Maybe[str | None] = UNSET
    """A BCP 47 tag (stored canonical: ``pt-br`` → ``pt-BR``); null clears it."""


async def update_viewer(access: Access, cmd: UpdateViewer) -> models.User:
    """Change the signed-in user's own name or language (what drafts and reasons fall back to)."""
    check = Collector()
    data = fields.clean(given(cmd), {"name": fields.text(200, label="Name"),
                                     "language": normalize.normalize_language}, check)
    check.raise_if_any()
    user = access.user
    if "name" in data:
        data["name"] = data["name"] or ""
    changed = {k: v for k, v in data.items() if getattr(user, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(user, key, value)
        await user.save(update_fields=[*changed, "updated_at"])
        await auth_cache.invalidate_user_access(user.id)  # requests read the user from there
    return user
