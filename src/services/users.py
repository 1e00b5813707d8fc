"""Users and project membership."""

from __future__ import annotations

from outboundql import models
from outboundql.errors import Collector, Conflict
from outboundql.services import fields, normalize


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
