"""Account events come from the services, once committed: a job, the demo seeder or a test calling a
service directly publishes what the API would (`accountEvents`: created, merged, updated)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from outboundql import models
from outboundql.enums import AccountStatus
from outboundql.errors import InvalidInput
from outboundql.services import account_merge, events
from outboundql.services import accounts as accounts_service
from tests.helpers import access_for, data_of, global_id


async def published(project_id: int, action: Callable[[], Awaitable[Any]]) -> list[tuple[int, str]]:
    """The (account id, kind) events of ``project_id`` published while ``action`` runs."""
    stream = events.get_bus().subscribe(events.account_channel(project_id))
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)  # let the subscription register before anything is published
    got: list[dict[str, Any]] = []
    try:
        await action()
        with contextlib.suppress(TimeoutError):
            got.append(await asyncio.wait_for(first, timeout=0.2))
            while True:
                got.append(await asyncio.wait_for(anext(stream), timeout=0.05))
    finally:
        first.cancel()
        await stream.aclose()
    return [(event["account_id"], event["kind"]) for event in got]


async def test_each_write_publishes_its_event_when_called_directly(owner, project) -> None:
    access = await access_for(owner)
    create = accounts_service.CreateAccount(project_id=project.id, name="Acme", domain="acme.com")

    created: list[accounts_service.Upserted] = []

    async def create_one() -> None:
        created.append(await accounts_service.create_account(access, create))

    assert await published(project.id, create_one) == [(created[0].account.id, "created")]
    acme = created[0].account
    assert await published(project.id, lambda: accounts_service.create_account(access, create)) == [
        (acme.id, "merged")]

    bulk = accounts_service.BulkCreateAccounts(project.id, (
        accounts_service.NewAccount(name="Acme again", domain="acme.com"),
        accounts_service.NewAccount(name="Bad", domain="not a domain"),
        accounts_service.NewAccount(name="Beta"),
    ))
    results: list[accounts_service.BulkCreated] = []

    async def bulk_create() -> None:
        results.append(await accounts_service.bulk_create_accounts(access, bulk, max_items=10))

    bulk_events = await published(project.id, bulk_create)
    beta = results[0].items[2].upserted
    assert beta is not None
    assert bulk_events == [(acme.id, "merged"), (beta.account.id, "created")]  # the bad item lands nothing

    update = accounts_service.UpdateAccount(acme.id, city="Madrid")
    assert await published(project.id, lambda: accounts_service.update_account(access, update)) == [
        (acme.id, "updated")]

    statuses = accounts_service.UpdateAccountStatuses((acme.id, beta.account.id, None), AccountStatus.QUALIFIED)
    assert await published(project.id, lambda: accounts_service.update_statuses(access, statuses)) == [
        (acme.id, "updated"), (beta.account.id, "updated")]
    assert await published(project.id, lambda: accounts_service.update_statuses(access, statuses)) == []  # unchanged

    merge = account_merge.MergeAccounts(acme.id, (beta.account.id,))
    assert await published(project.id, lambda: account_merge.merge_accounts(access, merge)) == [(acme.id, "merged")]


async def test_a_refused_write_publishes_nothing(owner, project) -> None:
    access = await access_for(owner)

    async def refused() -> None:
        try:
            await accounts_service.create_account(access, accounts_service.CreateAccount(
                project_id=project.id, name="Bad", domain="not a domain"))
        except InvalidInput:
            return
        raise AssertionError("the invalid domain was accepted")

    assert await published(project.id, refused) == []
    assert await models.Account.filter(project_id=project.id).count() == 0


async def test_the_api_publishes_the_same_events(gql, owner, project) -> None:
    create = "mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }"
    variables = {"input": {"projectId": global_id("Project", project.id), "name": "Acme"}}

    async def via_api() -> None:
        data_of(await gql(create, variables, as_=owner))

    events_seen = await published(project.id, via_api)
    row = await models.Account.get(project_id=project.id)
    assert events_seen == [(row.id, "created")]

