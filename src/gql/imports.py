"""Importing accounts from a CSV file: the upload, the job it starts, its progress, and the fields a column can feed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from outboundql import enums, models
from outboundql.errors import InvalidInput, NotFound
from outboundql.gql.base import ProjectNode, mutation, pk_of, pk_or_none
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.enums import ImportOrigin, ImportStatus
from outboundql.gql.errors import ClientError, UserError, user_errors
from outboundql.gql.guardrails import BlockedAccounts
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.permissions import IsAuthenticated
from outboundql.imports import mapping as columns
from outboundql.services import events, imports

_CHUNK = 64 * 1024
_POLL_SECONDS = 5.0
_FINISHED = (enums.ImportStatus.COMPLETED, enums.ImportStatus.FAILED)


@strawberry.type(description="Which field a column of the file feeds.")
class ColumnMapping:
    column: str = strawberry.field(description="The column's header, as in the file.")
    field: str = strawberry.field(description="A key of `importFields` (`name`, `contact.email`…), `custom.<key>` "
                                  "for a custom field, `score` or `score.<component>`; empty: the column is left out.")


@strawberry.input(description="Which field a column of the file feeds.")
class ColumnMappingInput:
    column: str = strawberry.field(description="The column's header, exactly as in the file.")
    field: str = strawberry.field(description="A key of `importFields`, `custom.<key>`, `score` or "
                                  "`score.<component>`; empty to leave the column out.")


@strawberry.type(description="How far a job is: rows processed of the file's rows.")
class ImportProgress:
    done: int = strawberry.field(description="Rows processed so far.")
    total: int = strawberry.field(description="Data rows in the file.")


@strawberry.type(description="A row of the file that was not imported (or only partly), and why.")
class ImportRowError:
    line: int = strawberry.field(description="The row's line in the file (the header is line 1).")
    reason: str = strawberry.field(description="Why, in a sentence for people.")


@strawberry.type(description="What adding the imported accounts to the job's campaign did, through its goal's "
                 "guardrails.")
class ImportCampaignResult:
    added: int = strawberry.field(description="Accounts added to the campaign.")
    already_present: int = strawberry.field(description="Accounts that were in the campaign already.")
    blocked: list[BlockedAccounts] = strawberry.field(description="Accounts the guardrails refused, by reason.")
    scored: int = strawberry.field(description="Accounts whose score from the file's score columns was attached "
                                   "(stored as an external fit score of the campaign's product and goal).")
    error: str | None = strawberry.field(description="Why nothing could be added (e.g. the campaign was archived "
                                         "meanwhile).")


@strawberry.type(description="One file imported in the background: its status, counts, per-row errors and progress.")
class ImportJob(ProjectNode):
    id: relay.NodeID[int]
    status: ImportStatus = strawberry.field(description="QUEUED, RUNNING, then COMPLETED or FAILED (see `error`).")
    filename: str = strawberry.field(description="The file's name, as uploaded or attached.")
    rows: int = strawberry.field(description="Data rows in the file (the header and blank lines not counted).")
    created: int = strawberry.field(description="Rows that created an account (would create, on a dry run).")
    merged: int = strawberry.field(description="Rows merged into an existing account or an earlier row of the file "
                                   "(same domain, name and city, or phone).")
    skipped: int = strawberry.field(description="Rows left out on purpose: an address on the suppression list.")
    failed: int = strawberry.field(description="Rows that could not be imported (see `rowErrors`).")
    dry_run: bool = strawberry.field(description="Only counted: nothing but this job was written.")
    origin: ImportOrigin = strawberry.field(description="How the file arrived: UPLOAD (importAccounts) or EMAIL.")
    sender: str | None = strawberry.field(description="The sender's address, for a file that came by e-mail.")
    error: str | None = strawberry.field(description="Why the job failed, when it did.")
    created_at: datetime = strawberry.field(description="When the file was received.")
    started_at: datetime | None = strawberry.field(description="When a worker first took the job.")
    finished_at: datetime | None = strawberry.field(description="When the job completed or failed.")
    row: strawberry.Private[models.ImportJob]
    node_model = models.ImportJob

    @strawberry.field(description="Rows processed so far, of `rows`.")
    def progress(self) -> ImportProgress:
        return ImportProgress(done=self.row.done, total=self.row.rows)

    @strawberry.field(description=f"Rows not imported, or imported in part, with their line and why, in the "
                      f"file's order (the first {imports.MAX_ROW_ERRORS}; the counts are exact).")
    def row_errors(self) -> list[ImportRowError]:
        return [ImportRowError(line=line, reason=reason) for line, reason in imports.row_errors(self.row)]

    @strawberry.field(description="The columns and the fields they feed (the guess, when no mapping was given).")
    def column_mapping(self) -> list[ColumnMapping]:
        return [ColumnMapping(column=column, field=key) for column, key in self.row.column_mapping.items()]

    @strawberry.field(description="The campaign the accounts are added to; null without one (or deleted since).")
    async def campaign(self, info: Info) -> Campaign | None:
        if self.row.campaign_id is None:
            return None
        found = await info.context.loaders.campaign_by_id.load(self.row.campaign_id)
        return Campaign.from_model(found) if found else None

    @strawberry.field(description="What adding the accounts to the campaign did; null until the job has done it "
                      "(and without a campaign, or on a dry run).")
    def campaign_result(self) -> ImportCampaignResult | None:
        outcome = imports.campaign_outcome(self.row)
        if outcome is None:
            return None
        return ImportCampaignResult(added=outcome.added, already_present=outcome.already_present,
                                    blocked=[BlockedAccounts.from_group(g) for g in outcome.blocked],
                                    scored=outcome.scored, error=outcome.error)


@strawberry.type
class ImportJobConnection(CountedConnection[ImportJob]):
    @classmethod
    def resolve_node(cls, node: models.ImportJob, *, info: Info, **kwargs: Any) -> ImportJob:
        return ImportJob.from_model(node)


async def resolve_import_jobs(info: Info, project_id: int, campaign_id: relay.GlobalID | None, *,
                              first: int | None, after: str | None, last: int | None,
                              before: str | None) -> ImportJobConnection:
    campaign_pk = None if campaign_id is None else (pk_or_none(campaign_id, "Campaign") or 0)
    queryset = imports.project_import_jobs(info.context.access, project_id, campaign_pk)
    return await ImportJobConnection.page(queryset, info, first=first, after=after, last=last, before=before)


@strawberry.type(description="A field a column of a file can feed.")
class ImportField:
    key: str = strawberry.field(description="What `ColumnMappingInput.field` takes.")
    label: str = strawberry.field(description="The field's name for people.")


@strawberry.input(description="A CSV file (UTF-8 with or without BOM, UTF-16, Windows-1252 or Latin-1; comma, "
                  "semicolon, tab or pipe) of at most 10,000 rows, sent as a multipart upload.")
class ImportAccountsInput:
    project_id: relay.GlobalID = strawberry.field(description="The project the accounts go to.")
    file: Upload = strawberry.field(description="The file (multipart request; send an `apollo-require-preflight` "
                                    "header).")
    mapping: list[ColumnMappingInput] | None = strawberry.field(
        default=None, description="Which field each column feeds; null: guessed from the headers (answered in "
        "`columnMapping`, to show and correct). Columns left out are ignored.")
    campaign_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Add the imported accounts to this campaign, through its goal's guardrails.")
    dry_run: bool = strawberry.field(default=False, description="Validate and count what would happen; write nothing "
                                     "but the job.")


@strawberry.type(description="The answer of importAccounts: the queued job and the column mapping it runs with.")
class ImportAccountsPayload:
    import_job: ImportJob | None = strawberry.field(
        default=None, description="The job, queued; null when the file or the request was refused (see `errors`).")
    column_mapping: list[ColumnMapping] = strawberry.field(
        default_factory=list, description="The mapping the job runs with: the given one, or the guess from the "
        "headers (also when it was refused, to correct it).")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the file or the request was refused (then no job was made).")


async def _read_upload(upload: Any, limit: int) -> bytes:
    """The upload's bytes, read in chunks; INVALID on ``file`` past ``limit``."""
    if not callable(getattr(upload, "read", None)):
        raise InvalidInput("Send the file as a multipart upload (the GraphQL multipart request), not inline.",
                           field="file")
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"The file is larger than {limit:,} bytes; split it.", field="file")
        parts.append(chunk)
    return b"".join(parts)


@strawberry.type
class ImportMutations:
    @mutation("Import accounts (and their contacts) from a CSV file in the background. Answers at once with the "
              "queued job, or refuses the whole file with nothing written (not a table, empty, more than 10,000 "
              "rows, no column for the account's name). Rows are deduplicated against the project and each other "
              "(domain, name and city, phone; contacts by phone then e-mail), a bad row is reported with its line "
              "and the others land; addresses on the suppression list are skipped. Follow it with "
              "`importJobProgress` or by reading the job.")
    async def import_accounts(self, info: Info, input: ImportAccountsInput) -> ImportAccountsPayload:
        settings = info.context.settings
        project_id = pk_of(input.project_id, "Project", "project_id")
        info.context.access.require(project_id, enums.Role.MEMBER, field="project_id")
        campaign_id = None
        if input.campaign_id is not None:
            campaign_id = pk_of(input.campaign_id, "Campaign", "campaign_id")
        content = await _read_upload(input.file, settings.max_upload_bytes)
        mapping = None if input.mapping is None else {m.column: m.field for m in input.mapping}
        if input.mapping is not None and len(mapping or {}) != len(input.mapping):
            raise InvalidInput("Each column may appear once in the mapping.", field="mapping")
        result = await imports.start_import(info.context.access, info.context.goals, imports.StartImport(
            project_id=project_id, filename=getattr(input.file, "filename", None) or "import.csv", content=content,
            mapping=mapping, campaign_id=campaign_id, dry_run=input.dry_run))
        return ImportAccountsPayload(
            import_job=ImportJob.from_model(result.job) if result.job else None,
            column_mapping=[ColumnMapping(column=c, field=f) for c, f in result.mapping.items()],
            errors=user_errors(info, result.errors))


@strawberry.type
class ImportQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The fields a column of an import file can feed, besides `custom.<key>` (a "
                      "custom field of the account) and `score.<component>` (a named part of an external score).")
    def import_fields(self) -> list[ImportField]:
        return [ImportField(key=key, label=label) for key, label in columns.FIELDS.items()]


@strawberry.type
class ImportSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="An import job as it moves: now, after every batch of rows, and when it "
                             "ends (the stream ends then). Works across processes when Redis is set.")
    async def import_job_progress(self, info: Info, import_job_id: relay.GlobalID
                                  ) -> AsyncGenerator[ImportJob, None]:
        pk = pk_or_none(import_job_id, "ImportJob")
        job = await models.ImportJob.get_or_none(id=pk) if pk is not None else None
        try:
            if job is None:
                raise NotFound("Import job", field="importJobId")
            info.context.access.require(job.project_id, what="Import job", field="importJobId")
        except NotFound as exc:
            raise ClientError(exc.message, "NOT_FOUND") from None
        moved: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def listen() -> None:
            async for event in events.get_bus().subscribe(events.import_job_channel(job.id)):
                moved.put_nowait(event)

        listening = asyncio.create_task(listen())
        try:
            await asyncio.sleep(0)  # subscribed before the job is read: no move is lost in between
            shown: tuple[Any, ...] | None = None
            while True:
                fresh = await models.ImportJob.get_or_none(id=job.id)
                if fresh is None:
                    return
                state = (fresh.status, fresh.done, fresh.created, fresh.merged, fresh.skipped, fresh.failed)
                if state != shown:
                    shown = state
                    yield ImportJob.from_model(fresh)
                if fresh.status in _FINISHED:
                    return
                with contextlib.suppress(TimeoutError):
                    # An event, or a look at the job now and then (an event published before the bus
                    # subscription took effect, or lost with Redis, is not waited for forever).
                    await asyncio.wait_for(moved.get(), timeout=_POLL_SECONDS)
                await info.context.recheck()
                try:
                    info.context.access.require(job.project_id, what="Import job")
                except NotFound as exc:
                    raise ClientError(exc.message, "NOT_FOUND") from None
        finally:
            listening.cancel()
