"""The example third-party plugin (examples/outboundql-goal-podcast) works exactly like a built-in goal.

Its entry point is made real package metadata without pip-installing anything: a
``outboundql_goal_podcast-0.1.0.dist-info`` directory, generated from the example's pyproject.toml,
is written into ``tmp_path`` and put on ``sys.path`` (and on ``PYTHONPATH`` for child processes),
next to the example's ``src/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import AccountStatus
from outboundql.goals.manager import collect_goals, make_plugin_manager
from outboundql.settings import Settings
from tests.helpers import Person, data_of, global_id
from tests.integration.conftest import COMMAND_TIMEOUT, child_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "outboundql-goal-podcast"
EXAMPLE_SRC = EXAMPLE / "src"
MODULE = "outboundql_goal_podcast"
SOURCE = "outboundql-goal-podcast 0.1.0"


def write_dist_info(directory: Path) -> Path:
    """``<name>-<version>.dist-info/{METADATA,entry_points.txt}`` for the example, from its pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    dist_info = directory / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    sections = []
    for group, entries in project["entry-points"].items():
        lines = "".join(f"{ep_name} = {target}\n" for ep_name, target in entries.items())
        sections.append(f"[{group}]\n{lines}")
    (dist_info / "entry_points.txt").write_text("\n".join(sections))
    return dist_info


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin, installed as far as importlib.metadata and the import system can tell."""
    write_dist_info(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(MODULE, None)  # the next test imports it afresh (or not at all)


@pytest.fixture
def plugin_env(installed: Path) -> dict[str, str]:
    """Environment for a child process that sees the example as installed (and no OUTBOUNDQL_* settings)."""
    paths = [str(installed), str(EXAMPLE_SRC), os.environ.get("PYTHONPATH", "")]
    return child_env(PYTHONPATH=os.pathsep.join(p for p in paths if p))


def test_generated_metadata_matches_the_pyproject(installed: Path) -> None:
    entry_points = (installed / "outboundql_goal_podcast-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert entry_points == "[outboundql.goals]\npodcast = outboundql_goal_podcast\n"


def test_plugin_manager_discovers_the_installed_example(installed: Path) -> None:
    pm = make_plugin_manager()
    plugin = pm.get_plugin("podcast")
    assert plugin is not None and plugin.__name__ == MODULE
    assert [(dist.project_name, dist.version) for p, dist in pm.list_plugin_distinfo() if p is plugin] == [
        ("outboundql-goal-podcast", "0.1.0")]
    registry = collect_goals(pm)
    assert registry.source("podcast") == SOURCE
    assert registry["podcast"].label == "Podcast guest"
    assert registry.source("sales") == "built-in"


def test_disabled_plugin_is_not_loaded(installed: Path) -> None:
    registry = collect_goals(make_plugin_manager(blocked=["podcast"]))
    assert "podcast" not in registry and "sales" in registry


# --- through GraphQL, on a registry built from what is installed -------------------------------------------

GOALS = """
query { goals { key label description targetRoleKind targetDescription messageIntent outcomeLabel source
                guardrails { status kind overrideFlag } rubric { criterion weight measure } } }
"""

CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id slug } errors { code field message } }
}
"""

PERSONA = "id goalKey status version name summary industries jobTitles painPoints keywords goal { key label source }"

UPSERT = f"""
mutation($input: UpsertPersonaInput!) {{
  upsertPersona(input: $input) {{ persona {{ {PERSONA} }} errors {{ code field message }} }}
}}
"""

DERIVE = f"""
mutation($input: DerivePersonaInput!) {{
  derivePersona(input: $input) {{ created persona {{ {PERSONA} }} errors {{ code field message }} }}
}}
"""


@pytest.fixture
async def api(db: Any, installed: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url="sqlite://:memory:", redis_url=None)
    app = create_app(settings, manage_db=False, run_worker=False, goals=collect_goals(make_plugin_manager()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def run(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
              as_: Person | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers=as_.headers if as_ else {})
    assert response.status_code == 200, response.text
    return data_of(response.json())


async def test_goals_query_lists_the_plugin_with_its_source(api: httpx.AsyncClient) -> None:
    goals = {g["key"]: g for g in (await run(api, GOALS))["goals"]}
    podcast = goals["podcast"]
    assert podcast["label"] == "Podcast guest"
    assert podcast["source"] == SOURCE
    assert podcast["targetRoleKind"] == "influencer"
    assert podcast["messageIntent"].startswith("Pitch a guest episode")
    assert podcast["outcomeLabel"] == "episode booked"
    assert podcast["targetDescription"]
    rules = {g["status"]: (g["kind"], g["overrideFlag"]) for g in podcast["guardrails"]}
    assert rules["press"] == ("TARGET", None)
    assert rules["customer"] == ("ALLOWED", None)
    assert rules["analyst"] == ("SOFT", "includeAnalysts")  # omitted: the host's default
    assert rules["partner"] == ("ALLOWED", None)
    for status in ("do_not_contact", "competitor", "personal_network"):
        assert rules[status] == ("HARD", None)
    assert len(rules) == len(goals["sales"]["guardrails"])  # one rule per account status, like built-ins
    assert sum(c["weight"] for c in podcast["rubric"]) == pytest.approx(1.0)
    assert goals["sales"]["source"] == "built-in"


async def test_plugin_goal_is_usable_like_a_builtin(api: httpx.AsyncClient, owner: Person,
                                                    project: models.Project) -> None:
    created = (await run(api, CREATE_PRODUCT, {"input": {
        "projectId": global_id("Project", project.id), "name": "RouteWise",
        "description": "Route optimisation for delivery fleets."}}, as_=owner))["createProduct"]
    assert created["errors"] == []
    product_id = created["product"]["id"]

    sales = (await run(api, UPSERT, {"input": {
        "productId": product_id, "goal": "sales", "name": "Ops leaders", "industries": ["Logistics"],
        "keywords": ["fleet"], "jobTitles": ["COO"]}}, as_=owner))["upsertPersona"]
    assert sales["errors"] == []

    derived = (await run(api, DERIVE, {"input": {"productId": product_id, "goal": "podcast"}},
                         as_=owner))["derivePersona"]
    assert derived["errors"] == []
    assert derived["created"] is True
    persona = derived["persona"]
    assert persona["goalKey"] == "podcast"
    assert persona["goal"] == {"key": "podcast", "label": "Podcast guest", "source": SOURCE}
    assert (persona["status"], persona["version"]) == ("DRAFT", 1)
    assert persona["name"] == "Podcasts RouteWise's buyers listen to"  # the plugin's tweak_icp ran
    assert persona["keywords"] == ["Logistics", "fleet"]  # from the sales persona
    assert "Podcast Host" in persona["jobTitles"]

    again = (await run(api, DERIVE, {"input": {"productId": product_id, "goal": "podcast"}},
                       as_=owner))["derivePersona"]
    assert again["created"] is False and again["persona"]["id"] == persona["id"]

    edited = (await run(api, UPSERT, {"input": {"productId": product_id, "goal": "podcast",
                                                "keywords": ["last mile", "fleet"]}}, as_=owner))["upsertPersona"]
    assert edited["errors"] == []
    assert edited["persona"]["id"] == persona["id"]
    assert edited["persona"]["version"] == 2
    assert edited["persona"]["keywords"] == ["last mile", "fleet"]
    assert edited["persona"]["name"] == persona["name"]


async def test_upsert_creates_a_plugin_persona_from_its_tweak(api: httpx.AsyncClient, owner: Person,
                                                              project: models.Project) -> None:
    product = await models.Product.create(project=project, name="Widget", slug="widget", description="Widgets",
                                          created_by=owner.user)
    result = (await run(api, UPSERT, {"input": {"productId": global_id("Product", product.id), "goal": "podcast",
                                                "summary": "Shows about widgets."}}, as_=owner))["upsertPersona"]
    assert result["errors"] == []
    assert result["persona"]["goalKey"] == "podcast"
    assert result["persona"]["name"] == "Podcasts Widget's buyers listen to"  # derived, then the input applied
    assert result["persona"]["summary"] == "Shows about widgets."


CAMPAIGN = """
mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) { campaign { id goal { key label source } icp { goalKey status } } errors { message } }
}
"""
ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) {
    added campaign { totalAccounts } blocked { status reason message overrideFlag } errors { message }
  }
}
"""


async def test_plugin_goal_runs_a_campaign_like_a_builtin(api: httpx.AsyncClient, owner: Person,
                                                          project: models.Project) -> None:
    product = await models.Product.create(project=project, name="Widget", slug="widget", description="Widgets")
    created = (await run(api, CAMPAIGN, {"input": {
        "projectId": global_id("Project", project.id), "productId": global_id("Product", product.id),
        "name": "Podcast tour", "goal": "podcast"}}, as_=owner))["createCampaign"]
    assert created["errors"] == []
    campaign = created["campaign"]
    assert campaign["goal"] == {"key": "podcast", "label": "Podcast guest", "source": SOURCE}
    assert campaign["icp"] == {"goalKey": "podcast", "status": "DRAFT"}  # derived by the plugin's tweak

    accounts = {status: await models.Account.create(project=project, name=status, status=AccountStatus(status))
                for status in ("press", "analyst", "competitor", "new")}
    added = (await run(api, ADD, {"input": {
        "campaignId": campaign["id"], "accountIds": [global_id("Account", a.id) for a in accounts.values()]}},
        as_=owner))["addAccountsToCampaign"]
    assert added["errors"] == []
    assert added["added"] == 2 and added["campaign"]["totalAccounts"] == 2  # press (its target) and new
    blocked = {g["status"]: g for g in added["blocked"]}
    assert set(blocked) == {"analyst", "competitor"}
    assert blocked["analyst"]["overrideFlag"] == "includeAnalysts"
    assert "Podcast guest campaign soft-blocks analyst accounts" in blocked["analyst"]["message"]
    assert blocked["competitor"]["reason"] == "hard_block"


# --- real processes ----------------------------------------------------------------------------------------


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


@pytest.mark.integration
def test_example_test_suite_passes(plugin_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests" / "test_podcast.py")],
        cwd=EXAMPLE, env=plugin_env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
    )
    out = _ok(result)
    assert re.search(r"\b\d+ passed\b", out), out
    assert not re.search(r"failed|error|warning", out, re.I), out


@pytest.mark.integration
def test_cli_lists_the_plugin_with_its_distribution(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    lines = _ok(run_cli("goals", cwd=tmp_path, env=plugin_env)).splitlines()
    podcast = [line for line in lines if line.split()[0] == "podcast"]
    assert len(podcast) == 1, lines
    assert "Podcast guest" in podcast[0] and f"[{SOURCE}]" in podcast[0]
    assert any(line.split()[0] == "sales" and "[built-in]" in line for line in lines)


@pytest.mark.integration
def test_cli_without_the_disabled_plugin(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    env = {**plugin_env, "OUTBOUNDQL_DISABLE_PLUGINS": "podcast"}
    keys = [line.split()[0] for line in _ok(run_cli("goals", cwd=tmp_path, env=env)).splitlines()]
    assert "podcast" not in keys
    assert "sales" in keys and len(keys) == 12
