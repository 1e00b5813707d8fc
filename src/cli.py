"""The ``outboundql`` command: serve, worker, mail-in, migrate, export-schema, and admin helpers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from outboundql.settings import get_settings

if TYPE_CHECKING:
    from outboundql.settings import Settings

T = TypeVar("T")


def _with_db(fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn`` with the ORM open on the configured database (migrated first on SQLite) and the
    services' runtime configured from the environment: its settings, installed goals, dramatiq jobs."""
    from tortoise import Tortoise

    from outboundql.goals.api import GoalRegistrationError
    from outboundql.models.audit import AuditSource
    from outboundql.models.config import apply_migrations, tortoise_config
    from outboundql.services import audit, runtime
    from outboundql.workers import DramatiqJobs

    settings = get_settings()
    try:
        goals = runtime.installed_goals(settings)
    except GoalRegistrationError as exc:
        _fail(str(exc))

    async def run() -> T:
        url = settings.database_url
        if url.startswith("sqlite"):
            await apply_migrations(url)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        try:
            with runtime.using(runtime.Runtime(settings, goals, DramatiqJobs())), \
                    audit.origin(AuditSource.CLI):  # what a command writes is audited as the CLI's
                return await fn()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


def _check_plugins(settings: Settings) -> None:
    """Load the installed goal and channel plugins once, before anything is printed, migrated or started: a plugin
    the host refuses stops the command here with its one-line error (exit 1), never halfway through (a demo token
    printed, then a traceback from the server's factory)."""
    from outboundql.goals.api import GoalRegistrationError
    from outboundql.services import runtime

    try:
        runtime.installed_goals(settings)
        runtime.installed_channels(settings)  # ChannelRegistrationError is a GoalRegistrationError
    except GoalRegistrationError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="outboundql")
def main() -> None:
    """outboundql: a GraphQL API for outbound campaigns."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT",
              help="Port to listen on (default: $PORT when set, else 8000).")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--workers", default=1, show_default=True, type=int,
              help="API processes (needs PostgreSQL and Redis when above 1).")
@click.option("--demo", is_flag=True, help="Seed a demo project (once) and print an API token for it.")
@click.option("--migrate", "migrate_first", is_flag=True,
              help="Apply pending migrations before starting (always done on SQLite).")
def serve(host: str, port: int, reload: bool, workers: int, demo: bool, migrate_first: bool) -> None:
    """Start the API server. On SQLite the database is migrated first; elsewhere a database behind the code is
    refused unless --migrate."""
    import uvicorn

    from outboundql.models import migrating

    settings = get_settings()
    _check_plugins(settings)
    if workers > 1 and (settings.database_url.startswith("sqlite") or not settings.redis_url):
        _fail("several API processes need OUTBOUNDQL_DATABASE_URL=postgres://… and OUTBOUNDQL_REDIS_URL; "
              "jobs and live events of the embedded mode live inside one process.")
    if settings.database_url.startswith("sqlite") or migrate_first:
        for name in asyncio.run(migrating.migrate(settings.database_url)).applied:
            click.echo(f"Applied migration {name}.")
    elif pending := asyncio.run(migrating.pending_migrations(settings.database_url)):
        _fail(f"the database is behind the code: {len(pending)} migration(s) pending ({', '.join(pending)}). "
              "Run `outboundql migrate` first (once per deploy), or start with `outboundql serve --migrate`.")
    if demo:
        from outboundql.demo import seed_demo

        secret = _with_db(seed_demo)
        click.echo(f"API token: {secret}")
    url_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    click.echo(f"GraphiQL: http://{url_host}:{port}/graphql")
    from outboundql import logs, metrics_setup

    # Every API process writes its metrics where /metrics of any of them sums them; set before they start.
    samples = metrics_setup.prepare_multiprocess_dir("api")
    logs.configure(settings.log_level, settings.log_format)  # this process; each API process again (app_from_env)
    try:
        uvicorn.run("outboundql.app:app_from_env", factory=True, host=host, port=port, reload=reload,
                    workers=None if reload else workers, log_level=settings.log_level, log_config=None,
                    reload_dirs=[str(Path(__file__).parent)] if reload else None)
    finally:
        metrics_setup.remove_multiprocess_dir(samples)


@main.command()
@click.option("--processes", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--queues", "-Q", multiple=True, help="Only these queues (default: all).")
@click.option("--metrics-port", default=9191, show_default=True, type=click.IntRange(min=0, max=65535),
              help="Serve the job metrics of all PROCESSES at http://<metrics-host>:<port>/metrics (0: off).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def worker(processes: int, threads: int, queues: tuple[str, ...], metrics_port: int, metrics_host: str) -> None:
    """Run job workers on the Redis broker (distributed mode): PROCESSES dramatiq processes, each
    started again if it dies (a crash loop stops them all with an error), stopped by SIGTERM/SIGINT."""
    from outboundql import logs, metrics_setup
    from outboundql.workers.supervisor import spawner, supervise

    settings = get_settings()
    _check_plugins(settings)  # before any process starts: a refused plugin would stop each of them in a loop
    if not settings.redis_url:
        _fail("outboundql worker needs OUTBOUNDQL_REDIS_URL. Without Redis, `outboundql serve` runs jobs itself.")
    logs.configure(settings.log_level, settings.log_format)  # the worker processes inherit the resolved format
    samples = metrics_setup.prepare_multiprocess_dir("worker")  # the worker processes write there
    if metrics_port:
        metrics_setup.serve_multiprocess(metrics_host, metrics_port)
    args = [sys.executable, "-m", "dramatiq", "outboundql.workers", "--processes", "1", "--threads", str(threads)]
    for queue in queues:
        args += ["--queues", queue]
    try:
        code = supervise(spawner(args), processes)
    finally:
        metrics_setup.remove_multiprocess_dir(samples)
    sys.exit(code)


@main.command()
@click.option("--check", is_flag=True,
              help="Apply nothing: list the pending migrations and exit 1 if there are any (deploy pipelines).")
def migrate(check: bool) -> None:
    """Apply pending database migrations and say which. On PostgreSQL concurrent runs wait for each other
    (an advisory lock), and the tables changed are analysed."""
    from outboundql.models import migrating

    url = get_settings().database_url
    if check:
        pending = asyncio.run(migrating.pending_migrations(url))
        for name in pending:
            click.echo(f"Pending: {name}")
        if pending:
            _fail(f"{len(pending)} migration(s) pending; run `outboundql migrate`.")
        click.echo("Database is up to date (no pending migrations).")
        return
    result = asyncio.run(migrating.migrate(url, applying=lambda name: click.echo(f"Applying {name}…")))
    if not result.applied:
        click.echo("Database is up to date (no pending migrations).")
        return
    if result.analyzed:
        click.echo(f"Analyzed {len(result.analyzed)} table(s): {', '.join(result.analyzed)}.")
    click.echo(f"Applied {len(result.applied)} migration(s); the database is at {result.applied[-1]}.")


@main.command("export-schema")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def export_schema(output: Path | None) -> None:
    """Print the GraphQL SDL (what schema.graphql must contain)."""
    from outboundql.gql.sdl import sdl

    if output:
        output.write_text(sdl())
    else:
        click.echo(sdl(), nl=False)


@main.command()
def goals() -> None:
    """List the registered outreach goals and where each comes from."""
    from outboundql.goals.api import GoalRegistrationError
    from outboundql.goals.manager import default_registry

    try:
        registry = default_registry()
    except GoalRegistrationError as exc:
        _fail(str(exc))
    width = max(len(g.key) for g in registry)
    for goal in registry:
        click.echo(f"{goal.key:<{width}}  {goal.label}  [{registry.source(goal.key)}]")


@main.command()
def channels() -> None:
    """List the registered channel plugins, the message channels each delivers and where each comes from."""
    from outboundql.goals.api import GoalRegistrationError
    from outboundql.services import runtime

    try:
        registry = runtime.installed_channels(get_settings())
    except GoalRegistrationError as exc:  # ChannelRegistrationError is one
        _fail(str(exc))
    width = max(len(c.key) for c in registry.all())
    for entry in registry.all():
        serves = ", ".join(sorted(entry.channel.serves))
        click.echo(f"{entry.key:<{width}}  {entry.channel.label}  ({serves})  [{entry.source}]")


@main.command()
def scorers() -> None:
    """List the installed fit scorers, which one runs by default, whether each can run here and where each comes
    from."""
    from outboundql.goals.api import GoalRegistrationError
    from outboundql.services import runtime

    settings = get_settings()
    try:
        registry = runtime.installed_scorers(settings)
    except GoalRegistrationError as exc:  # ScorerRegistrationError is one
        _fail(str(exc))
    default = registry.default_key(settings)
    width = max(len(s.key) for s in registry.all())
    for entry in registry.all():
        reason = entry.unavailable_reason(settings)
        marks = " (default)" if entry.key == default else ""
        state = f"  unavailable: {reason}" if reason else ""
        click.echo(f"{entry.key:<{width}}  {entry.scorer.label}{marks}  [{entry.source}]{state}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", default="")
def create_user(email: str, name: str) -> None:
    """Create a user."""
    from outboundql.errors import OutboundqlError
    from outboundql.services.users import create_user as create

    try:
        user = _with_db(lambda: create(email, name))
    except OutboundqlError as exc:
        _fail(exc.message)
    click.echo(f"Created user {user.email}.")


@main.command("create-project")
@click.option("--name", required=True)
@click.option("--owner", "owner_email", required=True, help="E-mail of an existing user.")
def create_project(name: str, owner_email: str) -> None:
    """Create a project owned by a user."""
    from outboundql.errors import OutboundqlError
    from outboundql.services.access import Access
    from outboundql.services.projects import CreateProject
    from outboundql.services.projects import create_project as create
    from outboundql.services.users import find_user

    async def run() -> Any:
        owner = await find_user(owner_email)
        if owner is None:
            _fail(f"no user with e-mail {owner_email}; create one with `outboundql create-user`.")
        return (await create(await Access.for_user(owner), CreateProject(name=name))).project

    try:
        project = _with_db(run)
    except OutboundqlError as exc:
        _fail(exc.message)
    click.echo(f"Created project {project.name} (slug: {project.slug}).")


@main.command("create-token")
@click.option("--email", required=True)
@click.option("--name", default="cli")
@click.option("--expires-days", type=int, default=None)
def create_token(email: str, name: str, expires_days: int | None) -> None:
    """Create an API token; prints only the token."""
    from outboundql.errors import OutboundqlError
    from outboundql.services.tokens import CreateApiToken, create_api_token
    from outboundql.services.users import find_user

    async def run() -> str:
        user = await find_user(email)
        if user is None:
            _fail(f"no user with e-mail {email}; create one with `outboundql create-user`.")
        created = await create_api_token(user, CreateApiToken(name=name, expires_in_days=expires_days))
        return created.secret

    try:
        click.echo(_with_db(run))
    except OutboundqlError as exc:
        _fail(exc.message)


@main.command()
@click.option("--project", "project_slug", default=None, help="Only this project's campaigns (its slug).")
def recount(project_slug: str | None) -> None:
    """Recompute campaigns' cached statistics, and the scores kept on their rows, from the rows and fit scores, and
    check projects' kept account counts and threads' attention against their rows; repair and report any drift."""
    from outboundql import models
    from outboundql.services import campaign_stats, database_kept
    from outboundql.services.sql import column

    async def run() -> tuple[int, list[campaign_stats.Drift], dict[int, str], database_kept.Recounted]:
        qs = models.Campaign.all()
        project_ids = None
        if project_slug is not None:
            project = await models.Project.filter(slug=project_slug).first()
            if project is None:
                _fail(f"no project with slug {project_slug!r}.")
            qs = qs.filter(project_id=project.id)
            project_ids = [project.id]
        ids = await column(qs.order_by("id").values_list("id", flat=True))
        drifted = await campaign_stats.recount(ids)
        projects = dict(await models.Campaign.filter(id__in=[d.campaign_id for d in drifted])
                        .values_list("id", "project__slug"))
        return len(ids), drifted, projects, await database_kept.recount(project_ids)

    checked, drifted, projects, counts = _with_db(run)
    for drift in drifted:
        changes = ", ".join([f"{name} {drift.cached[name]}→{drift.actual[name]}" for name in drift.fields]
                            + ([f"{drift.rows_repaired} row score(s) repaired"] if drift.rows_repaired else []))
        click.echo(f"{drift.slug} (project {projects.get(drift.campaign_id, '?')}): {changes}")
    for count in counts.drifted:
        click.echo(f"project {count.slug}: accounts {count.kept}→{count.actual}")
    click.echo(f"{checked} campaigns checked, {len(drifted)} repaired; account counts of {counts.checked} projects "
               f"checked, {len(counts.drifted)} repaired; attention of {counts.threads_repaired} threads repaired")


@main.command("mail-in")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
def mail_in(host: str, port: int) -> None:
    """Receive mail for campaign import addresses (SMTP): a mail from a campaign's authorised sender with a CSV
    attachment becomes an import job of the campaign. Without Redis the jobs run in this process."""
    from outboundql import logs
    from outboundql import mail_in as receiver
    from outboundql.services import runtime

    logs.configure(get_settings().log_level, get_settings().log_format)

    async def run() -> None:
        await receiver.serve(runtime.goals(), host, port)

    _with_db(run)
