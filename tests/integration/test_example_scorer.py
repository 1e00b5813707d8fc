"""The example scorer plugin (examples/outboundql-scorer-headcount) is found through its entry point like an
installed distribution, its own test suite passes with the host's testing kit, `outboundql scorers` lists it, and
a campaign is scored with it through GraphQL on the embedded default's real dramatiq worker.

Its entry point is made real package metadata without pip-installing anything (as for the example goal plugin): a
dist-info directory generated from the example's pyproject.toml, put on ``sys.path`` next to the example's ``src/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from outboundql import models
from outboundql.enums import ScoringStatus
from outboundql.goals.manager import make_plugin_manager
from outboundql.scoring.registry import ScorerRegistry, collect_scorers
from tests.api import test_score_campaign as scoring_suite
from tests.api.test_score_campaign import Setup, score
from tests.helpers import data_of
from tests.integration.conftest import COMMAND_TIMEOUT, child_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "outboundql-scorer-headcount"
EXAMPLE_SRC = EXAMPLE / "src"
MODULE = "outboundql_scorer_headcount"
SOURCE = "outboundql-scorer-headcount 0.1.0"

setup = scoring_suite.setup  # the fixture: seven accounts of a sales campaign


def write_dist_info(directory: Path) -> Path:
    """The example's ``<name>-<version>.dist-info`` (METADATA, entry_points.txt), from its pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    dist_info = directory / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist_info / "entry_points.txt").write_text("\n".join(
        f"[{group}]\n" + "".join(f"{ep} = {target}\n" for ep, target in entries.items())
        for group, entries in project["entry-points"].items()))
    return dist_info


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    write_dist_info(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop(MODULE, None)


@pytest.fixture
def plugin_env(installed: Path) -> dict[str, str]:
    paths = [str(installed), str(EXAMPLE_SRC), os.environ.get("PYTHONPATH", "")]
    return child_env(PYTHONPATH=os.pathsep.join(p for p in paths if p))


@pytest.fixture
def scorers(installed: Path) -> ScorerRegistry:
    """What the app of these tests scores with: the built-in and installed scorers, as a server builds them."""
    return collect_scorers(make_plugin_manager())


def test_generated_metadata_names_the_module_under_the_plugin_group(installed: Path) -> None:
    entry_points = (installed / "outboundql_scorer_headcount-0.1.0.dist-info" / "entry_points.txt").read_text()
    assert entry_points == "[outboundql.goals]\nheadcount = outboundql_scorer_headcount\n"


def test_the_installed_example_is_a_scorer_with_its_distribution_as_source(scorers: ScorerRegistry) -> None:
    assert [(e.key, e.source) for e in scorers.all()] == [
        ("headcount", SOURCE), ("llm", "built-in"), ("rubric", "built-in")]
    blocked = collect_scorers(make_plugin_manager(blocked=["headcount"]))
    assert "headcount" not in blocked and "rubric" in blocked


@pytest.mark.integration
def test_example_test_suite_passes(plugin_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests" / "test_headcount.py")],
        cwd=EXAMPLE, env=plugin_env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False,
    )
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"


@pytest.mark.integration
def test_the_cli_lists_it_and_disabling_the_plugin_removes_it(plugin_env: dict[str, str], tmp_path: Path) -> None:
    listed = run_cli("scorers", cwd=tmp_path, env={**plugin_env, "OUTBOUNDQL_SCORER": "headcount"})
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["headcount", "llm", "rubric"]
    assert lines[0].split() == ["headcount", "Headcount", "(default)", *f"[{SOURCE}]".split()]
    assert "unavailable: The llm scorer is not configured" in lines[1]
    disabled = run_cli("scorers", cwd=tmp_path, env={**plugin_env, "OUTBOUNDQL_SCORER": "headcount",
                                                     "OUTBOUNDQL_DISABLE_PLUGINS": "headcount"})
    assert disabled.returncode == 0, disabled.stderr
    assert [line.split()[0] for line in disabled.stdout.splitlines()] == ["llm", "rubric"]
    assert "Rubric (default)" in disabled.stdout
    assert "OUTBOUNDQL_SCORER=headcount names no installed scorer" in disabled.stderr


async def test_a_campaign_is_scored_with_it_through_graphql(gql, setup: Setup, jobs) -> None:
    listed = {s["key"]: s for s in data_of(await gql("{ scorers { key label source available } }"))["scorers"]}
    assert listed["headcount"] == {"key": "headcount", "label": "Headcount", "source": SOURCE, "available": True}
    started = await score(gql, setup, scorer="headcount")
    assert started["errors"] == [] and started["run"]["scorer"] == "headcount"
    await jobs()
    run = await models.ScoringRun.get()
    assert (run.status, run.total, run.done, run.failed) == (ScoringStatus.COMPLETED, 7, 7, 0)
    scores = {s.account_id: s for s in await models.FitScore.filter(product_id=setup.product.id)}
    assert {s.scorer for s in scores.values()} == {"headcount"}
    persona = await models.Persona.get(product_id=setup.product.id, goal_key="sales")
    for account in setup.accounts:
        row = scores[account.id]
        inside = account.employee_count is not None and (
            (persona.company_size_min is None or account.employee_count >= persona.company_size_min)
            and (persona.company_size_max is None or account.employee_count <= persona.company_size_max))
        if account.employee_count is None:
            assert float(row.score) == 5.0 and row.justifications[0]["kind"] == "missing_data"
        elif inside:
            assert float(row.score) == 10.0 and row.band == "excellent"
        else:
            assert float(row.score) < 10.0 and row.justifications[0]["kind"] == "gap"
