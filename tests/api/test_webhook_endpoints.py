"""Event webhook endpoints through GraphQL: created by admins with the secret shown once (and sealed in the
database), URLs and events validated as data, updated, disabled and enabled again, deleted; nothing of another
project visible; the event catalogue listed."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.enums import Role
from outboundql.services import secret_box
from outboundql.services.webhook_deliveries import EVENT_TYPES
from tests.helpers import Person, data_of, global_id

ENDPOINT = "id url description events enabled disabledAt disabledReason createdAt"
CREATE = f"""
mutation($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{ endpoint {{ {ENDPOINT} }} secret errors {{ code field message }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(input: $input) {{ endpoint {{ {ENDPOINT} }} secret errors {{ code field message }} }}
}}
"""
DELETE = """
mutation($input: DeleteWebhookEndpointInput!) {
  deleteWebhookEndpoint(input: $input) { deletedEndpointId errors { code field message } }
}
"""
PROJECT = f"""
query($slug: String!) {{
  project(slug: $slug) {{ webhookEndpoints {{ {ENDPOINT} deliveries(first: 10) {{ totalCount }} }} }}
}}
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on WebhookEndpoint {{ {ENDPOINT} }} }} }}"
EVENT_TYPES_QUERY = "{ webhookEventTypes { key description } }"
URL = "https://hooks.example.com/outboundql"


async def create(gql: Any, who: Person, project: models.Project, **fields: Any) -> dict[str, Any]:
    variables = {"projectId": global_id("Project", project.id), "url": URL, "events": ["campaign.updated"],
                 **fields}
    return data_of(await gql(CREATE, {"input": variables}, as_=who))["createWebhookEndpoint"]


async def test_the_secret_is_shown_once_and_sealed_in_the_database(gql, owner: Person,
                                                                   project: models.Project) -> None:
    made = await create(gql, owner, project, description="  CRM sync  ",
                        events=["campaign.updated", "message.received", "campaign.updated"])
    assert made["errors"] == []
    endpoint = made["endpoint"]
    assert (endpoint["url"], endpoint["description"], endpoint["events"], endpoint["enabled"]) == (
        URL, "CRM sync", ["campaign.updated", "message.received"], True)
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    pk = (await models.WebhookEndpoint.get()).id
    [stored] = await models.WebhookEndpoint.filter(id=pk).values_list("secret", flat=True)  # the raw column
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert secret_box.open_(stored, f"webhook:{pk}") == secret
    # read back: no field carries the secret, and the answer never repeats it
    listed = data_of(await gql(PROJECT, {"slug": project.slug}, as_=owner))["project"]["webhookEndpoints"]
    assert listed == [{**endpoint, "deliveries": {"totalCount": 0}}]
    assert secret not in str(listed)
    updated = data_of(await gql(UPDATE, {"input": {"id": endpoint["id"], "description": "x"}}, as_=owner)
                      )["updateWebhookEndpoint"]
    assert updated["errors"] == [] and updated["secret"] is None


async def test_rotating_the_secret_answers_a_new_one_once(gql, owner: Person, project: models.Project) -> None:
    made = await create(gql, owner, project)
    rotated = data_of(await gql(UPDATE, {"input": {"id": made["endpoint"]["id"], "rotateSecret": True}},
                                as_=owner))["updateWebhookEndpoint"]
    assert rotated["errors"] == []
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    row = await models.WebhookEndpoint.get()
    assert secret_box.open_(row.secret, f"webhook:{row.id}") == rotated["secret"]


async def test_urls_and_events_are_validated_as_data(gql, owner: Person, project: models.Project) -> None:
    cases = [
        ({"url": "http://hooks.example.com/x"}, "input.url", "Use https://"),
        ({"url": "ftp://hooks.example.com/x"}, "input.url", "absolute https://"),
        ({"url": "not a url"}, "input.url", "absolute https://"),
        ({"url": "https://user:pw@hooks.example.com/x"}, "input.url", "no credentials"),
        ({"events": ["campaign.updated", "campaign.exploded"]}, "input.events[1]", "Unknown event 'campaign.exploded'"),
        ({"events": []}, "input.events", "at least one event"),
    ]
    for fields, field, words in cases:
        made = await create(gql, owner, project, **fields)
        assert made["endpoint"] is None and made["secret"] is None
        assert [(e["code"], e["field"]) for e in made["errors"]] == [("INVALID", field)], fields
        assert words in made["errors"][0]["message"]
    assert await models.WebhookEndpoint.all().count() == 0
    for url in ("http://localhost:8080/hook", "http://127.0.0.1:9/hook", "http://[::1]/hook"):
        assert (await create(gql, owner, project, url=url))["errors"] == []


async def test_admins_manage_endpoints_members_read_them_strangers_see_nothing(
        gql, owner: Person, project: models.Project, make_user: Any, add_member: Any, make_project: Any) -> None:
    member = await make_user("member@example.com")
    await add_member(member, project, Role.MEMBER)
    admin = await make_user("admin@example.com")
    await add_member(admin, project, Role.ADMIN)
    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")

    refused = await create(gql, member, project)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    made = await create(gql, admin, project)
    assert made["errors"] == []
    gid = made["endpoint"]["id"]
    assert data_of(await gql(NODE, {"id": gid}, as_=member))["node"]["id"] == gid
    edit = data_of(await gql(UPDATE, {"input": {"id": gid, "enabled": False}}, as_=member))["updateWebhookEndpoint"]
    assert [e["code"] for e in edit["errors"]] == ["FORBIDDEN"]

    assert data_of(await gql(NODE, {"id": gid}, as_=stranger))["node"] is None
    theirs = await create(gql, stranger, project)
    assert [(e["code"], e["field"]) for e in theirs["errors"]] == [("NOT_FOUND", "input.projectId")]
    for query, variables in ((UPDATE, {"id": gid, "url": URL + "/x"}), (DELETE, {"id": gid})):
        answer = next(iter(data_of(await gql(query, {"input": variables}, as_=stranger)).values()))
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("NOT_FOUND", "input.id")]
    assert (await models.WebhookEndpoint.get()).url == URL


async def test_update_disable_enable_and_delete(gql, owner: Person, project: models.Project) -> None:
    made = await create(gql, owner, project)
    gid = made["endpoint"]["id"]
    changed = data_of(await gql(UPDATE, {"input": {"id": gid, "url": "https://other.example.com/h",
                                                    "events": ["attempt.result_recorded"]}}, as_=owner)
                      )["updateWebhookEndpoint"]
    assert changed["errors"] == []
    assert (changed["endpoint"]["url"], changed["endpoint"]["events"]) == (
        "https://other.example.com/h", ["attempt.result_recorded"])
    bad = data_of(await gql(UPDATE, {"input": {"id": gid, "events": ["nope"]}}, as_=owner))["updateWebhookEndpoint"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", "input.events[0]")]

    off = data_of(await gql(UPDATE, {"input": {"id": gid, "enabled": False}}, as_=owner))["updateWebhookEndpoint"]
    assert off["endpoint"]["enabled"] is False and off["endpoint"]["disabledAt"] is not None
    assert off["endpoint"]["disabledReason"] == "Disabled by owner@example.com."
    await models.WebhookEndpoint.all().update(consecutive_failures=9)
    on = data_of(await gql(UPDATE, {"input": {"id": gid, "enabled": True}}, as_=owner))["updateWebhookEndpoint"]
    assert (on["endpoint"]["enabled"], on["endpoint"]["disabledAt"], on["endpoint"]["disabledReason"]) == (
        True, None, None)
    assert (await models.WebhookEndpoint.get()).consecutive_failures == 0

    gone = data_of(await gql(DELETE, {"input": {"id": gid}}, as_=owner))["deleteWebhookEndpoint"]
    assert gone == {"deletedEndpointId": gid, "errors": []}
    assert await models.WebhookEndpoint.all().count() == 0
    actions = await models.AuditEvent.filter(project_id=project.id, action__startswith="webhook_endpoint."
                                             ).order_by("id").values_list("action", flat=True)
    assert actions == ["webhook_endpoint.create"] + ["webhook_endpoint.update"] * 3 + ["webhook_endpoint.delete"]
    assert "whsec_" not in str(await models.AuditEvent.all().values("before", "after"))


async def test_the_event_catalogue(gql, owner: Person) -> None:
    listed = data_of(await gql(EVENT_TYPES_QUERY, as_=owner))["webhookEventTypes"]
    assert [e["key"] for e in listed] == list(EVENT_TYPES)
    assert {"campaign.updated", "campaign.accounts_changed", "campaign.execution_changed",
            "campaign.scoring_progress", "scoring_run.finished", "attempt.result_recorded", "message.received",
            "import_job.finished"} == set(EVENT_TYPES)
    assert all(e["description"] for e in listed)


async def test_reading_endpoints_and_a_delivery_log_costs_the_same_for_few_or_many(
        gql, owner: Person, project: models.Project, count_queries: Any) -> None:
    endpoints_query = f'query($slug: String!) {{ project(slug: $slug) {{ webhookEndpoints {{ {ENDPOINT} }} }} }}'
    log_query = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries(first: 50) {
        totalCount edges { node { id eventType eventId status attempts nextAttemptAt responseStatus error
        deliveredAt createdAt payload } } } } } }"""

    async def endpoints_cost(total: int) -> int:
        while await models.WebhookEndpoint.filter(project_id=project.id).count() < total:
            assert (await create(gql, owner, project))["errors"] == []
        with count_queries() as counted:
            listed = data_of(await gql(endpoints_query, {"slug": project.slug}, as_=owner))
        assert len(listed["project"]["webhookEndpoints"]) == total
        return len(counted)

    async def log_cost(total: int) -> int:
        endpoint = await models.WebhookEndpoint.filter(project_id=project.id).order_by("id").first()
        assert endpoint is not None
        have = await models.WebhookDelivery.filter(endpoint_id=endpoint.id).count()
        await models.WebhookDelivery.bulk_create([models.WebhookDelivery(
            project_id=project.id, endpoint_id=endpoint.id, event_id=f"msg_{k}", event_type="campaign.updated",
            payload={"type": "campaign.updated", "data": {"k": k}}) for k in range(have, total)])
        with count_queries() as counted:
            page = data_of(await gql(log_query, {"id": global_id("WebhookEndpoint", endpoint.id)}, as_=owner))
        assert page["node"]["deliveries"]["totalCount"] == total
        return len(counted)

    few, many = await endpoints_cost(2), await endpoints_cost(10)
    assert 0 < few == many
    few, many = await log_cost(3), await log_cost(30)
    assert 0 < few == many
