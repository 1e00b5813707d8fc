"""createProject: the caller becomes OWNER; slugs unique site-wide."""

from __future__ import annotations

from typing import Any

from outboundql import models
from tests.helpers import data_of

CREATE = """
mutation($input: CreateProjectInput!) {
  createProject(input: $input) {
    project { id name slug description viewerRole members { role user { email } } }
    errors { code field message }
  }
}
"""

PROJECTS = "query { projects { totalCount edges { node { slug viewerRole } } } }"


async def test_create_project_makes_the_caller_owner(gql: Any, owner: Any) -> None:
    p = data_of(await gql(CREATE, {"input": {"name": "  Big Deals ", "description": "Q3"}}, as_=owner))
    payload = p["createProject"]
    assert payload["errors"] == []
    project = payload["project"]
    assert project["name"] == "Big Deals"
    assert project["slug"] == "big-deals"
    assert project["description"] == "Q3"
    assert project["viewerRole"] == "OWNER"
    assert project["members"] == [{"role": "OWNER", "user": {"email": "owner@example.com"}}]
    membership = await models.Membership.get(user_id=owner.user.id)
    assert membership.role == "owner"
    assert await models.AuditEvent.filter(action="project.create").count() == 1

    listed = data_of(await gql(PROJECTS, as_=owner))["projects"]
    assert listed["totalCount"] == 1
    assert listed["edges"] == [{"node": {"slug": "big-deals", "viewerRole": "OWNER"}}]


async def test_project_slugs_are_unique_site_wide(gql: Any, owner: Any, make_user: Any) -> None:
    other = await make_user("other@example.com")
    first = data_of(await gql(CREATE, {"input": {"name": "Acme"}}, as_=owner))["createProject"]
    second = data_of(await gql(CREATE, {"input": {"name": "ACME"}}, as_=other))["createProject"]
    third = data_of(await gql(CREATE, {"input": {"name": "acme!"}}, as_=owner))["createProject"]
    assert [p["project"]["slug"] for p in (first, second, third)] == ["acme", "acme-2", "acme-3"]
    # each creator sees only their own
    listed = data_of(await gql(PROJECTS, as_=other))["projects"]
    assert [e["node"]["slug"] for e in listed["edges"]] == ["acme-2"]


async def test_project_name_is_required(gql: Any, owner: Any) -> None:
    payload = data_of(await gql(CREATE, {"input": {"name": "   "}}, as_=owner))["createProject"]
    assert payload["project"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.name")]
    assert await models.Project.all().count() == 0


async def test_create_project_needs_a_viewer(gql: Any) -> None:
    result = await gql(CREATE, {"input": {"name": "Anon"}})
    assert result["errors"]
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await models.Project.all().count() == 0


async def test_a_retry_whose_roles_predate_the_first_request_answers_its_project(owner: Any) -> None:
    """A retry read the viewer's roles before the first request with its key committed the project (they raced):
    it still answers that project, from the membership as it is now."""
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject, create_project

    retry_access = await Access.for_user(owner.user)  # read before the project exists
    first = await create_project(await Access.for_user(owner.user), CreateProject(name="Raced", idempotency_key="k1"))
    again = await create_project(retry_access, CreateProject(name="Raced", idempotency_key="k1"))
    assert (again.replayed, again.project.id) == (True, first.project.id)
    assert await models.Project.filter(name="Raced").count() == 1
