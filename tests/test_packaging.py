"""Packaging: the wheel holds every package on disk, the migrations and the typing marker."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_under_src_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(("outboundql", *init.parent.relative_to(ROOT / "src").parts))
        for init in (ROOT / "src").rglob("__init__.py")
    }
    assert on_disk == listed, (
        "[tool.setuptools] packages in pyproject.toml must list every folder of src/ with an __init__.py; "
        f"missing: {sorted(on_disk - listed)}, stale: {sorted(listed - on_disk)}"
    )


def test_wheel_contains_the_code_migrations_and_marker(tmp_path: Path) -> None:
    # Build from a copy so the build does not write build/ or *.egg-info into the working tree.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(project), "--no-deps", "-w", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "absent from the `packages` configuration" not in result.stdout + result.stderr, "package-data noise"
    wheels = list(out.glob("outboundql-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        console_scripts = wheel.read(entry_points).decode()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        licence = next((n for n in names if n.endswith(".dist-info/licenses/LICENSE")), None)
        assert licence and wheel.read(licence).decode().startswith("MIT License"), "the declared licence's text"

    required_files = ("outboundql/__init__.py", "outboundql/cli.py", "outboundql/gql/schema.py",
                      "outboundql/models/migrations/0001_initial.py", "outboundql/py.typed",
                      "outboundql/scoring/rubric.py", "outboundql/scoring/llm.py", "outboundql/llm/__init__.py",
                      "outboundql/llm/client.py", "outboundql/llm/pricing.py")
    for required in required_files:
        assert required in names, f"{required} is missing from the wheel"
    for migration in (ROOT / "src/models/migrations").glob("0*.py"):
        assert f"outboundql/models/migrations/{migration.name}" in names
    catalogs = [*(ROOT / "src/scoring/locales").glob("*/LC_MESSAGES/*.po"),
                *(ROOT / "src/goals/builtin/locales").glob("*/LC_MESSAGES/*.po")]
    assert len(catalogs) >= 10
    for catalog in catalogs:
        assert f"outboundql/{catalog.relative_to(ROOT / 'src').as_posix()}" in names, f"{catalog} is missing"
    graphiql = [f for f in (ROOT / "src/static/graphiql").rglob("*") if f.is_file()]  # the offline IDE's files
    assert len(graphiql) > 7, "GraphiQL's 7 files and their licences"
    for shipped in graphiql:
        assert f"outboundql/{shipped.relative_to(ROOT / 'src').as_posix()}" in names, f"{shipped} is missing"
    assert not any(n.startswith(("src/", "tests/")) for n in names), "the wheel must only ship `outboundql`"
    assert "outboundql = outboundql.cli:main" in console_scripts
    assert "License-Expression: MIT" in metadata
    for version in ("3.11", "3.12", "3.13"):  # the versions CI runs
        assert f"Classifier: Programming Language :: Python :: {version}" in metadata
