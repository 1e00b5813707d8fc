"""importAccounts: a CSV file uploaded (multipart, by gql's HTTPX transport) becomes a background job that lands
its rows as accounts and contacts, deduplicated, with per-row errors, progress and counters; dry runs, mappings
given and guessed, and whole-file refusals that write nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette

from outboundql import models
from outboundql.app import create_app
from outboundql.enums import SuppressionKind
from outboundql.goals.testing import registry_with
from outboundql.services import events
from outboundql.services.clock import Clock
from outboundql.settings import Settings
from tests.api.imports_helpers import GOOD_CSV, Api
from tests.helpers import Person, global_id


@pytest.fixture
def app(db: Any, settings: Settings, clock: Clock) -> Starlette:
    return create_app(settings, manage_db=False, run_worker=False, goals=registry_with(), clock=clock)


@pytest.fixture
def api(app: Starlette) -> Api:
    return Api(app)


async def _pk(gid: str) -> int:
    from strawberry.relay import GlobalID

    return int(GlobalID.from_id(gid).node_id)


async def test_a_good_file_lands_with_contacts_counters_and_progress(api: Api, owner: Person,
                                                                     project: models.Project, jobs: Any) -> None:
    seen: list[dict[str, Any]] = []
    payload = await api.upload(owner, project.id, GOOD_CSV)
    assert payload["errors"] == []
    job = payload["importJob"]
    assert job["status"] == "QUEUED" and job["rows"] == 3 and job["progress"] == {"done": 0, "total": 3}
    assert job["filename"] == "accounts.csv" and job["origin"] == "UPLOAD" and not job["dryRun"]
    assert {m["column"]: m["field"] for m in payload["columnMapping"]} == {
        "Company": "name", "Website": "website", "City": "city", "Country": "country", "Phone": "contact.phone",
        "Contact name": "contact.name", "Contact email": "contact.email"}
    assert job["columnMapping"] == payload["columnMapping"]

    async def listen() -> None:
        async for event in events.get_bus().subscribe(events.import_job_channel(await _pk(job["id"]))):
            seen.append(event)
            if event["status"] == "completed":
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.01)
    await jobs()
    await asyncio.wait_for(listener, 5)

    done = await api.job(owner, job["id"])
    assert done["status"] == "COMPLETED"
    assert (done["rows"], done["created"], done["merged"], done["skipped"], done["failed"]) == (3, 3, 0, 0, 0)
    assert done["progress"] == {"done": 3, "total": 3} and done["rowErrors"] == []
    assert done["startedAt"] and done["finishedAt"] and done["error"] is None
    accounts = {a.domain: a for a in await models.Account.filter(project_id=project.id)}
    assert set(accounts) == {"acme.example", "globex.example", "initech.example"}
    assert accounts["acme.example"].name == "Acme" and accounts["acme.example"].city == "Madrid"
    assert accounts["acme.example"].country == "ES"
    people = {c.email: c for c in await models.Contact.filter(project_id=project.id)}
    assert set(people) == {"ana@acme.example", "bruno@globex.example", "clara@initech.example"}
    assert people["ana@acme.example"].phone == "+34910000001"
    assert people["ana@acme.example"].account_id == accounts["acme.example"].id
    assert await models.AccountStatusChange.filter(account_id__in=[a.id for a in accounts.values()]).count() == 3
    assert [e["status"] for e in seen][-1] == "completed"
    assert [e["done"] for e in seen if e["status"] == "running"][-1] == 3


async def test_a_dry_run_counts_and_writes_nothing(api: Api, owner: Person, project: models.Project,
                                                   jobs: Any) -> None:
    payload = await api.upload(owner, project.id, GOOD_CSV + "Acme,https://acme.example,,,,,\nBad,,,,,,not-an-email\n",
                               dryRun=True)
    assert payload["importJob"]["dryRun"] is True
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert done["status"] == "COMPLETED"
    assert (done["rows"], done["created"], done["merged"], done["failed"]) == (5, 3, 1, 1)
    assert done["rowErrors"][0]["line"] == 6 and "Contact email" in done["rowErrors"][0]["reason"]
    assert await models.Account.filter(project_id=project.id).count() == 0
    assert await models.Contact.filter(project_id=project.id).count() == 0


async def test_the_same_file_twice_merges_everything_the_second_time(api: Api, owner: Person,
                                                                     project: models.Project, jobs: Any) -> None:
    first = await api.upload(owner, project.id, GOOD_CSV)
    await jobs()
    second = await api.upload(owner, project.id, GOOD_CSV)
    await jobs()
    one = await api.job(owner, first["importJob"]["id"])
    two = await api.job(owner, second["importJob"]["id"])
    assert (one["created"], one["merged"]) == (3, 0)
    assert (two["created"], two["merged"], two["failed"], two["status"]) == (0, 3, 0, "COMPLETED")
    assert await models.Account.filter(project_id=project.id).count() == 3
    assert await models.Contact.filter(project_id=project.id).count() == 3


async def test_duplicate_rows_inside_one_file_merge_into_the_first(api: Api, owner: Person,
                                                                    project: models.Project, jobs: Any) -> None:
    csv = ("Company,Website,City,Industry,Contact name,Contact email\n"
           "Acme,acme.example,Madrid,,Ana,ana@acme.example\n"
           "ACME S.L.,,Madrid,Software,Ana Ruiz,ana@acme.example\n"  # same name + city: merges, fills industry
           "Acme Spain,https://www.acme.example/about,,,Luis,luis@acme.example\n")  # same domain
    payload = await api.upload(owner, project.id, csv)
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert (done["created"], done["merged"], done["failed"]) == (1, 2, 0)
    (account,) = await models.Account.filter(project_id=project.id)
    assert (account.name, account.domain, account.industry) == ("Acme", "acme.example", "Software")
    people = sorted(c.email for c in await models.Contact.filter(account_id=account.id))
    assert people == ["ana@acme.example", "luis@acme.example"]  # Ana once: the same e-mail at one account


async def test_bad_rows_are_reported_with_their_lines_while_good_rows_land(api: Api, owner: Person,
                                                                           project: models.Project,
                                                                           jobs: Any) -> None:
    csv = ("Company,Website,Employees,Contact name,Contact email\n"
           "Good One,good-one.example,12,Ana,ana@good.example\n"
           ",nameless.example,,,\n"                              # line 3: no name
           "Bad Mail,bad-mail.example,,Bob,bob(at)example\n"      # line 4: e-mail
           '"Multi\nLine",multi.example,lots,,\n'                  # line 5 (2 lines): employees
           "Good Two,good-two.example,,,\n")                      # line 7
    payload = await api.upload(owner, project.id, csv)
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert (done["rows"], done["created"], done["failed"], done["status"]) == (5, 2, 3, "COMPLETED")
    errors = {e["line"]: e["reason"] for e in done["rowErrors"]}
    assert sorted(errors) == [3, 4, 5]
    assert "name" in errors[3].lower()
    assert errors[4].startswith("Contact email:")
    assert errors[5].startswith("Employees:") and "whole number" in errors[5]
    names = sorted(a.name for a in await models.Account.filter(project_id=project.id))
    assert names == ["Good One", "Good Two"]


async def test_a_given_mapping_is_used_and_answered(api: Api, owner: Person, project: models.Project,
                                                    jobs: Any) -> None:
    csv = "Org,Web,Ignored,Segment\nAcme,acme.example,x,enterprise\n"
    mapping = [{"column": "Org", "field": "name"}, {"column": "Web", "field": "domain"},
               {"column": "Ignored", "field": ""}, {"column": "Segment", "field": "custom.segment"}]
    payload = await api.upload(owner, project.id, csv, mapping=mapping)
    assert payload["errors"] == [] and payload["columnMapping"] == mapping
    await jobs()
    (account,) = await models.Account.filter(project_id=project.id)
    assert (account.name, account.domain, account.custom_fields) == ("Acme", "acme.example", {"segment": "enterprise"})


async def test_a_bad_mapping_is_refused_on_its_items_with_nothing_written(api: Api, owner: Person,
                                                                          project: models.Project) -> None:
    csv = "Org,Web\nAcme,acme.example\n"
    payload = await api.upload(owner, project.id, csv, mapping=[
        {"column": "Org", "field": "name"}, {"column": "Web", "field": "nonsense"},
        {"column": "Nope", "field": "city"}])
    assert payload["importJob"] is None
    fields = {e["field"]: e["code"] for e in payload["errors"]}
    assert fields == {"input.mapping[1].field": "INVALID", "input.mapping[2].column": "INVALID"}
    no_name = await api.upload(owner, project.id, csv, mapping=[{"column": "Web", "field": "domain"}])
    assert [e["field"] for e in no_name["errors"]] == ["input.mapping"]
    guessed = await api.upload(owner, project.id, "Web,Notes\nacme.example,x\n")  # nothing reads as a name
    assert guessed["importJob"] is None and [e["field"] for e in guessed["errors"]] == ["input.file"]
    assert {"column": "Web", "field": "website"} in guessed["columnMapping"]  # the guess, to correct
    assert await models.ImportJob.all().count() == 0 and await models.ImportFile.all().count() == 0


@pytest.mark.parametrize("content, code", [
    (b"", "empty"), (b"\x00\x01\x02\xff" * 400, "binary"), (b"Company,Website\n", "header only"),
])
async def test_files_that_are_no_table_are_refused_whole(api: Api, owner: Person, project: models.Project,
                                                         content: bytes, code: str) -> None:
    payload = await api.upload(owner, project.id, content)
    assert payload["importJob"] is None, code
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "input.file")]
    assert await models.ImportJob.all().count() == 0


async def test_10001_rows_are_refused_whole_with_the_limit_in_the_error(api: Api, owner: Person,
                                                                        project: models.Project) -> None:
    csv = "Company,Website\n" + "".join(f"Company {i},c{i}.example\n" for i in range(10_001))
    payload = await api.upload(owner, project.id, csv)
    assert payload["importJob"] is None
    (error,) = payload["errors"]
    assert error["field"] == "input.file" and "10,000" in error["message"].replace("10000", "10,000")
    assert await models.ImportJob.all().count() == 0 and await models.Account.all().count() == 0


async def test_suppressed_addresses_are_skipped_with_a_reason(api: Api, owner: Person, project: models.Project,
                                                              jobs: Any) -> None:
    await models.Suppression.create(project=project, kind=SuppressionKind.EMAIL, value="bruno@globex.example",
                                    source="erasure")
    await models.Suppression.create(project=project, kind=SuppressionKind.DOMAIN, value="initech.example")
    payload = await api.upload(owner, project.id, GOOD_CSV)
    await jobs()
    done = await api.job(owner, payload["importJob"]["id"])
    assert (done["created"], done["skipped"], done["failed"]) == (1, 2, 0)
    assert [e["line"] for e in done["rowErrors"]] == [3, 4]
    assert "bruno@globex.example" in done["rowErrors"][0]["reason"]
    assert [a.domain for a in await models.Account.filter(project_id=project.id)] == ["acme.example"]


async def test_jobs_are_listed_newest_first_and_read_as_nodes(api: Api, owner: Person, project: models.Project,
                                                              campaign: models.Campaign, jobs: Any) -> None:
    first = await api.upload(owner, project.id, GOOD_CSV, filename="first.csv")
    second = await api.upload(owner, project.id, GOOD_CSV, filename="second.csv",
                              campaignId=global_id("Campaign", campaign.id))
    listed = await api.run(owner, """query($slug: String!, $c: ID) { project(slug: $slug) {
        all: importJobs(first: 10) { totalCount edges { node { filename } } }
        one: importJobs(campaignId: $c) { totalCount edges { node { filename campaign { name } } } } } }""",
                           {"slug": project.slug, "c": global_id("Campaign", campaign.id)})
    assert [e["node"]["filename"] for e in listed["project"]["all"]["edges"]] == ["second.csv", "first.csv"]
    assert listed["project"]["one"]["edges"] == [{"node": {"filename": "second.csv", "campaign": {"name": "Camp"}}}]
    assert (await api.job(owner, first["importJob"]["id"]))["filename"] == "first.csv"
    fields = (await api.run(owner, "{ importFields { key label } }"))["importFields"]
    assert {"key": "name", "label": "Name"} in fields and any(f["key"] == "contact.email" for f in fields)
    await jobs()
    assert second["importJob"]["id"] != first["importJob"]["id"]
