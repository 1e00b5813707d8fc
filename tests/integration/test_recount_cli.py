"""``outboundql recount``: repairs drifted campaign statistics and reports them, run as a real process
on a SQLite file of a temporary directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from outboundql import enums, models
from outboundql.goals.testing import registry_with
from outboundql.models.config import tortoise_config
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import products as products_service
from outboundql.services.access import Access
from outboundql.services.projects import CreateProject, create_project
from tests.integration.conftest import child_env, run_cli

pytestmark = pytest.mark.integration  # real processes (no services needed: SQLite in a temp directory)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'x.db'}"


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    return child_env(OUTBOUNDQL_DATABASE_URL=db_url)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


async def _seed(db_url: str) -> dict[str, int]:
    """Two projects with a campaign each (3 accounts, 1 approved); then their cached stats drift, and so do their
    kept account counts (Alpha's row is gone, Beta's says 7) and Beta's threads' attention."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(db_url))
        user = await models.User.create(email="ada@example.com", name="Ada")
        ids = {}
        for name in ("Alpha", "Beta"):
            access = await Access.for_user(user)
            project = (await create_project(access, CreateProject(name=name))).project
            product = (await products_service.create_product(
                access, products_service.CreateProduct(project_id=project.id, name=f"{name} product"))).product
            campaign = (await campaigns_service.create_campaign(
                access, registry_with(),
                campaigns_service.CreateCampaign(project_id=project.id, product_id=product.id, name=f"{name} push"),
            )).campaign
            account_ids = [(await accounts_service.create_account(
                access, accounts_service.CreateAccount(project_id=project.id, name=f"{name} {i}")))
                           .account.id for i in range(3)]
            await ca_service.add_accounts(access, registry_with(),
                                          ca_service.AddAccountsToCampaign(campaign.id, account_ids))
            first = await models.CampaignAccount.filter(campaign_id=campaign.id).order_by("id").first()
            assert first is not None
            await ca_service.review(access, ca_service.ReviewCampaignAccounts([first.id], enums.ReviewStatus.APPROVED))
            ids[name] = campaign.id
        await models.Campaign.filter(id=ids["Alpha"]).update(total_accounts=5, approved_accounts=0)
        await models.Campaign.filter(id=ids["Beta"]).update(total_accounts=9)
        await models.ProjectCounts.filter(project__slug="alpha").delete()
        await models.ProjectCounts.filter(project__slug="beta").update(accounts=7)
        await models.CampaignAccount.filter(campaign_id=ids["Beta"]).update(attention_level=3)  # no message says so
        return ids


async def _account_counts(db_url: str) -> dict[str, int]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(db_url))
        return dict(await models.ProjectCounts.all().values_list("project__slug", "accounts"))


async def _counters(db_url: str, campaign_id: int) -> tuple[int, int]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(db_url))
        row = await models.Campaign.get(id=campaign_id)
        return row.total_accounts, row.approved_accounts


async def test_recount_repairs_and_reports_every_drifted_campaign(tmp_path: Path, env: dict[str, str],
                                                                  db_url: str) -> None:
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    ids = await _seed(db_url)

    out = _ok(run_cli("recount", cwd=tmp_path, env=env))
    assert out.splitlines() == [
        "alpha-push (project alpha): total_accounts 5→3, approved_accounts 0→1",
        "beta-push (project beta): total_accounts 9→3",
        "project alpha: accounts 0→3",
        "project beta: accounts 7→3",
        "2 campaigns checked, 2 repaired; account counts of 2 projects checked, 2 repaired; "
        "attention of 3 threads repaired",
    ]
    assert await _counters(db_url, ids["Alpha"]) == (3, 1)
    assert await _counters(db_url, ids["Beta"]) == (3, 1)
    assert await _account_counts(db_url) == {"alpha": 3, "beta": 3}

    assert _ok(run_cli("recount", cwd=tmp_path, env=env)) == (
        "2 campaigns checked, 0 repaired; account counts of 2 projects checked, 0 repaired; "
        "attention of 0 threads repaired\n")


async def test_recount_one_project(tmp_path: Path, env: dict[str, str], db_url: str) -> None:
    _ok(run_cli("migrate", cwd=tmp_path, env=env))
    ids = await _seed(db_url)

    out = _ok(run_cli("recount", "--project", "beta", cwd=tmp_path, env=env))
    assert out.splitlines() == ["beta-push (project beta): total_accounts 9→3", "project beta: accounts 7→3",
                                "1 campaigns checked, 1 repaired; account counts of 1 projects checked, 1 repaired; "
                                "attention of 3 threads repaired"]
    assert await _counters(db_url, ids["Alpha"]) == (5, 0)  # other projects untouched
    assert await _counters(db_url, ids["Beta"]) == (3, 1)
    assert await _account_counts(db_url) == {"beta": 3}


def test_recount_of_an_unknown_project_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_cli("recount", "--project", "nope", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "no project with slug 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_recount_of_an_empty_database(tmp_path: Path, env: dict[str, str]) -> None:
    assert _ok(run_cli("recount", cwd=tmp_path, env=env)) == (
        "0 campaigns checked, 0 repaired; account counts of 0 projects checked, 0 repaired; "
        "attention of 0 threads repaired\n")
