"""Campaign lifecycle through GraphQL: create, update (rename, goal switch, status hint), archive and
unarchive, delete with the name typed back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    Band,
    Direction,
    ExpenseKind,
    MessageMode,
    MessageStatus,
    PersonaStatus,
    Role,
)
from outboundql.services import campaign_stats
from tests.helpers import Person, data_of, global_id

FIELDS = """
id name slug description keywords status communicationLanguage effectiveLanguage archivedAt
goal { key } icp { goalKey status } product { slug }
totalAccounts scoredAccounts approvedAccounts outreachedAccounts respondedAccounts responseRate staleScoreCount
"""

CREATE = f"""
mutation($input: CreateCampaignInput!) {{
  createCampaign(input: $input) {{ campaign {{ {FIELDS} }} errors {{ code field message }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateCampaignInput!) {{
  updateCampaign(input: $input) {{ campaign {{ {FIELDS} }} errors {{ code field message }} }}
}}
"""
ARCHIVE = """
mutation($input: CampaignIdInput!) {
  archiveCampaign(input: $input) { campaign { id archivedAt } errors { code field message } }
}
"""
UNARCHIVE = """
mutation($input: CampaignIdInput!) {
  unarchiveCampaign(input: $input) { campaign { id archivedAt } errors { code field message } }
}
"""
DELETE = """
mutation($input: DeleteCampaignInput!) {
  deleteCampaign(input: $input) { deletedCampaignId errors { code field message } }
}
"""
ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) { added errors { code field message } }
}
"""
LIST = """
query($slug: String!, $filter: CampaignFilter) {
  project(slug: $slug) { campaigns(filter: $filter) { totalCount edges { node { slug archivedAt } } } }
}
"""


@pytest.fixture
def product_fields() -> dict[str, Any]:
    return {"communication_language": "de"}  # campaigns inherit it as their effective language


async def create(gql: Any, who: Person, project: models.Project, product: models.Product, **extra: Any
                 ) -> dict[str, Any]:
    variables = {"input": {"projectId": global_id("Project", project.id),
                           "productId": global_id("Product", product.id), "name": "Spring push", **extra}}
    return data_of(await gql(CREATE, variables, as_=who))["createCampaign"]


async def created(gql: Any, who: Person, project: models.Project, product: models.Product, **extra: Any
                  ) -> dict[str, Any]:
    payload = await create(gql, who, project, product, **extra)
    assert payload["errors"] == []
    return payload["campaign"]


async def update(gql: Any, who: Person, campaign_gid: str, **changes: Any) -> dict[str, Any]:
    return data_of(await gql(UPDATE, {"input": {"id": campaign_gid, **changes}}, as_=who))["updateCampaign"]


async def row(gid: str) -> models.Campaign:
    from strawberry.relay import from_base64

    from outboundql.services.access import parse_id

    return await models.Campaign.get(id=parse_id(from_base64(gid)[1]))


async def assert_stats_exact(campaign_gid: str) -> None:
    campaign = await row(campaign_gid)
    assert {k: getattr(campaign, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(campaign)


# --- create -------------------------------------------------------------------------------------


async def test_create_defaults_slug_goal_language_and_derived_persona(gql, owner, project, product) -> None:
    campaign = await created(gql, owner, project, product)

    assert campaign["name"] == "Spring push" and campaign["slug"] == "spring-push"
    assert campaign["goal"] == {"key": "sales"}
    assert campaign["status"] == "DRAFT"
    assert campaign["communicationLanguage"] is None
    assert campaign["effectiveLanguage"] == "de"  # inherited from the product
    assert campaign["icp"] == {"goalKey": "sales", "status": "DRAFT"}  # derived because the product had none
    assert campaign["product"] == {"slug": "widget"}
    assert [campaign[k] for k in ("totalAccounts", "scoredAccounts", "approvedAccounts", "outreachedAccounts",
                                  "respondedAccounts", "responseRate", "staleScoreCount")] == [0] * 7
    assert await models.Persona.filter(product_id=product.id).count() == 1
    event = await models.AuditEvent.get(action="campaign.create")
    assert event.object_type.lower() == "campaign" and event.actor_id == owner.user.id


async def test_create_keeps_an_existing_persona_and_derives_one_for_another_goal(gql, owner, project, product):
    approved = await models.Persona.create(project=project, product=product, goal_key="sales", name="Ops buyers",
                                           status=PersonaStatus.APPROVED)
    sales = await created(gql, owner, project, product)
    assert sales["icp"] == {"goalKey": "sales", "status": "APPROVED"}
    assert (await models.Persona.get(id=approved.id)).version == approved.version

    press = await created(gql, owner, project, product, name="Launch coverage", goal="press",
                          communicationLanguage="FR")
    assert press["goal"] == {"key": "press"} and press["icp"] == {"goalKey": "press", "status": "DRAFT"}
    assert press["communicationLanguage"] == "fr" and press["effectiveLanguage"] == "fr"
    assert sorted(await models.Persona.filter(product_id=product.id).values_list("goal_key", flat=True)) == [
        "press", "sales"]


async def test_slug_collisions_are_suffixed_within_the_project_only(gql, owner, project, product, make_project):
    slugs = [(await created(gql, owner, project, product))["slug"] for _ in range(3)]
    assert slugs == ["spring-push", "spring-push-2", "spring-push-3"]

    other = await make_project(owner, "Other project")
    other_product = await models.Product.create(project=other, name="Gadget", slug="gadget")
    assert (await created(gql, owner, other, other_product))["slug"] == "spring-push"


async def test_create_refuses_archived_product_unknown_goal_and_blank_name(gql, owner, project, product) -> None:
    from datetime import UTC, datetime

    product.archived_at = datetime.now(UTC)
    await product.save()
    payload = await create(gql, owner, project, product, goal="nope", name="  ")
    assert payload["campaign"] is None
    by_field = {e["field"]: e for e in payload["errors"]}
    assert set(by_field) == {"input.productId", "input.goal", "input.name"}
    assert "archived" in by_field["input.productId"]["message"]
    assert "Unknown goal 'nope'" in by_field["input.goal"]["message"]
    assert all(e["code"] == "INVALID" for e in payload["errors"])
    assert await models.Campaign.all().count() == 0
    assert await models.Persona.all().count() == 0


async def test_viewer_cannot_create(gql, owner, project, product, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await create(gql, viewer, project, product)
    assert payload["campaign"] is None and [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await models.Campaign.all().count() == 0


# --- update -------------------------------------------------------------------------------------


async def test_rename_rederives_the_slug_and_other_fields_keep_it(gql, owner, project, product) -> None:
    first = await created(gql, owner, project, product)
    await created(gql, owner, project, product, name="Autumn push")
    renamed = await update(gql, owner, first["id"], name="Autumn push")
    assert renamed["errors"] == []
    assert renamed["campaign"]["slug"] == "autumn-push-2" and renamed["campaign"]["name"] == "Autumn push"

    same = await update(gql, owner, first["id"], name="Autumn push", description="Now with details",
                        keywords=["ops", "saas"])
    assert same["campaign"]["slug"] == "autumn-push-2"
    assert same["campaign"]["description"] == "Now with details" and same["campaign"]["keywords"] == ["ops", "saas"]

    back = await update(gql, owner, first["id"], name="Spring push")
    assert back["campaign"]["slug"] == "spring-push"  # its own old slug is free again
    cleared = await update(gql, owner, first["id"], name=None)
    assert [(e["code"], e["field"]) for e in cleared["errors"]] == [("INVALID", "input.name")]


async def test_status_is_a_hint_any_move_is_allowed(gql, owner, project, product) -> None:
    campaign = await created(gql, owner, project, product)
    for status in ("COMPLETED", "DRAFT", "OUTREACH", "PAUSED", "SCORING", "ICP_DEFINITION"):
        payload = await update(gql, owner, campaign["id"], status=status)
        assert payload["errors"] == [] and payload["campaign"]["status"] == status


async def test_language_can_be_set_and_cleared_to_inherit(gql, owner, project, product) -> None:
    campaign = await created(gql, owner, project, product, communicationLanguage="es")
    assert campaign["effectiveLanguage"] == "es"
    payload = await update(gql, owner, campaign["id"], communicationLanguage=None)
    assert payload["campaign"]["communicationLanguage"] is None
    assert payload["campaign"]["effectiveLanguage"] == "de"


async def test_goal_switch_keeps_scores_and_scored_follows_the_new_goal(gql, owner, project, product) -> None:
    campaign = await created(gql, owner, project, product)
    accounts = [await models.Account.create(project=project, name=f"A{i}") for i in range(4)]
    # a0: sales + press scores, a1: sales only, a2: press only, a3: unscored
    for account, goal, score in ((accounts[0], "sales", 8.0), (accounts[0], "press", 3.0),
                                 (accounts[1], "sales", 6.0), (accounts[2], "press", 9.0)):
        await models.FitScore.create(project=project, product=product, account=account, goal_key=goal, score=score,
                                     band=Band.EXCELLENT if score >= 8 else Band.MODERATE, scorer="test")
    added = data_of(await gql(ADD, {"input": {"campaignId": campaign["id"],
                                              "accountIds": [global_id("Account", a.id) for a in accounts]}},
                              as_=owner))["addAccountsToCampaign"]
    assert added == {"added": 4, "errors": []}
    before = data_of(await gql(UPDATE, {"input": {"id": campaign["id"]}}, as_=owner))["updateCampaign"]["campaign"]
    assert (before["scoredAccounts"], before["staleScoreCount"]) == (2, 1)  # a2 only has a press score

    switched = await update(gql, owner, campaign["id"], goal="press")
    assert switched["errors"] == []
    after = switched["campaign"]
    assert after["goal"] == {"key": "press"}
    assert after["icp"] == {"goalKey": "press", "status": "DRAFT"}
    assert after["scoredAccounts"] == 2  # a0, a2
    assert after["staleScoreCount"] == 1  # a1: only a sales score
    assert after["totalAccounts"] == 4
    assert await models.FitScore.all().count() == 4  # nothing deleted
    await assert_stats_exact(campaign["id"])
    event = await models.AuditEvent.filter(action="campaign.switch_goal").get()
    assert event.before == {"goal_key": "sales", "scored_accounts": 2} or event.before["goal_key"] == "sales"

    unknown = await update(gql, owner, campaign["id"], goal="nope")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("INVALID", "input.goal")]
    assert (await row(campaign["id"])).goal_key == "press"


# --- archive ------------------------------------------------------------------------------------


async def test_archive_hides_from_the_list_and_keeps_everything(gql, owner, project, product) -> None:
    kept = await created(gql, owner, project, product, name="Kept")
    hidden = await created(gql, owner, project, product, name="Hidden")
    account = await models.Account.create(project=project, name="Acme")
    data_of(await gql(ADD, {"input": {"campaignId": hidden["id"], "accountIds": [global_id("Account", account.id)]}},
                      as_=owner))

    archived = data_of(await gql(ARCHIVE, {"input": {"id": hidden["id"]}}, as_=owner))["archiveCampaign"]
    assert archived["errors"] == [] and archived["campaign"]["archivedAt"] is not None
    again = data_of(await gql(ARCHIVE, {"input": {"id": hidden["id"]}}, as_=owner))["archiveCampaign"]
    assert again["campaign"]["archivedAt"] == archived["campaign"]["archivedAt"]  # idempotent

    default = data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["campaigns"]
    assert default["totalCount"] == 1 and [e["node"]["slug"] for e in default["edges"]] == [kept["slug"]]
    every = data_of(await gql(LIST, {"slug": project.slug, "filter": {"includeArchived": True}},
                              as_=owner))["project"]["campaigns"]
    assert {e["node"]["slug"] for e in every["edges"]} == {"kept", "hidden"}
    by_slug = data_of(await gql('query($s: String!) { project(slug: $s) { campaign(slug: "hidden") '
                                "{ totalAccounts archivedAt } } }", {"s": project.slug}, as_=owner))
    assert by_slug["project"]["campaign"]["totalAccounts"] == 1
    assert await models.CampaignAccount.filter(campaign__slug="hidden").count() == 1

    shown = data_of(await gql(UNARCHIVE, {"input": {"id": hidden["id"]}}, as_=owner))["unarchiveCampaign"]
    assert shown["errors"] == [] and shown["campaign"]["archivedAt"] is None
    default = data_of(await gql(LIST, {"slug": project.slug}, as_=owner))["project"]["campaigns"]
    assert default["totalCount"] == 2
    actions = await models.AuditEvent.filter(action__in=["campaign.archive", "campaign.unarchive"]).order_by(
        "id").values_list("action", flat=True)
    assert actions == ["campaign.archive", "campaign.unarchive"]


# --- delete -------------------------------------------------------------------------------------


async def _populated(gql: Any, owner: Person, project: models.Project, product: models.Product
                     ) -> tuple[dict[str, Any], list[models.Account]]:
    campaign = await created(gql, owner, project, product)
    accounts = [await models.Account.create(project=project, name=f"Acct {i}", status=AccountStatus.NEW)
                for i in range(3)]
    for account in accounts:
        await models.FitScore.create(project=project, product=product, account=account, goal_key="sales", score=7.0,
                                     band=Band.MODERATE, scorer="test")
    data_of(await gql(ADD, {"input": {"campaignId": campaign["id"],
                                      "accountIds": [global_id("Account", a.id) for a in accounts]}}, as_=owner))
    ca = await models.CampaignAccount.filter(account_id=accounts[0].id).get()
    await models.CampaignAccountTag.create(campaign_account=ca, campaign_id=ca.campaign_id, tag="hot")
    await models.Message.create(project=project, campaign_account=ca, direction=Direction.OUTBOUND,
                                status=MessageStatus.SENT, mode=MessageMode.LOG_SENT, original_text="Hi")
    await models.Expense.create(project=project, campaign_id=ca.campaign_id, kind=ExpenseKind.AGENCY,
                                amount=Decimal("100.00"), currency="EUR", incurred_on=date(2024, 1, 1))
    return campaign, accounts


async def test_delete_requires_the_name_typed_back(gql, owner, project, product) -> None:
    campaign, _ = await _populated(gql, owner, project, product)
    for wrong in ("spring push", "Spring", ""):
        payload = data_of(await gql(DELETE, {"input": {"id": campaign["id"], "confirmName": wrong}},
                                    as_=owner))["deleteCampaign"]
        assert payload["deletedCampaignId"] is None
        [error] = payload["errors"]
        assert (error["code"], error["field"]) == ("INVALID", "input.confirmName")
        assert "'Spring push'" in error["message"]
    assert await models.Campaign.all().count() == 1
    assert await models.CampaignAccount.all().count() == 3


async def test_delete_removes_its_own_rows_never_accounts_or_scores(gql, owner, project, product) -> None:
    campaign, accounts = await _populated(gql, owner, project, product)
    other = await created(gql, owner, project, product, name="Other")
    data_of(await gql(ADD, {"input": {"campaignId": other["id"], "accountIds": [global_id("Account", accounts[0].id)]}},
                      as_=owner))

    payload = data_of(await gql(DELETE, {"input": {"id": campaign["id"], "confirmName": " Spring push "}},
                                as_=owner))["deleteCampaign"]
    assert payload == {"deletedCampaignId": campaign["id"], "errors": []}

    assert await models.Campaign.filter(slug="spring-push").count() == 0
    assert await models.CampaignAccount.all().count() == 1  # the other campaign's
    assert await models.CampaignAccountTag.all().count() == 0
    assert await models.Message.all().count() == 0
    assert await models.Expense.all().count() == 0
    assert await models.Account.all().count() == 3
    assert await models.FitScore.all().count() == 3
    event = await models.AuditEvent.get(action="campaign.delete")
    assert event.actor_id == owner.user.id
    assert event.before["name"] == "Spring push" and event.before["total_accounts"] == 3
    await assert_stats_exact(other["id"])

    gone = data_of(await gql(DELETE, {"input": {"id": campaign["id"], "confirmName": "Spring push"}},
                             as_=owner))["deleteCampaign"]
    assert [(e["code"], e["field"]) for e in gone["errors"]] == [("NOT_FOUND", "input.id")]


# --- reads across projects ----------------------------------------------------------------------


async def test_campaigns_of_another_project_are_invisible(gql, owner, project, product, make_user, make_project):
    mine = await created(gql, owner, project, product)
    stranger = await make_user("stranger@example.com")
    theirs_project = await make_project(stranger, "Theirs")
    theirs_product = await models.Product.create(project=theirs_project, name="P", slug="p")
    theirs = await created(gql, stranger, theirs_project, theirs_product, name="Secret")

    query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    nodes = data_of(await gql(query, {"ids": [mine["id"], theirs["id"], global_id("Campaign", 987_654)]},
                              as_=owner))["nodes"]
    assert nodes == [{"__typename": "Campaign", "id": mine["id"]}, None, None]
    by_slug = data_of(await gql('query($s: String!) { project(slug: $s) { campaign(slug: "secret") { id } } }',
                                {"s": theirs_project.slug}, as_=owner))
    assert by_slug["project"] is None
    # their campaign is not in my list either
    listed = data_of(await gql(LIST, {"slug": project.slug, "filter": {"includeArchived": True}},
                               as_=owner))["project"]["campaigns"]
    assert [e["node"]["slug"] for e in listed["edges"]] == ["spring-push"]


# --- list filters -------------------------------------------------------------------------------


async def test_the_list_filters_by_product_and_market(gql, owner, project, product, make_user, make_project):
    other_product = await models.Product.create(project=project, name="Gadget", slug="gadget")
    east = await models.Market.create(project=project, name="East", slug="east")
    west = await models.Market.create(project=project, name="West", slug="west")
    await created(gql, owner, project, product, name="Widget east", marketId=global_id("Market", east.id))
    await created(gql, owner, project, product, name="Widget west", marketId=global_id("Market", west.id))
    await created(gql, owner, project, other_product, name="Gadget east", marketId=global_id("Market", east.id))
    await created(gql, owner, project, other_product, name="Gadget nowhere")
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_product = await models.Product.create(project=theirs, name="P", slug="p")
    their_market = await models.Market.create(project=theirs, name="Far", slug="far")

    async def slugs(**flt: Any) -> set[str]:
        listed = data_of(await gql(LIST, {"slug": project.slug, "filter": flt}, as_=owner))["project"]["campaigns"]
        assert listed["totalCount"] == len(listed["edges"])
        return {e["node"]["slug"] for e in listed["edges"]}

    assert await slugs(productId=global_id("Product", product.id)) == {"widget-east", "widget-west"}
    assert await slugs(productId=global_id("Product", other_product.id)) == {"gadget-east", "gadget-nowhere"}
    assert await slugs(marketId=global_id("Market", east.id)) == {"widget-east", "gadget-east"}
    assert await slugs(productId=global_id("Product", other_product.id),
                       marketId=global_id("Market", east.id)) == {"gadget-east"}
    # an id of another type, of another project's row, or of no row matches nothing (it is not "no filter")
    for flt in ({"productId": global_id("Market", east.id)}, {"marketId": global_id("Product", product.id)},
                {"productId": global_id("Product", their_product.id)},
                {"marketId": global_id("Market", their_market.id)}, {"marketId": global_id("Market", 987_654)}):
        assert await slugs(**flt) == set(), flt


async def test_a_slug_longer_than_any_names_nothing(gql, owner, project, product) -> None:
    long = "x" * 101  # slugs are at most 100 characters: the lookups answer null, not an error
    query = """query($slug: String!, $long: String!) { project(slug: $slug) {
        product(slug: $long) { id } campaign(slug: $long) { id } } long: project(slug: $long) { id } }"""
    result = await gql(query, {"slug": project.slug, "long": long}, as_=owner)
    assert "errors" not in result, result
    assert result["data"] == {"project": {"product": None, "campaign": None}, "long": None}
