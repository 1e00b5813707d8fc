"""project.explainGuardrails: the guardrail engine over stored accounts, through GraphQL."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Role, RoleKind
from tests.helpers import data_of, global_id, warm_up

EXPLAIN = """
query($slug: String!, $goal: String!, $ids: [ID!]!, $overrides: GuardrailOverrides) {
  project(slug: $slug) {
    explainGuardrails(goal: $goal, accountIds: $ids, overrides: $overrides) {
      admittedCount
      notFound
      accounts { verdict status message overrideFlag overridden account { id name } }
      blocked { reason status count accountIds message overrideFlag }
    }
  }
}
"""


@pytest.fixture
async def accounts(project: models.Project) -> dict[str, models.Account]:
    made = {}
    for status in ("new", "press", "competitor", "do_not_contact", "customer", "churned"):
        made[status] = await models.Account.create(project=project, name=f"{status} account",
                                                   status=AccountStatus(status))
    return made


async def explain(gql: Any, who: Any, project: models.Project, goal: str, ids: list[str],
                  overrides: dict[str, bool] | None = None) -> dict[str, Any]:
    variables = {"slug": project.slug, "goal": goal, "ids": ids, "overrides": overrides}
    return data_of(await gql(EXPLAIN, variables, as_=who))["project"]["explainGuardrails"]


def ids(accounts: dict[str, models.Account], *statuses: str) -> list[str]:
    return [global_id("Account", accounts[s].id) for s in statuses]


async def test_sales_blocks_by_the_matrix_and_groups_with_goal_phrased_messages(gql, owner, project, accounts):
    result = await explain(gql, owner, project, "sales", ids(accounts, *accounts))
    verdicts = {a["status"]: a["verdict"] for a in result["accounts"]}
    assert verdicts == {"new": "ADMITTED", "press": "SOFT_BLOCKED", "competitor": "HARD_BLOCKED",
                        "do_not_contact": "HARD_BLOCKED", "customer": "SOFT_BLOCKED", "churned": "ADMITTED"}
    assert [a["account"]["name"] for a in result["accounts"]] == [f"{s} account" for s in accounts]  # request order
    assert result["admittedCount"] == 2
    groups = {(g["reason"], g["status"]): g for g in result["blocked"]}
    assert list(groups) == [("hard_block", "competitor"), ("hard_block", "do_not_contact"),
                            ("soft_block", "customer"), ("soft_block", "press")]
    press = groups[("soft_block", "press")]
    assert press["count"] == 1 and press["accountIds"] == ids(accounts, "press")
    assert press["overrideFlag"] == "includePress"
    assert "Sales campaign soft-blocks press accounts; set includePress" in press["message"]
    assert "Press coverage" in press["message"]
    assert groups[("hard_block", "competitor")]["overrideFlag"] is None


async def test_override_admits_soft_but_never_hard(gql, owner, project, accounts):
    every_flag = {f: True for f in ("includeCustomers", "includeSuppliers", "includeInvestors", "includePress",
                                    "includeAnalysts", "includeCandidates")}
    result = await explain(gql, owner, project, "sales", ids(accounts, *accounts), every_flag)
    by_status = {a["status"]: a for a in result["accounts"]}
    assert by_status["press"]["verdict"] == "ADMITTED" and by_status["press"]["overridden"] is True
    assert by_status["customer"]["verdict"] == "ADMITTED"
    assert by_status["competitor"]["verdict"] == "HARD_BLOCKED"
    assert by_status["do_not_contact"]["verdict"] == "HARD_BLOCKED"
    assert [g["status"] for g in result["blocked"]] == ["competitor", "do_not_contact"]


async def test_goal_changes_the_target(gql, owner, project, accounts):
    press = await explain(gql, owner, project, "press", ids(accounts, "press"))
    assert press["accounts"][0]["verdict"] == "TARGET"
    win_back = await explain(gql, owner, project, "win_back", ids(accounts, "churned", "new"))
    assert [a["verdict"] for a in win_back["accounts"]] == ["TARGET", "ADMITTED"]


async def test_renewal_and_influencer_targets_use_account_facts(gql, owner, project, accounts):
    soon = accounts["customer"]
    soon.contract_end_date = date.today() + timedelta(days=30)
    await soon.save()
    later = await models.Account.create(project=project, name="later", status=AccountStatus.CUSTOMER,
                                        contract_end_date=date.today() + timedelta(days=400))
    result = await explain(gql, owner, project, "renewal", [global_id("Account", soon.id),
                                                              global_id("Account", later.id)])
    assert [a["verdict"] for a in result["accounts"]] == ["TARGET", "ADMITTED"]

    await models.Contact.create(project=project, account=accounts["new"], name="Creator",
                                role_kind=RoleKind.INFLUENCER)
    result = await explain(gql, owner, project, "influencer", ids(accounts, "new", "churned"))
    assert [a["verdict"] for a in result["accounts"]] == ["TARGET", "ADMITTED"]


async def test_other_projects_accounts_are_not_found(gql, owner, project, accounts, make_user, make_project):
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    foreign = await models.Account.create(project=theirs, name="foreign", status=AccountStatus.NEW)
    missing = global_id("Account", 999_999)
    wrong_type = global_id("Product", accounts["new"].id)
    result = await explain(gql, owner, project, "sales",
                           [*ids(accounts, "new"), global_id("Account", foreign.id), missing, wrong_type])
    assert [a["status"] for a in result["accounts"]] == ["new"]
    assert result["notFound"] == [global_id("Account", foreign.id), missing, wrong_type]


async def test_a_viewer_may_explain_and_a_stranger_sees_no_project(gql, owner, project, accounts, make_user,
                                                                   add_member):
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    assert (await explain(gql, viewer, project, "sales", ids(accounts, "new")))["admittedCount"] == 1
    stranger = await make_user("nobody@example.com")
    result = await gql(EXPLAIN, {"slug": project.slug, "goal": "sales", "ids": ids(accounts, "new")}, as_=stranger)
    assert data_of(result)["project"] is None


async def test_unknown_goal_is_a_clear_error(gql, owner, project, accounts):
    result = await gql(EXPLAIN, {"slug": project.slug, "goal": "nope", "ids": ids(accounts, "new")}, as_=owner)
    [error] = result["errors"]
    assert "Unknown goal 'nope'" in error["message"] and "sales" in error["message"]
    assert error["extensions"] == {"code": "INVALID", "field": "goal"}


async def test_cost_is_a_constant_number_of_queries(gql, owner, project, count_queries):
    made = [await models.Account.create(project=project, name=f"a{i}", status=AccountStatus.PRESS) for i in range(30)]
    for account in made:
        await models.Contact.create(project=project, account=account, name="c")

    async def selects(n: int) -> int:
        await warm_up(gql, owner)
        with count_queries() as q:
            await explain(gql, owner, project, "sales", [global_id("Account", a.id) for a in made[:n]])
        return q.selects

    assert await selects(3) == await selects(30)
