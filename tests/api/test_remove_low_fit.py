"""removeLowFitAccounts: a dry run counts the campaign's mismatch rows (effective score below 5, unscored
rows kept) and answers a token bound to exactly that set; confirming with it removes that set and nothing
else, moving the cached counters, or is refused when the campaign changed since."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import (
    Band,
    Direction,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    ReviewStatus,
    Role,
)
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_stats, external_scores, low_fit
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from tests.helpers import Person, data_of, global_id

REMOVE = """
mutation($input: RemoveLowFitAccountsInput!) {
  removeLowFitAccounts(input: $input) {
    campaign { id totalAccounts scoredAccounts approvedAccounts outreachedAccounts respondedAccounts }
    wouldRemove removed keptApproved keptOutreachStarted confirmToken
    errors { code field message }
  }
}
"""

ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) { added errors { code field message } }
}
"""

REVIEW = """
mutation($input: ReviewCampaignAccountsInput!) {
  reviewCampaignAccounts(input: $input) { changedCount errors { code field message } }
}
"""

OVERRIDE = """
mutation($input: SetOverrideScoreInput!) {
  setOverrideScore(input: $input) { campaignAccount { id } errors { code field message } }
}
"""

# name: (current-goal score, other-goal score, override, review, outreach)
ROWS: dict[str, tuple[float | None, float | None, float | None, ReviewStatus, OutreachStatus]] = {
    "mismatch": (2.0, None, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "edge": (4.9, None, None, ReviewStatus.REJECTED, OutreachStatus.NOT_STARTED),
    "five": (5.0, None, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "moderate": (6.5, None, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "excellent": (9.1, None, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "unscored": (None, None, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "stale": (None, 1.0, None, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "override_low": (9.0, None, 3.0, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "override_only_low": (None, None, 2.5, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "override_high": (1.0, None, 7.0, ReviewStatus.PENDING, OutreachStatus.NOT_STARTED),
    "approved": (1.0, None, None, ReviewStatus.APPROVED, OutreachStatus.NOT_STARTED),
    "started": (3.0, None, None, ReviewStatus.PENDING, OutreachStatus.SENT),
    "drafted": (0.5, None, None, ReviewStatus.PENDING, OutreachStatus.DRAFT),
    "approved_started": (1.5, None, None, ReviewStatus.APPROVED, OutreachStatus.RESPONDED),
}
TARGETED = {"mismatch", "edge", "override_low", "override_only_low"}
KEPT_APPROVED = {"approved", "approved_started"}
KEPT_STARTED = {"started", "drafted"}


@dataclass
class Setup:
    owner: Person
    project: models.Project
    product: models.Product
    campaign: models.Campaign
    rows: dict[str, models.CampaignAccount]
    accounts: dict[str, models.Account]

    @property
    def gid(self) -> str:
        return global_id("Campaign", self.campaign.id)

    def ids(self, names: set[str]) -> set[int]:
        return {self.rows[n].id for n in names}


def band(score: float) -> Band:
    return Band.MISMATCH if score < 5 else Band.MODERATE if score < 8 else Band.EXCELLENT


async def score(project: models.Project, product: models.Product, account: models.Account, goal: str,
                value: float) -> models.FitScore:
    return await models.FitScore.create(project=project, product=product, account=account, goal_key=goal,
                                        score=value, band=band(value), scorer="rubric")


async def build(owner: Person, project: models.Project, tag: str = "a") -> Setup:
    access = await Access.for_user(owner.user)
    product = (await products_service.create_product(
        access, products_service.CreateProduct(project_id=project.id, name=f"Widget {tag}"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=f"Spring {tag}", goal="sales"))).campaign
    rows: dict[str, models.CampaignAccount] = {}
    accounts: dict[str, models.Account] = {}
    for name, (ai, other, override, review, outreach) in ROWS.items():
        account = await models.Account.create(project=project, name=f"{name} {tag}", domain=f"{name}-{tag}.example")
        accounts[name] = account
        if ai is not None:
            await score(project, product, account, "sales", ai)
        if other is not None:
            await score(project, product, account, "press", other)
        rows[name] = await models.CampaignAccount.create(campaign=campaign, account=account, override_score=override,
                                                         review_status=review, outreach_status=outreach)
    await campaign_stats.recount([campaign.id])
    campaign = await models.Campaign.get(id=campaign.id)
    return Setup(owner, project, product, campaign, rows, accounts)


@pytest.fixture
async def setup(owner: Person, project: models.Project) -> Setup:
    return await build(owner, project)


async def remove(gql: Any, s: Setup, as_: Person | None = None, **options: Any) -> dict[str, Any]:
    result = await gql(REMOVE, {"input": {"campaignId": s.gid, **options}}, as_=as_ or s.owner)
    return data_of(result)["removeLowFitAccounts"]


async def remaining(s: Setup) -> set[int]:
    return set(await models.CampaignAccount.filter(campaign_id=s.campaign.id).values_list("id", flat=True))


async def assert_stats_exact(s: Setup) -> dict[str, int]:
    campaign = await models.Campaign.get(id=s.campaign.id)
    exact = await campaign_stats.exact(campaign)
    assert {k: getattr(campaign, k) for k in campaign_stats.COUNTERS} == exact
    return exact


# --- dry run ------------------------------------------------------------------------------------


async def test_dry_run_counts_only_the_mismatch_band_and_changes_nothing(gql, setup: Setup) -> None:
    before_rows = await remaining(setup)
    events = await models.AuditEvent.filter(action="campaign.remove_low_fit").count()

    payload = await remove(gql, setup)

    assert payload["errors"] == []
    assert payload["wouldRemove"] == len(TARGETED)
    assert payload["keptApproved"] == len(KEPT_APPROVED)
    assert payload["keptOutreachStarted"] == len(KEPT_STARTED)
    assert payload["removed"] == 0
    assert payload["campaign"]["id"] == setup.gid
    assert payload["campaign"]["totalAccounts"] == len(ROWS)
    assert payload["confirmToken"] == low_fit.confirm_token(
        setup.campaign.id, low_fit.Options(), sorted(setup.ids(TARGETED)))
    assert await remaining(setup) == before_rows
    assert await models.AuditEvent.filter(action="campaign.remove_low_fit").count() == events


async def test_dry_runs_are_idempotent(gql, setup: Setup) -> None:
    first = await remove(gql, setup)
    second = await remove(gql, setup, dryRun=True)
    assert first == second
    assert first["confirmToken"]


async def test_token_depends_on_the_options(gql, setup: Setup) -> None:
    default = await remove(gql, setup)
    no_approved = await remove(gql, setup, keepApproved=False)
    neither = await remove(gql, setup, keepApproved=False, keepOutreachStarted=False)

    # Without keepApproved, an approved row whose outreach started is kept as started instead.
    assert (no_approved["wouldRemove"], no_approved["keptApproved"], no_approved["keptOutreachStarted"]) == (
        len(TARGETED) + 1, 0, len(KEPT_STARTED) + 1)
    assert (neither["wouldRemove"], neither["keptApproved"], neither["keptOutreachStarted"]) == (
        len(TARGETED | KEPT_APPROVED | KEPT_STARTED), 0, 0)
    assert len({default["confirmToken"], no_approved["confirmToken"], neither["confirmToken"]}) == 3

    # A token confirms only the options it was made with.
    refused = await remove(gql, setup, dryRun=False, confirmToken=default["confirmToken"], keepApproved=False)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CONFLICT", "input.confirmToken")]
    assert len(await remaining(setup)) == len(ROWS)


# --- confirm ------------------------------------------------------------------------------------


async def test_confirm_removes_exactly_the_dry_run_set(gql, setup: Setup) -> None:
    target = setup.rows["mismatch"]
    await models.CampaignAccountTag.create(campaign_account=target, campaign=setup.campaign, tag="cold")
    await models.Message.create(project=setup.project, campaign_account=target, direction=Direction.OUTBOUND,
                                status=MessageStatus.DRAFT, mode=MessageMode.AI_DRAFT, original_text="Hi")
    kept_tag = await models.CampaignAccountTag.create(campaign_account=setup.rows["moderate"],
                                                      campaign=setup.campaign, tag="warm")
    scores_before = sorted(await models.FitScore.all().values_list("id", "score"))
    accounts_before = await models.Account.all().count()
    dry = await remove(gql, setup)

    payload = await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"])

    assert payload["errors"] == []
    assert payload["removed"] == len(TARGETED)
    assert payload["confirmToken"] is None
    assert (payload["keptApproved"], payload["keptOutreachStarted"]) == (len(KEPT_APPROVED), len(KEPT_STARTED))
    assert await remaining(setup) == setup.ids(set(ROWS) - TARGETED)
    # Only this campaign's rows go: accounts and every fit score stay.
    assert await models.Account.all().count() == accounts_before
    assert sorted(await models.FitScore.all().values_list("id", "score")) == scores_before
    assert not await models.CampaignAccountTag.filter(campaign_account_id=target.id).exists()
    assert not await models.Message.filter(campaign_account_id=target.id).exists()
    assert await models.CampaignAccountTag.filter(id=kept_tag.id).exists()
    # The cached counters moved in the same transaction.
    exact = await assert_stats_exact(setup)
    assert payload["campaign"]["totalAccounts"] == exact["total_accounts"] == len(ROWS) - len(TARGETED)
    assert payload["campaign"]["scoredAccounts"] == exact["scored_accounts"]


async def test_confirm_with_both_protections_off(gql, setup: Setup) -> None:
    options = {"keepApproved": False, "keepOutreachStarted": False}
    dry = await remove(gql, setup, **options)
    payload = await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"], **options)

    gone = TARGETED | KEPT_APPROVED | KEPT_STARTED
    assert payload["errors"] == []
    assert payload["removed"] == len(gone)
    assert (payload["keptApproved"], payload["keptOutreachStarted"]) == (0, 0)
    assert await remaining(setup) == setup.ids(set(ROWS) - gone)
    exact = await assert_stats_exact(setup)
    assert {k: v for k, v in exact.items() if not k.startswith("score_bucket_")} == {
        "total_accounts": len(ROWS) - len(gone), "scored_accounts": 4, "approved_accounts": 0,
        "outreached_accounts": 0, "responded_accounts": 0, "stale_score_count": 1}
    # Approved, outreached and responded counters moved with the removed rows.
    assert payload["campaign"]["approvedAccounts"] == 0
    assert payload["campaign"]["outreachedAccounts"] == 0
    assert payload["campaign"]["respondedAccounts"] == 0


async def test_confirm_is_audited(gql, setup: Setup) -> None:
    options = {"keepOutreachStarted": False}
    dry = await remove(gql, setup, **options)
    await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"], **options)

    event = await models.AuditEvent.get(action="campaign.remove_low_fit")
    assert (event.object_type, event.object_id, event.project_id) == ("Campaign", setup.campaign.id,
                                                                        setup.project.id)
    assert event.actor_id == setup.owner.user.id
    assert sorted(event.after["campaign_account_ids"]) == sorted(setup.ids(TARGETED | KEPT_STARTED))
    assert event.after["removed"] == len(TARGETED | KEPT_STARTED)
    assert (event.after["keep_approved"], event.after["keep_outreach_started"]) == (True, False)


async def test_confirm_without_a_token_is_invalid(gql, setup: Setup) -> None:
    for token in (None, "", "  "):
        payload = await remove(gql, setup, dryRun=False, confirmToken=token)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.confirmToken")]
        assert payload["removed"] == 0
    assert len(await remaining(setup)) == len(ROWS)


async def test_a_reused_token_is_refused_after_success(gql, setup: Setup) -> None:
    dry = await remove(gql, setup)
    assert (await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"]))["removed"] == len(TARGETED)

    again = await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"])

    assert [(e["code"], e["field"]) for e in again["errors"]] == [("CONFLICT", "input.confirmToken")]
    assert "dry run" in again["errors"][0]["message"]
    assert again["removed"] == 0
    # The set is now empty; a fresh dry run says so, and confirming it removes nothing.
    fresh = await remove(gql, setup)
    assert fresh["wouldRemove"] == 0
    done = await remove(gql, setup, dryRun=False, confirmToken=fresh["confirmToken"])
    assert (done["errors"], done["removed"]) == ([], 0)
    assert await remaining(setup) == setup.ids(set(ROWS) - TARGETED)
    await assert_stats_exact(setup)


# --- a changed campaign refuses the token -------------------------------------------------------


async def _new_mismatch_row(gql: Any, s: Setup) -> None:
    account = await models.Account.create(project=s.project, name="Latecomer", domain="late.example")
    await score(s.project, s.product, account, "sales", 1.0)
    payload = data_of(await gql(ADD, {"input": {"campaignId": s.gid, "accountIds": [global_id("Account", account.id)]}},
                                as_=s.owner))["addAccountsToCampaign"]
    assert (payload["errors"], payload["added"]) == ([], 1)


async def _approve_a_target(gql: Any, s: Setup) -> None:
    payload = data_of(await gql(REVIEW, {"input": {
        "campaignAccountIds": [global_id("CampaignAccount", s.rows["mismatch"].id)], "decision": "APPROVED"}},
        as_=s.owner))["reviewCampaignAccounts"]
    assert payload["changedCount"] == 1


async def _unapprove_a_kept_row(gql: Any, s: Setup) -> None:
    payload = data_of(await gql(REVIEW, {"input": {
        "campaignAccountIds": [global_id("CampaignAccount", s.rows["approved"].id)], "decision": "PENDING"}},
        as_=s.owner))["reviewCampaignAccounts"]
    assert payload["changedCount"] == 1


async def _override_a_moderate_row(gql: Any, s: Setup) -> None:
    payload = data_of(await gql(OVERRIDE, {"input": {
        "campaignAccountId": global_id("CampaignAccount", s.rows["moderate"].id), "score": 1.5}},
        as_=s.owner))["setOverrideScore"]
    assert payload["errors"] == []


async def _rescore_a_target_up(gql: Any, s: Setup) -> None:
    await external_scores.attach(s.campaign, {s.accounts["mismatch"].id: external_scores.ExternalScore(7.0)},
                                 scale=10)


@pytest.mark.parametrize("change", [_new_mismatch_row, _approve_a_target, _unapprove_a_kept_row,
                                    _override_a_moderate_row, _rescore_a_target_up],
                         ids=lambda f: f.__name__.strip("_"))
async def test_token_is_refused_after_the_campaign_changed(gql, setup: Setup, change: Any) -> None:
    dry = await remove(gql, setup)
    await change(gql, setup)
    before = await remaining(setup)
    events = await models.AuditEvent.filter(action="campaign.remove_low_fit").count()

    payload = await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"])

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", "input.confirmToken")]
    assert "changed since the dry run" in payload["errors"][0]["message"]
    assert payload["removed"] == 0
    assert await remaining(setup) == before
    assert await models.AuditEvent.filter(action="campaign.remove_low_fit").count() == events
    await assert_stats_exact(setup)
    # A new dry run gives a new token, which works.
    fresh = await remove(gql, setup)
    assert fresh["confirmToken"] != dry["confirmToken"]
    done = await remove(gql, setup, dryRun=False, confirmToken=fresh["confirmToken"])
    assert (done["errors"], done["removed"]) == ([], fresh["wouldRemove"])
    await assert_stats_exact(setup)


async def test_a_change_outside_the_set_keeps_the_token_valid(gql, setup: Setup) -> None:
    """The token is bound to the set, not to the whole campaign: approving an excellent row is no change."""
    dry = await remove(gql, setup)
    await gql(REVIEW, {"input": {"campaignAccountIds": [global_id("CampaignAccount", setup.rows["excellent"].id)],
                                 "decision": "APPROVED"}}, as_=setup.owner)
    payload = await remove(gql, setup, dryRun=False, confirmToken=dry["confirmToken"])
    assert (payload["errors"], payload["removed"]) == ([], len(TARGETED))


async def test_a_token_of_another_campaign_is_refused(gql, owner: Person, project: models.Project,
                                                      setup: Setup) -> None:
    other = await build(owner, project, "b")
    other_dry = await remove(gql, other)
    mine_dry = await remove(gql, setup)
    assert other_dry["wouldRemove"] == mine_dry["wouldRemove"] > 0

    payload = await remove(gql, setup, dryRun=False, confirmToken=other_dry["confirmToken"])

    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", "input.confirmToken")]
    assert len(await remaining(setup)) == len(ROWS)
    assert len(await remaining(other)) == len(ROWS)


async def test_an_empty_campaign_has_nothing_to_remove(gql, owner: Person, project: models.Project) -> None:
    access = await Access.for_user(owner.user)
    product = (await products_service.create_product(
        access, products_service.CreateProduct(project_id=project.id, name="Empty"))).product
    campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Empty"))).campaign
    gid = global_id("Campaign", campaign.id)
    dry = data_of(await gql(REMOVE, {"input": {"campaignId": gid}}, as_=owner))["removeLowFitAccounts"]
    assert (dry["wouldRemove"], dry["keptApproved"], dry["keptOutreachStarted"]) == (0, 0, 0)
    done = data_of(await gql(REMOVE, {"input": {"campaignId": gid, "dryRun": False,
                                                "confirmToken": dry["confirmToken"]}}, as_=owner))
    assert (done["removeLowFitAccounts"]["errors"], done["removeLowFitAccounts"]["removed"]) == ([], 0)


# --- access -------------------------------------------------------------------------------------


async def test_viewer_is_forbidden_and_member_may(gql, setup: Setup, make_user, add_member) -> None:
    viewer = await make_user("viewer@example.com")
    member = await make_user("member@example.com")
    await add_member(viewer, setup.project, Role.VIEWER)
    await add_member(member, setup.project, Role.MEMBER)
    token = (await remove(gql, setup))["confirmToken"]

    for options in ({}, {"dryRun": False, "confirmToken": token}):
        payload = await remove(gql, setup, as_=viewer, **options)
        assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
        assert (payload["campaign"], payload["wouldRemove"], payload["confirmToken"]) == (None, 0, None)
    assert len(await remaining(setup)) == len(ROWS)

    dry = await remove(gql, setup, as_=member)
    assert dry["confirmToken"] == token
    done = await remove(gql, setup, as_=member, dryRun=False, confirmToken=token)
    assert (done["errors"], done["removed"]) == ([], len(TARGETED))


async def test_another_projects_campaign_is_not_found(gql, setup: Setup, make_user, make_project) -> None:
    outsider = await make_user("outsider@example.com")
    await make_project(outsider, "Outsider Inc")
    token = (await remove(gql, setup))["confirmToken"]
    expected = [{"code": "NOT_FOUND", "field": "input.campaignId", "message": "Campaign not found."}]

    for options in ({}, {"dryRun": False, "confirmToken": token}):
        payload = await remove(gql, setup, as_=outsider, **options)
        assert payload["errors"] == expected
        assert payload["campaign"] is None
        missing = data_of(await gql(REMOVE, {"input": {"campaignId": global_id("Campaign", 987_654), **options}},
                                    as_=outsider))["removeLowFitAccounts"]
        assert missing["errors"] == expected
        wrong_type = data_of(await gql(REMOVE, {"input": {"campaignId": global_id("Account", setup.accounts[
            "mismatch"].id), **options}}, as_=setup.owner))["removeLowFitAccounts"]
        assert wrong_type["errors"] == expected
    assert len(await remaining(setup)) == len(ROWS)
