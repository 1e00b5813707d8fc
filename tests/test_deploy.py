"""The process layout in deploy/ (Procfile, systemd units, environment file) runs commands the CLI has, with
options it accepts, and sets only settings that exist."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from outboundql.cli import main
from outboundql.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
PROCFILE_LINE = re.compile(r"^(?P<type>[A-Za-z0-9_-]+):\s*(?P<command>\S.*)$")
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")  # ${WEB_CONCURRENCY:-2}: the default is what runs without it


def _procfile() -> dict[str, str]:
    entries = {}
    for line in (DEPLOY / "Procfile").read_text().splitlines():
        match = PROCFILE_LINE.match(line)
        assert match, f"not a Procfile line: {line!r}"
        assert match["type"] not in entries, f"{match['type']} twice"
        entries[match["type"]] = match["command"]
    return entries


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _cli_args(command: str) -> list[str]:
    """The arguments after ``outboundql`` of a command line, with ``${VAR:-default}`` as its default."""
    words = shlex.split(DEFAULTED.sub(lambda m: m[2], command))
    assert Path(words[0]).name == "outboundql", f"{command!r} does not run outboundql"
    assert "$" not in " ".join(words), f"{command!r} uses a variable without a default"
    return words[1:]


def _commands() -> list[tuple[str, str]]:
    found = [(f"Procfile {kind}", command) for kind, command in _procfile().items()]
    for path in UNITS:
        found.append((path.name, _unit(path)["Service"]["ExecStart"]))
    return found


def test_the_layout_covers_every_process_of_the_distributed_mode() -> None:
    assert set(_procfile()) == {"release", "web", "worker", "mail"}
    assert {p.stem for p in UNITS} == {"outboundql-migrate", "outboundql-api", "outboundql-worker",
                                       "outboundql-mail-in"}
    commands = {_cli_args(command)[0] for _, command in _commands()}
    assert commands == {"migrate", "serve", "worker", "mail-in"}


@pytest.mark.parametrize(("where", "command"), _commands(), ids=[w for w, _ in _commands()])
def test_every_command_exists_with_the_options_given(where: str, command: str) -> None:
    # `--help` is eager: it answers 0 only once every option before it parsed (an unknown one is exit 2).
    result = CliRunner().invoke(main, [*_cli_args(command), "--help"])
    assert result.exit_code == 0, f"{where}: `{command}` → {result.output}"


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_units_run_as_an_unprivileged_user_with_the_shared_environment(path: Path) -> None:
    unit = _unit(path)
    service = unit["Service"]
    assert Path(service["ExecStart"].split()[0]).is_absolute(), "systemd needs an absolute ExecStart"
    assert service["User"] == "outboundql" and service["EnvironmentFile"] == "/etc/outboundql/outboundql.env"
    if path.stem != "outboundql-migrate":
        assert service["Restart"] == "on-failure" and "outboundql-migrate.service" in unit["Unit"]["After"]
        assert unit["Install"]["WantedBy"] == "multi-user.target"
    if path.stem == "outboundql-worker":
        assert service["KillMode"] == "mixed", "only the supervisor gets SIGTERM (a second one kills jobs)"
    if path.stem == "outboundql-api":
        assert "outboundql-migrate.service" in unit["Unit"]["Requires"]


def test_the_environment_file_sets_real_settings_only() -> None:
    names = [line.split("=", 1)[0] for line in (DEPLOY / "outboundql.env").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    settings = {f"OUTBOUNDQL_{name.upper()}" for name in Settings.model_fields}
    assert {"OUTBOUNDQL_DATABASE_URL", "OUTBOUNDQL_REDIS_URL", "OUTBOUNDQL_SECRET_KEY"} <= set(names)
    assert [n for n in names if n.startswith("OUTBOUNDQL_") and n not in settings] == []


def test_serve_listens_on_port_from_the_environment() -> None:
    port = next(p for p in main.commands["serve"].params if p.name == "port")
    assert port.envvar == "PORT"  # type: ignore[attr-defined]  # an Option, not an Argument
