"""Saved filters through GraphQL: create / update / delete, validation, matchCount, tenancy,
and adding a campaign's accounts by saved filter."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.enums import Role
from outboundql.goals.testing import registry_with
from outboundql.services import accounts as accounts_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from tests.helpers import Person, access_for, data_of, global_id

FIELDS = "id name expression matchCount createdAt"

CREATE = f"""
mutation($input: CreateSavedFilterInput!) {{
  createSavedFilter(input: $input) {{ savedFilter {{ {FIELDS} }} errors {{ code field message }} }}
}}
"""

UPDATE = f"""
mutation($input: UpdateSavedFilterInput!) {{
  updateSavedFilter(input: $input) {{ savedFilter {{ {FIELDS} }} errors {{ code field message }} }}
}}
"""

DELETE = """
mutation($input: DeleteSavedFilterInput!) {
  deleteSavedFilter(input: $input) { deletedSavedFilterId errors { code field message } }
}
"""

LIST = f"""
query($slug: String!) {{ project(slug: $slug) {{ savedFilters {{ {FIELDS} }} }} }}
"""

NODE = "query($id: ID!) { node(id: $id) { __typename ... on SavedFilter { name matchCount } } }"

ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) {
    added alreadyPresent blocked { reason status count } campaign { totalAccounts }
    errors { code field message }
  }
}
"""

FRENCH_SAAS = {"all": [
    {"field": "country", "op": "eq", "value": "FR"},
    {"field": "tags", "op": "contains", "value": "saas"},
]}


async def _accounts(person: Person, project: models.Project) -> dict[str, models.Account]:
    access = await access_for(person)
    specs = [
        {"name": "Paris SaaS", "domain": "paris.example", "country": "FR", "tags": ["SaaS"], "employee_count": 40,
         "custom_fields": {"tier": "gold", "seats": 12}},
        {"name": "Lyon SaaS", "domain": "lyon.example", "country": "FR", "tags": ["saas", "vip"],
         "employee_count": 400, "custom_fields": {"tier": "silver"}, "status": "customer"},
        {"name": "Berlin Shop", "domain": "berlin.example", "country": "DE", "tags": ["retail"],
         "custom_fields": {"tier": "gold", "seats": 3}},
        {"name": "Nantes Rival", "domain": "rival.example", "country": "FR", "tags": ["saas"],
         "status": "competitor"},
    ]
    out = {}
    for spec in specs:
        out[spec["name"]] = (await accounts_service.create_account(
            access, accounts_service.CreateAccount(project_id=project.id, **spec))).account
    return out


async def _create(gql: Any, person: Person, project: models.Project, name: str, expression: Any
                  ) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id), "name": name, "expression": expression}}
    return data_of(await gql(CREATE, variables, as_=person))["createSavedFilter"]


async def test_create_list_and_count(gql, owner, project) -> None:
    await _accounts(owner, project)
    payload = await _create(gql, owner, project, "French SaaS", FRENCH_SAAS)
    assert payload["errors"] == []
    saved = payload["savedFilter"]
    assert saved["name"] == "French SaaS"
    assert saved["expression"] == FRENCH_SAAS
    assert saved["matchCount"] == 3

    await _create(gql, owner, project, "Big", {"field": "employeeCount", "op": "GTE", "value": 100})
    listed = data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["savedFilters"]
    assert [(f["name"], f["matchCount"]) for f in listed] == [("Big", 1), ("French SaaS", 3)]
    # stored in canonical form
    assert listed[0]["expression"] == {"field": "employee_count", "op": "gte", "value": 100}
    node = data_of(await gql(NODE, {"id": saved["id"]}, as_=owner))["node"]
    assert node == {"__typename": "SavedFilter", "name": "French SaaS", "matchCount": 3}

    row = await models.SavedFilter.get(name="French SaaS")
    assert row.created_by_id == owner.user.id
    event = await models.AuditEvent.get(action="saved_filter.create", object_id=row.id)
    assert event.actor_id == owner.user.id
    assert event.object_type == "SavedFilter"
    assert event.after["name"] == "French SaaS" and event.after["expression"] == FRENCH_SAAS


async def test_custom_field_filters_count_through_the_api(gql, owner, project) -> None:
    await _accounts(owner, project)
    gold = await _create(gql, owner, project, "Gold", {"field": "cf.tier", "op": "eq", "value": "GOLD"})
    seats = await _create(gql, owner, project, "Seats", {"field": "cf.seats", "op": "gt", "value": 5})
    no_tier = await _create(gql, owner, project, "No tier", {"field": "cf.tier", "op": "exists", "value": False})
    assert gold["savedFilter"]["matchCount"] == 2
    assert seats["savedFilter"]["matchCount"] == 1
    assert no_tier["savedFilter"]["matchCount"] == 1


async def test_validation_errors_name_the_path(gql, owner, project) -> None:
    expression = {"all": [
        {"field": "country", "op": "eq", "value": "FR"},
        {"field": "status", "op": "eq", "value": "asleep"},
        {"field": "employee_count", "op": "lt=", "value": 5},
    ]}
    payload = await _create(gql, owner, project, "  ", expression)
    assert payload["savedFilter"] is None
    errors = {e["field"]: e for e in payload["errors"]}
    assert set(errors) == {"input.name", "input.expression.all[1].value", "input.expression.all[2].op"}
    assert all(e["code"] == "INVALID" for e in payload["errors"])
    assert errors["input.expression.all[2].op"]["message"].startswith("Unknown operator 'lt='; use one of eq, ne,")
    assert "Unknown account status \"asleep\"" in errors["input.expression.all[1].value"]["message"]

    not_object = await _create(gql, owner, project, "Bad", "country = FR")
    assert [(e["code"], e["field"]) for e in not_object["errors"]] == [("INVALID", "input.expression")]
    assert await models.SavedFilter.all().count() == 0


async def test_names_are_unique_per_project(gql, owner, project, make_project) -> None:
    assert (await _create(gql, owner, project, "Hot", FRENCH_SAAS))["errors"] == []
    dup = await _create(gql, owner, project, "hot", FRENCH_SAAS)
    assert [(e["code"], e["field"]) for e in dup["errors"]] == [("CONFLICT", "input.name")]
    assert "already exists" in dup["errors"][0]["message"]
    other = await make_project(owner, "Second")
    assert (await _create(gql, owner, other, "Hot", FRENCH_SAAS))["errors"] == []


async def test_update_renames_and_replaces_the_expression(gql, owner, project) -> None:
    await _accounts(owner, project)
    saved = (await _create(gql, owner, project, "French SaaS", FRENCH_SAAS))["savedFilter"]
    await _create(gql, owner, project, "Taken", FRENCH_SAAS)

    new_expression = {"not": {"field": "country", "op": "in", "value": ["fr"]}}
    payload = data_of(await gql(UPDATE, {"input": {"id": saved["id"], "name": "Outside France",
                                                   "expression": new_expression}}, as_=owner))["updateSavedFilter"]
    assert payload["errors"] == []
    assert payload["savedFilter"]["name"] == "Outside France"
    assert payload["savedFilter"]["expression"] == {"not": {"field": "country", "op": "in", "value": ["FR"]}}
    assert payload["savedFilter"]["matchCount"] == 1

    row = await models.SavedFilter.get(name="Outside France")
    event = await models.AuditEvent.get(action="saved_filter.update", object_id=row.id)
    assert event.before == {"name": "French SaaS", "expression": FRENCH_SAAS}
    assert event.after["name"] == "Outside France"

    taken = data_of(await gql(UPDATE, {"input": {"id": saved["id"], "name": "TAKEN"}}, as_=owner))
    assert [(e["code"], e["field"]) for e in taken["updateSavedFilter"]["errors"]] == [("CONFLICT", "input.name")]
    bad = data_of(await gql(UPDATE, {"input": {"id": saved["id"], "expression": {"any": [
        {"field": "tags", "op": "gt", "value": "x"}]}}}, as_=owner))["updateSavedFilter"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", "input.expression.any[0].op")]
    cleared = data_of(await gql(UPDATE, {"input": {"id": saved["id"], "expression": None}}, as_=owner))
    assert [e["field"] for e in cleared["updateSavedFilter"]["errors"]] == ["input.expression"]
    assert (await models.SavedFilter.get(id=row.id)).name == "Outside France"


async def test_delete_is_audited_and_refused_while_a_campaign_uses_it(gql, owner, project) -> None:
    saved = (await _create(gql, owner, project, "Audience", FRENCH_SAAS))["savedFilter"]
    pk = int((await models.SavedFilter.get(name="Audience")).id)
    access = await access_for(owner)
    product = (await products_service.create_product(
        access, products_service.CreateProduct(project_id=project.id, name="Widget"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Spring",
        audience=campaigns_service.Audience(kind="saved_filter", saved_filter_id=pk)))).campaign

    refused = data_of(await gql(DELETE, {"input": {"id": saved["id"]}}, as_=owner))["deleteSavedFilter"]
    assert refused["deletedSavedFilterId"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CONFLICT", "input.id")]
    assert "'Spring'" in refused["errors"][0]["message"]

    await campaigns_service.update_campaign(access, registry_with(),
                                            campaigns_service.UpdateCampaign(id=campaign.id, audience=None))
    deleted = data_of(await gql(DELETE, {"input": {"id": saved["id"]}}, as_=owner))["deleteSavedFilter"]
    assert deleted == {"deletedSavedFilterId": saved["id"], "errors": []}
    assert not await models.SavedFilter.filter(id=pk).exists()
    event = await models.AuditEvent.get(action="saved_filter.delete", object_id=pk)
    assert event.before["name"] == "Audience"
    again = data_of(await gql(DELETE, {"input": {"id": saved["id"]}}, as_=owner))["deleteSavedFilter"]
    assert again["errors"] == [{"code": "NOT_FOUND", "field": "input.id", "message": "SavedFilter not found."}]


async def test_another_projects_filters_are_invisible(gql, owner, project, make_user, make_project) -> None:
    bob = await make_user("bob@example.com", "Bob")
    theirs = await make_project(bob, "Bob's")
    await _accounts(bob, theirs)
    their_filter = (await _create(gql, bob, theirs, "Bob's filter", FRENCH_SAAS))["savedFilter"]
    missing = global_id("SavedFilter", 987_654)

    assert data_of(await gql(NODE, {"id": their_filter["id"]}, as_=owner)) == {"node": None}
    assert data_of(await gql(LIST, {"slug": theirs.slug}, as_=owner)) == {"project": None}
    assert data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["savedFilters"] == []
    for gid in (their_filter["id"], missing):
        update = data_of(await gql(UPDATE, {"input": {"id": gid, "name": "Mine now"}}, as_=owner))
        delete = data_of(await gql(DELETE, {"input": {"id": gid}}, as_=owner))
        expected = [{"code": "NOT_FOUND", "field": "input.id", "message": "SavedFilter not found."}]
        assert update["updateSavedFilter"]["errors"] == expected
        assert delete["deleteSavedFilter"]["errors"] == expected
    create = await _create(gql, owner, theirs, "Sneaky", FRENCH_SAAS)
    assert create["errors"] == [{"code": "NOT_FOUND", "field": "input.projectId", "message": "Project not found."}]
    assert await models.SavedFilter.filter(project_id=theirs.id).count() == 1
    assert (await models.SavedFilter.get(project_id=theirs.id)).name == "Bob's filter"


async def test_viewer_cannot_change_filters(gql, owner, project, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com", "Vic")
    await add_member(viewer, project, Role.VIEWER)
    saved = (await _create(gql, owner, project, "Mine", FRENCH_SAAS))["savedFilter"]
    assert data_of(await gql(LIST, {"slug": project.slug}, as_=viewer))["project"]["savedFilters"][0]["name"] == "Mine"
    results = [
        await _create(gql, viewer, project, "Viewer's", FRENCH_SAAS),
        data_of(await gql(UPDATE, {"input": {"id": saved["id"], "name": "X"}}, as_=viewer))["updateSavedFilter"],
        data_of(await gql(DELETE, {"input": {"id": saved["id"]}}, as_=viewer))["deleteSavedFilter"],
    ]
    for payload in results:
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert [f.name for f in await models.SavedFilter.all()] == ["Mine"]


async def test_match_counts_of_a_list_cost_a_constant_number_of_queries(gql, owner, project, count_queries
                                                                        ) -> None:
    await _accounts(owner, project)

    async def selects() -> int:
        with count_queries() as q:
            data_of(await gql(LIST, {"slug": project.slug}, as_=owner))
        return q.selects

    await _create(gql, owner, project, "F0", FRENCH_SAAS)
    one = await selects()
    for i in range(1, 8):
        await _create(gql, owner, project, f"F{i}", {"field": "cf.seats", "op": "gte", "value": i})
    assert await selects() == one


# --- adding a campaign's accounts by saved filter ------------------------------------------------


async def test_add_accounts_to_campaign_by_saved_filter(gql, owner, project, campaign) -> None:
    accounts = await _accounts(owner, project)
    saved = (await _create(gql, owner, project, "French SaaS", FRENCH_SAAS))["savedFilter"]
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id), "savedFilterId": saved["id"]}}

    payload = data_of(await gql(ADD, variables, as_=owner))["addAccountsToCampaign"]
    assert payload["errors"] == []
    # Paris SaaS is admitted; Lyon SaaS is a customer (soft-blocked for sales), Nantes Rival a competitor.
    assert payload["added"] == 1
    assert payload["campaign"] == {"totalAccounts": 1}
    assert sorted((b["reason"], b["status"], b["count"]) for b in payload["blocked"]) == [
        ("hard_block", "competitor", 1), ("soft_block", "customer", 1)]
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("account_id", flat=True)
    assert list(rows) == [accounts["Paris SaaS"].id]

    again = data_of(await gql(ADD, variables, as_=owner))["addAccountsToCampaign"]
    assert (again["added"], again["alreadyPresent"]) == (0, 1)


async def test_add_by_a_saved_filter_of_another_project_is_not_found(gql, owner, project, campaign, make_user,
                                                                     make_project) -> None:
    bob = await make_user("bob@example.com", "Bob")
    theirs = await make_project(bob, "Bob's")
    await _accounts(bob, theirs)
    their_filter = (await _create(gql, bob, theirs, "Bob's", FRENCH_SAAS))["savedFilter"]
    before = await models.CampaignAccount.all().count()
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id), "savedFilterId": their_filter["id"]}}
    payload = data_of(await gql(ADD, variables, as_=owner))["addAccountsToCampaign"]
    assert payload["added"] == 0
    assert payload["errors"] == [{"code": "NOT_FOUND", "field": "input.savedFilterId",
                                  "message": "Saved filter not found."}]
    assert await models.CampaignAccount.all().count() == before
