"""Import jobs beyond the file itself: adding to a campaign through its guardrails (with the file's scores),
uploads refused before they run (CSRF, size, tenancy, role), a job stopped mid-way resumed by the tick with exact
counts, a bounded number of SQL statements per batch, and the importJobProgress subscription."""

from __future__ import annotations

import asyncio
import contextlib
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import AccountStatus, ImportStatus, Role
from outboundql.goals.testing import registry_with
from outboundql.gql.context import Context
from outboundql.services import imports
from outboundql.services.access import Access
from outboundql.services.clock import Clock
from outboundql.settings import Settings
from tests.api.imports_helpers import GOOD_CSV, IMPORT, Api
from tests.helpers import WARM_UP, Person, global_id


@pytest.fixture
def app(db: Any, settings: Settings, clock: Clock) -> Starlette:
    return create_app(settings, manage_db=False, run_worker=False, goals=registry_with(), clock=clock)


@pytest.fixture
def api(app: Starlette) -> Api:
    return Api(app)


def _pk(gid: str) -> int:
    from strawberry.relay import GlobalID

    return int(GlobalID.from_id(gid).node_id)


def _csv(n: int, start: int = 0) -> str:
    return "Company,Website,City,Contact name,Contact email\n" + "".join(
        f"Company {i},c{i}.example,City {i % 7},Person {i},p{i}@c{i}.example\n" for i in range(start, start + n))


async def test_a_campaign_gets_the_accounts_through_its_guardrails_with_the_files_scores(
        api: Api, owner: Person, project: models.Project, campaign: models.Campaign, jobs: Any) -> None:
    customer = await models.Account.create(project=project, name="Acme", domain="acme.example",
                                           status=AccountStatus.CUSTOMER)
    csv = ("Company,Website,quality_score,relevance_score\n"
           "Acme,acme.example,0.9,0.5\n"          # an existing customer: soft-blocked for a sales campaign
           "Globex,globex.example,0.4,0.8\n"
           "Initech,initech.example,high,0.7\n"   # a score that is no number: the row lands without it
           "Umbrella,umbrella.example,,\n")
    payload = await api.upload(owner, project.id, csv, campaignId=global_id("Campaign", campaign.id))
    assert payload["errors"] == [] and payload["importJob"]["campaign"] == {"id": global_id("Campaign", campaign.id)}
    assert {"column": "quality_score", "field": "score.quality_score"} in payload["columnMapping"]
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert (done["status"], done["created"], done["merged"], done["failed"]) == ("COMPLETED", 3, 1, 0)
    result = done["campaignResult"]
    assert (result["added"], result["alreadyPresent"], result["error"]) == (3, 0, None)
    assert [(g["reason"], g["status"], g["count"]) for g in result["blocked"]] == [("soft_block", "customer", 1)]
    assert result["blocked"][0]["accountIds"] == [global_id("Account", customer.id)]
    assert result["scored"] == 3  # Acme, Globex, and Initech on its one good component
    assert [(e["line"], e["reason"].split(":")[0]) for e in done["rowErrors"]] == [(4, "quality_score")]
    rows = await models.CampaignAccount.filter(campaign_id=campaign.id).prefetch_related("account")
    assert sorted(r.account.name for r in rows) == ["Globex", "Initech", "Umbrella"]
    scores = {s.account_id: s for s in await models.FitScore.filter(product_id=campaign.product_id)}
    globex = await models.Account.get(domain="globex.example")
    assert scores[globex.id].scorer == "external" and scores[globex.id].score == 6.0  # mean of 4 and 8
    refreshed = await models.Campaign.get(id=campaign.id)
    assert refreshed.total_accounts == 3 and refreshed.scored_accounts == 2
    # The accounts' audit event, written as a plain row, comes from the import like everything the job writes.
    assert await models.AuditEvent.filter(action="account.import").values_list("source", flat=True) == ["import"]


async def test_score_columns_without_a_campaign_are_refused_when_given_and_left_out_when_guessed(
        api: Api, owner: Person, project: models.Project, jobs: Any) -> None:
    csv = "Company,quality_score\nAcme,0.5\n"
    given = await api.upload(owner, project.id, csv, mapping=[{"column": "Company", "field": "name"},
                                                              {"column": "quality_score", "field": "score"}])
    assert given["importJob"] is None and [e["field"] for e in given["errors"]] == ["input.mapping[1].field"]
    guessed = await api.upload(owner, project.id, csv)
    assert {"column": "quality_score", "field": ""} in guessed["columnMapping"]
    await jobs()
    assert (await models.ImportJob.get(id=_pk(guessed["importJob"]["id"]))).created == 1


async def test_a_multipart_request_without_the_preflight_header_is_refused(app: Starlette, owner: Person,
                                                                          project: models.Project) -> None:
    import json

    operations = {"query": IMPORT, "variables": {"input": {"projectId": global_id("Project", project.id),
                                                           "file": None}}}
    form = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})}
    files = {"0": ("a.csv", io.BytesIO(GOOD_CSV.encode()), "text/csv")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        refused = await client.post("/graphql", data=form, files=files, headers=owner.headers)
        blank = await client.post("/graphql", data=form, files=files,
                                  headers={**owner.headers, "apollo-require-preflight": " "})
        allowed = await client.post("/graphql", data=form, files=files,
                                    headers={**owner.headers, "x-apollo-operation-name": "Import"})
    assert refused.status_code == 400 and "apollo-require-preflight" in refused.text
    assert blank.status_code == 400
    assert allowed.status_code == 200 and allowed.json()["data"]["importAccounts"]["errors"] == []
    assert await models.ImportJob.all().count() == 1


async def test_files_over_the_cap_are_refused(db: Any, owner: Person, project: models.Project, clock: Clock) -> None:
    settings = Settings(database_url="sqlite://:memory:", redis_url=None, max_upload_bytes=4096,
                        max_body_bytes=16_384)
    api = Api(create_app(settings, manage_db=False, run_worker=False, goals=registry_with(), clock=clock))
    too_big = _csv(200)  # ~11 KB: over the file's cap, under the request's
    payload = await api.upload(owner, project.id, too_big)
    assert payload["importJob"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.file")]
    assert "4,096 bytes" in payload["errors"][0]["message"]
    with pytest.raises(Exception, match="413"):
        await api.upload(owner, project.id, _csv(500))  # ~28 KB: over max_body_bytes + max_upload_bytes
    assert await models.ImportJob.all().count() == 0


async def test_another_projects_campaign_and_project_read_as_missing_and_viewers_cannot_import(
        api: Api, owner: Person, project: models.Project, campaign: models.Campaign, make_user: Any,
        make_project: Any, add_member: Any) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    payload = await api.upload(stranger, theirs.id, GOOD_CSV, campaignId=global_id("Campaign", campaign.id))
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.campaignId")]
    payload = await api.upload(stranger, project.id, GOOD_CSV)
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "input.projectId")]
    viewer = await make_user("viewer@example.com")
    await add_member(viewer, project, Role.VIEWER)
    payload = await api.upload(viewer, project.id, GOOD_CSV)
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert await models.ImportJob.all().count() == 0
    mine = await api.upload(owner, project.id, GOOD_CSV)
    assert await api.job(stranger, mine["importJob"]["id"]) is None  # node(id:) of another project: null
    assert (await api.job(viewer, mine["importJob"]["id"]))["filename"] == "accounts.csv"


async def test_a_job_stopped_mid_way_is_resumed_by_the_tick_and_completes_with_exact_counts(
        api: Api, owner: Person, project: models.Project, jobs: Any, stub_broker: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    # Ten rows, a duplicate of the fourth and a row with no name.
    csv = _csv(10) + "Company 3,c3.example,City 3,Person 3,p3@c3.example\n,nameless.example,,,\n"
    payload = await api.upload(owner, project.id, csv)
    job_id = _pk(payload["importJob"]["id"])
    stub_broker.flush_all()  # the message is lost with the worker that took it
    await imports.run_import(job_id, max_batches=1)  # the first batch commits, then the worker dies
    job = await models.ImportJob.get(id=job_id)
    assert (job.status, job.done, job.created, job.runs) == (ImportStatus.RUNNING, 4, 4, 1)
    assert await imports.resume_stalled() == []  # its heartbeat is fresh: left alone
    assert job.heartbeat_at is not None
    await models.ImportJob.filter(id=job_id).update(heartbeat_at=job.heartbeat_at - imports.STALLED_AFTER
                                                     - timedelta(seconds=1))
    assert await imports.resume_stalled() == [job_id]
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert (done["status"], done["rows"], done["created"], done["merged"], done["failed"]) == (
        "COMPLETED", 12, 10, 1, 1)
    assert done["progress"] == {"done": 12, "total": 12} and [e["line"] for e in done["rowErrors"]] == [13]
    assert (await models.ImportJob.get(id=job_id)).runs == 2
    assert await models.Account.filter(project_id=project.id).count() == 10
    assert await models.Contact.filter(project_id=project.id).count() == 10


async def test_a_stale_run_writes_nothing_once_another_took_the_job(owner: Person, project: models.Project,
                                                                    api: Api, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 4)
    payload = await api.upload(owner, project.id, _csv(8))
    job_id = _pk(payload["importJob"]["id"])
    job = await imports._claim(job_id)
    assert job is not None
    await models.ImportJob.filter(id=job_id).update(runs=job.runs + 1)  # another run took it over
    await imports.run_import(job_id)  # that one holds a fresh heartbeat: nothing to claim
    with pytest.raises(imports._Superseded):
        await imports._write(job, 0, None, imports._Cleaned())
    assert await models.Account.filter(project_id=project.id).count() == 0


@pytest.mark.parametrize("second_pass", [False, True], ids=["created", "merged"])
async def test_sql_statements_per_batch_do_not_grow_with_rows(api: Api, owner: Person, project: models.Project,
                                                              count_queries: Any, monkeypatch: pytest.MonkeyPatch,
                                                              second_pass: bool) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 50)

    async def statements(rows: int, start: int) -> int:
        if second_pass:
            first = await api.upload(owner, project.id, _csv(rows, start))
            await imports.run_import(_pk(first["importJob"]["id"]))
        payload = await api.upload(owner, project.id, _csv(rows, start))
        with count_queries() as counted:
            await imports.run_import(_pk(payload["importJob"]["id"]))
        job = await models.ImportJob.get(id=_pk(payload["importJob"]["id"]))
        assert job.status is ImportStatus.COMPLETED and job.done == rows
        assert (job.merged if second_pass else job.created) == rows
        return len(counted)

    two_batches = await statements(100, 0)
    eight_batches = await statements(400, 1000)
    per_batch = (eight_batches - two_batches) / 6
    assert per_batch <= 12, (two_batches, eight_batches)


async def test_the_subscription_follows_a_job_to_its_end(api: Api, owner: Person, project: models.Project,
                                                         jobs: Any, make_user: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from outboundql.gql.schema import schema

    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    payload = await api.upload(owner, project.id, _csv(5))
    document = """subscription($id: ID!) { importJobProgress(importJobId: $id) {
        status created progress { done total } } }"""

    def context(person: Person, access: Access) -> Context:
        return Context(request=None, response=None,  # type: ignore[arg-type]
                       settings=Settings(database_url="sqlite://:memory:"), goals=registry_with(),
                       access_or_none=access)

    stream: Any = await schema.subscribe(document, context_value=context(owner, await Access.for_user(owner.user)),
                                         variable_values={"id": payload["importJob"]["id"]})
    seen: list[dict[str, Any]] = []

    async def collect() -> None:
        async for result in stream:
            assert result.errors is None, result.errors
            seen.append(result.data["importJobProgress"])

    collecting = asyncio.create_task(collect())
    await asyncio.sleep(0.05)
    await jobs()
    await asyncio.wait_for(collecting, 10)  # the stream ends with the job
    assert seen[0]["status"] == "QUEUED"
    assert seen[-1] == {"status": "COMPLETED", "created": 5, "progress": {"done": 5, "total": 5}}
    dones = [s["progress"]["done"] for s in seen]
    assert dones == sorted(dones)  # batches that commit before the subscriber reads the job show as one step

    stranger = await make_user("stranger@example.com")
    other: Any = await schema.subscribe(document, context_value=context(stranger, await Access.for_user(
        stranger.user)), variable_values={"id": payload["importJob"]["id"]})
    with contextlib.suppress(StopAsyncIteration):
        first = await other.__anext__()
        assert first.errors and first.errors[0].extensions["code"] == "NOT_FOUND"


async def test_inserted_ids_come_back_in_the_rows_order_whatever_order_returning_answers() -> None:
    from outboundql.services import sql

    class Reversed:  # RETURNING's order is not promised: a database may answer the last row first
        capabilities = type("Capabilities", (), {"dialect": "sqlite"})()

        async def execute_query_dict(self, query: str, values: list[Any]) -> list[dict[str, Any]]:
            return [{"id": 10 + i} for i in reversed(range(query.count("), (") + 1))]

    rows = [{"name": f"A{i}", "name_key": f"a{i}"} for i in range(3)]
    assert await sql.insert_returning_ids(Reversed(), models.Account, rows) == [10, 11, 12]


async def test_two_jobs_of_one_file_at_once_land_each_account_once(owner: Person, project: models.Project,
                                                                   stub_broker: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 50)
    access = await Access.for_user(owner.user)
    started = [await imports.start_import(access, registry_with(), imports.StartImport(
        project.id, f"{name}.csv", _csv(200).encode())) for name in ("a", "b")]
    stub_broker.flush_all()
    # Each run writes in transactions of its own connection (PostgreSQL's pool): they interleave.
    await asyncio.gather(*(imports.run_import(s.job.id) for s in started if s.job))
    done = [await models.ImportJob.get(id=s.job.id) for s in started if s.job]
    assert [j.status for j in done] == [ImportStatus.COMPLETED] * 2
    assert sum(j.created for j in done) == 200 and sum(j.merged for j in done) == 200
    assert await models.Account.filter(project_id=project.id).count() == 200
    assert await models.Contact.filter(project_id=project.id).count() == 200


async def test_an_import_and_bulk_creations_at_once_land_each_account_once(owner: Person, project: models.Project,
                                                                          stub_broker: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from outboundql.services import accounts

    monkeypatch.setattr(imports, "BATCH_SIZE", 50)
    access = await Access.for_user(owner.user)
    started = await imports.start_import(access, registry_with(), imports.StartImport(
        project.id, "a.csv", _csv(120).encode()))
    stub_broker.flush_all()
    assert started.job is not None
    items = tuple(accounts.NewAccount(name=f"Company {i}", domain=f"c{i}.example") for i in range(0, 120, 3))

    async def bulk() -> accounts.BulkCreated:
        return await accounts.bulk_create_accounts(access, accounts.BulkCreateAccounts(project.id, items),
                                                   max_items=1_000)

    # The import and two creations interleave on their own connections (PostgreSQL): the project lock queues
    # every writer that deduplicates, so each of them sees what the others committed.
    await asyncio.gather(imports.run_import(started.job.id), bulk(), bulk())
    job = await models.ImportJob.get(id=started.job.id)
    assert job.status is ImportStatus.COMPLETED and job.created + job.merged == 120
    assert await models.Account.filter(project_id=project.id).count() == 120


async def test_a_run_that_finds_the_campaign_step_done_keeps_its_result_and_notes(
        api: Api, owner: Person, project: models.Project, campaign: models.Campaign, jobs: Any) -> None:
    csv = "Company,Website,quality_score\nGlobex,globex.example,0.4\nInitech,initech.example,high\n"
    payload = await api.upload(owner, project.id, csv, campaignId=global_id("Campaign", campaign.id))
    await jobs()
    job_id = _pk(payload["importJob"]["id"])
    first = await models.ImportJob.get(id=job_id)
    assert first.campaign_result is not None and first.campaign_result["added"] == 2
    assert not await models.ImportFile.filter(import_job_id=job_id).exists()  # not kept once the job ended
    # A run that died after the campaign step, before marking the job completed, is resumed.
    await models.ImportFile.create(import_job_id=job_id, content=csv.encode())
    assert first.heartbeat_at is not None
    await models.ImportJob.filter(id=job_id).update(
        status=ImportStatus.RUNNING, heartbeat_at=first.heartbeat_at - imports.STALLED_AFTER - timedelta(seconds=1))
    await imports.run_import(job_id)
    again = await models.ImportJob.get(id=job_id)
    assert (again.status, again.runs, again.campaign_result) == (ImportStatus.COMPLETED, 2, first.campaign_result)
    assert again.row_errors == first.row_errors and [e["line"] for e in again.row_errors] == [3]
    assert not await models.ImportFile.filter(import_job_id=job_id).exists()
    done = await api.job(owner, payload["importJob"]["id"])
    assert done["campaignResult"]["added"] == 2 and done["campaignResult"]["scored"] == 1


async def test_a_page_of_import_jobs_costs_the_same_statements_for_3_or_30_jobs(
        api: Api, owner: Person, project: models.Project, campaign: models.Campaign, count_queries: Any) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Project { importJobs(first: 50) { edges { node {
        id status filename rows progress { done total } rowErrors { line reason } columnMapping { column field }
        campaign { id name } campaignResult { added } } } } } } }"""

    async def statements(total: int) -> int:
        have = await models.ImportJob.filter(project_id=project.id).count()
        await models.ImportJob.bulk_create([
            models.ImportJob(project_id=project.id, filename=f"f{k}.csv", campaign_id=campaign.id,
                             status=ImportStatus.COMPLETED, rows=2, done=2,
                             row_errors=[{"line": 2, "reason": "bad"}], column_mapping={"Company": "name"})
            for k in range(total - have)])
        await api.run(owner, WARM_UP)  # the token's first request also fills the authentication cache
        with count_queries() as counted:
            data = await api.run(owner, query, {"id": global_id("Project", project.id)})
        edges = data["node"]["importJobs"]["edges"]
        assert len(edges) == total and all(e["node"]["campaign"]["name"] == campaign.name for e in edges)
        return len(counted)

    assert await statements(3) == await statements(30)
