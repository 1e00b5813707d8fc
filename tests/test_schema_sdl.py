"""The committed schema.graphql is the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from outboundql.gql.sdl import sdl

ROOT = Path(__file__).resolve().parents[1]


def test_committed_sdl_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), "schema.graphql is stale: run `outboundql export-schema -o schema.graphql`"
