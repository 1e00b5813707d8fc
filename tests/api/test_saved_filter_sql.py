"""Saved filters matched in SQL: the same accounts as the Python evaluation for a broad generated set of
expressions over varied accounts (on each database the suite runs on), bounded statement counts, and hostile
values kept in bound parameters."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest
from tortoise import connections

from outboundql import models
from outboundql.enums import AccountStatus
from outboundql.errors import Collector
from outboundql.gql import keyset
from outboundql.services import saved_filters
from outboundql.services.filter_expressions import FIELDS, Kind, match, validate_expression
from outboundql.services.filter_sql import Binder, compile_filter
from outboundql.services.sql import is_postgres

SEED = 20260415
HOSTILE = ["it's", 'say "hi"', "100%", "a_b", "%", "_", "\\", "'; DROP TABLE account; --", "$1", "?1", "日本",
           "ÉCOLE", "straße", "STRASSE", "ǅ", "K", "ﬁ", "Σ", "ς", "İ", "naïve", "🙂", "\u00a0x", "[", "*", "a-z"]
KEYS = ["seg", "arr", "flag", "list", "obj", "a.b", 'q"r', "é k", "x\\y", "nothing"]
WORDS = ["acme", "Acme", "ACME", "beta", "Société", "École", "STRASSE", "Straße", "Ǆemal", "ﬁnance", "Kelvin",
         "ΣΟΦΙΑ", "σοφια", "naïve", "日本", "it's", "100%", "a_b", "x\\y", "", " ", "🙂"]
CUSTOM_VALUES: list[Any] = [
    "Enterprise", "enterprise", "ENTERPRISE", "SMB", "", "École", "straße", "mid", "it's", "100%", 0, 1, -1, 7, 42,
    120000, 9000, 2 ** 53, 2 ** 53 + 1, -(2 ** 60), 10 ** 20, 0.5, 1.5, -2.25, 0.1, 1e20, 1e-5, -0.0, 7.0, True,
    False, None, [], {}, ["EU", "us"], ["ÉCOLE", "x"], [1, 2, 42], [True, None], [1.5, "a"], [["nested"]],
    [{"k": 1}], {"a": 1}, {"Enterprise": True},
]
DATES = ["2020-01-01", "2026-06-30", "2026-07-01", "2027-01-01", "1999-12-31", "9999-12-31", "0001-01-01"]


def _accounts(project_id: int, rng: random.Random, n: int) -> list[dict[str, Any]]:
    out = []
    statuses = list(AccountStatus)
    for i in range(n):
        custom = {k: rng.choice(CUSTOM_VALUES) for k in rng.sample(KEYS, rng.randint(0, 5)) if k != "nothing"}
        out.append({
            "project_id": project_id,
            "name": f"{rng.choice(WORDS)} {i}" if i % 7 else rng.choice(WORDS) or "x",
            "domain": rng.choice([None, "", "acme.com", "ACME.COM", "beta.de", "école.fr"]),
            "industry": rng.choice([None, "", "Software", "software", "SOFTWARE HOUSE", "Straße", "100% Fun"]),
            "employee_count": rng.choice([None, 0, 1, 50, 500, 10_000, -3]),
            "country": rng.choice([None, "FR", "DE", "fr", "ES"]),
            "city": rng.choice([None, "", "Paris", "PARIS", "Zürich", "ZÜRICH", "İstanbul", "a_b"]),
            "language": rng.choice([None, "fr", "de", "EN"]),
            "time_zone": rng.choice([None, "Europe/Paris", "Asia/Tokyo"]),
            "status": rng.choice(statuses),
            "tags": rng.sample(["VIP", "vip", "saas", "SaaS", "École", "ÉCOLE", "straße", "100%", "a_b", "it's"],
                               rng.randint(0, 3)),
            "source": rng.choice([None, "", "import", "API", "crm"]),
            "contract_end_date": rng.choice([None, *(dt.date.fromisoformat(d) for d in DATES[:4])]),
            "custom_fields": custom,
        })
    return out


def _value(kind: Kind, op: str, rng: random.Random) -> Any:
    if op == "exists":
        return rng.choice([True, False])
    pools: dict[Kind, list[Any]] = {
        Kind.TEXT: [*WORDS[:-3], *HOSTILE, "acme.com", "software", "paris", "fr", "de", "europe/paris", "api",
                    "zürich", "istanbul", "ware", "ACME 1", "it"],
        Kind.TAGS: ["vip", "SAAS", "école", "STRASSE", "100%", "a_b", "IT'S", "none", *HOSTILE[:6]],
        Kind.NUMBER: [0, 1, 50, 500, 49.5, -3, 10 ** 30, -(10 ** 30), 1e300, 2 ** 40],
        Kind.STATUS: [s.value for s in AccountStatus],
        Kind.DATE: DATES,
        Kind.DATETIME: ["2026-01-01", "2025-06-15", "2026-12-31T23:59:59+02:00", "2026-03-01T00:00:00",
                        "9999-12-31", "2024-02-29T12:00:00.5-05:00"],
        Kind.CUSTOM: [v for v in CUSTOM_VALUES if not isinstance(v, (list, dict))] + HOSTILE[:8] + ["1", "7", "true",
                                                                                                    "none", "eu"],
    }
    pool = pools[kind]
    if op in ("in", "not_in"):
        return rng.sample(pool, rng.randint(1, 4))
    return rng.choice(pool)


def _condition(rng: random.Random) -> dict[str, Any]:
    from outboundql.services.filter_expressions import KIND_OPS

    name = rng.choice([*FIELDS, *(f"cf.{k}" for k in KEYS), *(f"cf.{k}" for k in KEYS[:5])])
    kind = Kind.CUSTOM if name.startswith("cf.") else FIELDS[name]
    op = rng.choice(KIND_OPS[kind])
    return {"field": name, "op": op, "value": _value(kind, op, rng)}


def _expression(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 3 or roll < 0.55:
        return _condition(rng)
    if roll < 0.7:
        return {"not": _expression(rng, depth + 1)}
    return {rng.choice(["all", "any"]): [_expression(rng, depth + 1) for _ in range(rng.randint(1, 3))]}


def _expressions(n: int) -> list[Any]:
    rng = random.Random(SEED)
    out: list[Any] = [{"all": []}]
    while len(out) < n:
        check = Collector()
        canonical = validate_expression(_expression(rng), check)
        if not check.items:
            out.append(canonical)
    return out


ALL_COLUMNS = {*FIELDS, "custom_fields"}


async def _seed(project: models.Project, n: int = 200) -> None:
    rng = random.Random(SEED)
    await models.Account.bulk_create([models.Account(**row) for row in _accounts(project.id, rng, n)])
    conn = connections.get("default")
    ids = sorted(await models.Account.filter(project_id=project.id).values_list("id", flat=True))
    moments = [dt.datetime(2025, 6, 15, 0, 0, tzinfo=dt.UTC), dt.datetime(2025, 6, 14, 23, 59, 59, 999999, dt.UTC),
               dt.datetime(2026, 1, 1, 0, 0, 0, 1, dt.UTC), dt.datetime(2026, 12, 31, 22, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2024, 2, 29, 17, 0, 0, 500000, dt.UTC)]
    for k, moment in enumerate(moments):
        await models.Account.filter(id__in=ids[k::len(moments)]).update(created_at=moment)
    if conn.capabilities.dialect == "sqlite":  # timestamps another writer stored with an offset
        await conn.execute_query("UPDATE account SET created_at = '2026-03-01 01:00:00+01:00' WHERE id = ?",
                                 [ids[5]])


async def _python(project: models.Project, expression: Any) -> list[int]:
    rows = list(await models.Account.filter(project_id=project.id).order_by("id").values("id", *ALL_COLUMNS))
    return match(expression, rows)


@pytest.fixture
async def seeded(db: Any, project: models.Project) -> models.Project:
    await _seed(project)
    return project


async def test_sql_matches_python_for_generated_expressions(seeded: models.Project) -> None:
    """The core proof: every generated expression selects exactly the accounts the Python evaluation does
    (ids, counts for many filters in one statement, and streamed batches)."""
    expressions = _expressions(250)
    rows = list(await models.Account.filter(project_id=seeded.id).order_by("id").values("id", *ALL_COLUMNS))
    expected = [match(e, rows) for e in expressions]
    assert sum(1 for ids in expected if 0 < len(ids) < len(rows)) > 120, "the generator must discriminate"
    mismatches = []
    for expression, want in zip(expressions, expected, strict=True):
        got = await saved_filters.account_ids_matching(seeded.id, expression)
        if got != want:
            mismatches.append((expression, sorted(set(got) ^ set(want))[:5]))
    assert not mismatches, mismatches[:5]
    counts = []
    for start in range(0, len(expressions), 50):
        part = expressions[start:start + 50]
        counts.extend(await saved_filters._counts(seeded.id, part))
    assert counts == [len(ids) for ids in expected]
    batched = [ids async for batch in saved_filters.iter_account_ids_matching(seeded.id, expressions[0], batch_size=7)
               for ids in batch]
    assert batched == expected[0]


async def test_many_expressions_judged_at_once_for_a_few_accounts_like_python(seeded: models.Project,
                                                                               count_queries: Any) -> None:
    """Audience auto-fill's matching (`matches_among`): every expression against the touched accounts in one
    statement, the rows SQL cannot judge read once for all of them, the same accounts as the Python evaluation."""
    expressions = _expressions(250)
    rows = list(await models.Account.filter(project_id=seeded.id).order_by("id").values("id", *ALL_COLUMNS))
    among = sorted(random.Random(SEED + 1).sample([int(r["id"]) for r in rows], 70))
    chosen = [r for r in rows if r["id"] in set(among)]
    with count_queries() as queries:
        got = await saved_filters.matches_among(seeded.id, expressions, [*among, 10 ** 9, among[0]])
    assert got == [match(e, chosen) for e in expressions]
    groups = len(list(saved_filters._grouped(seeded.id, expressions, is_postgres(connections.get("default")))))
    assert len(queries) == groups + 1  # the judging (within the parameter budget), then the doubtful rows
    assert await saved_filters.matches_among(seeded.id, expressions[:3], []) == [[], [], []]


async def test_matching_accounts_page_by_key_like_python(seeded: models.Project) -> None:
    """The landscape's pages (`MatchingAccounts`: an ORM query paged by key whose doubtful rows are confirmed in
    Python) hold, forwards and backwards, exactly the accounts the Python evaluation matches."""
    rows = list(await models.Account.filter(project_id=seeded.id).order_by("id").values("id", *ALL_COLUMNS))
    dropped = 0
    for expression in [*_expressions(250)[::5], *DOUBTFUL]:
        want = match(expression, rows)
        matching = saved_filters.MatchingAccounts(seeded.id, expression)

        async def keep(read: list[Any], matching: saved_filters.MatchingAccounts = matching) -> list[Any]:
            nonlocal dropped
            kept = await matching.keep(read)
            dropped += len(read) - len(kept)
            return kept

        queryset = matching.queryset().order_by("id")
        keys = keyset.keys_of(queryset)
        assert keys is not None
        forward: list[int] = []
        cursor = None
        while True:
            found, _, more = await keyset.page(queryset, keys, first=23, last=None, after=cursor, before=None,
                                               keep=keep)
            forward += [row.id for row in found]
            if not more:
                break
            cursor = keyset.Cursor((found[-1].id,))
        backward: list[int] = []
        cursor = None
        while True:
            found, more, _ = await keyset.page(queryset, keys, first=None, last=31, after=None, before=cursor,
                                               keep=keep)
            backward = [row.id for row in found] + backward
            if not more:
                break
            cursor = keyset.Cursor((found[0].id,))
        assert forward == backward == want, expression
        assert await matching.count() == len(want)
    assert dropped > 50, "rows SQL cannot judge, rejected by Python, must be read"


DOUBTFUL = [
    {"field": "cf.seg", "op": "contains", "value": "prise"},
    {"field": "cf.list", "op": "contains", "value": 42},
    {"field": "name", "op": "contains", "value": "acme"},
    {"any": [{"field": "city", "op": "eq", "value": "zürich"}, {"field": "tags", "op": "in", "value": ["école"]}]},
]


async def test_rows_sql_cannot_judge_are_streamed_in_batches(seeded: models.Project,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saved_filters, "BATCH", 3)
    for expression in DOUBTFUL:
        want = await _python(seeded, expression)
        assert want, expression
        assert await saved_filters.account_ids_matching(seeded.id, expression) == want
        assert await saved_filters.count_matching(seeded.id, expression) == len(want)
        assert await saved_filters.account_ids_matching(seeded.id, expression, limit=2) == want[:2]
        among = [*want[::2], 10 ** 9, *(i + 1 for i in want)]
        assert await saved_filters.account_ids_matching(seeded.id, expression, among=among) == sorted(
            set(want) & set(among))
        batches = [batch async for batch in saved_filters.iter_account_ids_matching(seeded.id, expression,
                                                                                   batch_size=5)]
        assert [i for batch in batches for i in batch] == want
        assert all(0 < len(batch) <= 5 for batch in batches)


def _sql_text(expression: Any, postgres: bool) -> str:
    compiled = compile_filter(expression, Binder(postgres))
    return f"{compiled.where} {compiled.uncertain}"


def _with_value(raw: dict[str, Any], value: Any) -> Any:
    check = Collector()
    out = validate_expression(json.loads(json.dumps(raw).replace('"@"', json.dumps(value))), check)
    return None if check.items else out


async def test_hostile_values_are_bound_not_spliced(db: Any, project: models.Project) -> None:
    shapes = [
        {"field": "name", "op": "eq", "value": "@"}, {"field": "name", "op": "contains", "value": "@"},
        {"field": "tags", "op": "contains", "value": "@"}, {"field": "cf.@", "op": "eq", "value": "@"},
        {"field": "cf.k", "op": "in", "value": ["@", "plain"]}, {"field": "cf.@", "op": "exists"},
        {"field": "cf.k", "op": "contains", "value": "@"}, {"field": "cf.k", "op": "gte", "value": "@"},
    ]
    for value in HOSTILE:
        await models.Account.bulk_create([
            models.Account(project_id=project.id, name=value, tags=[value], custom_fields={value: value}),
            models.Account(project_id=project.id, name=f"x{value}y", tags=["other"], custom_fields={"k": value}),
            models.Account(project_id=project.id, name="plain", tags=[], custom_fields={})])
        for shape in shapes:
            expression = _with_value(shape, value)
            if expression is None:  # e.g. a blank text value: refused before any SQL
                continue
            want = await _python(project, expression)
            assert await saved_filters.account_ids_matching(project.id, expression) == want, (value, shape)
            for postgres in (False, True):  # the value is a parameter: the SQL is the same as for a plain one
                assert _sql_text(expression, postgres) == _sql_text(_with_value(shape, "zzz"), postgres)
    assert await models.Account.filter(project_id=project.id).count() == 3 * len(HOSTILE)


async def test_match_count_of_a_page_of_filters_is_one_count_whatever_the_accounts(
        db: Any, project: models.Project, owner: Any, count_queries: Any) -> None:
    expressions = _expressions(30)[1:]
    rows = []
    for n in (20, 200):
        await models.Account.bulk_create([models.Account(project_id=project.id, name=f"acct {i}", country="FR",
                                                         tags=["vip"], custom_fields={"seg": "smb", "arr": i})
                                          for i in range(n)])
        filters = [models.SavedFilter(project_id=project.id, name=f"f{n}-{i}", expression=e)
                   for i, e in enumerate(expressions)]
        await models.SavedFilter.bulk_create(filters)
        saved = list(await models.SavedFilter.filter(project_id=project.id, name__startswith=f"f{n}-"))
        with count_queries() as queries:
            counts = await saved_filters.match_counts(saved)
        rows.append(len(queries))
        everything = list(await models.Account.filter(project_id=project.id).order_by("id").values(
            "id", *ALL_COLUMNS))
        assert counts == {f.id: len(match(f.expression, everything)) for f in saved}
    assert rows == [2, 2]  # the accounts revision, then one COUNT statement for all the filters
