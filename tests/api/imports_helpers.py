"""Uploading files to importAccounts with a real GraphQL client (gql's HTTPX transport, multipart requests), and
reading the job back."""

from __future__ import annotations

import io
from typing import Any

import httpx2
from gql.transport.httpx import HTTPXAsyncTransport
from starlette.applications import Starlette

from gql import Client, FileVar, GraphQLRequest
from tests.helpers import Person, global_id

JOB_FIELDS = """
  id status filename rows created merged skipped failed dryRun origin sender error
  progress { done total } rowErrors { line reason } columnMapping { column field }
  campaign { id } campaignResult { added alreadyPresent blocked { reason status count accountIds } scored error }
  createdAt startedAt finishedAt
"""
IMPORT = f"""
mutation Import($input: ImportAccountsInput!) {{
  importAccounts(input: $input) {{
    importJob {{ {JOB_FIELDS} }}
    columnMapping {{ column field }}
    errors {{ code field message }}
  }}
}}
"""
JOB = f"query Job($id: ID!) {{ node(id: $id) {{ ... on ImportJob {{ {JOB_FIELDS} }} }} }}"

GOOD_CSV = (
    "Company,Website,City,Country,Phone,Contact name,Contact email\n"
    "Acme,https://acme.example,Madrid,ES,+34 910 000 001,Ana Ruiz,ana@acme.example\n"
    "Globex,https://globex.example,Paris,FR,+33 1 00 00 00 02,Bruno Petit,bruno@globex.example\n"
    "Initech,https://initech.example,Berlin,DE,+49 30 000003,Clara Vogel,clara@initech.example\n"
)


class Api:
    """GraphQL over the app through gql's HTTPX transport: uploads are multipart requests with the preflight
    header a browser client (Apollo) sends."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def client(self, person: Person, headers: dict[str, str] | None = None) -> Client:
        transport = HTTPXAsyncTransport(
            url="http://test/graphql", transport=httpx2.ASGITransport(app=self.app), timeout=60,
            headers={**person.headers, "apollo-require-preflight": "true", **(headers or {})})
        return Client(transport=transport)

    async def run(self, person: Person, document: str, variables: dict[str, Any] | None = None, *,
                  files: bool = False) -> dict[str, Any]:
        async with self.client(person) as session:
            result: dict[str, Any] = await session.execute(GraphQLRequest(document, variable_values=variables),
                                                           upload_files=files)
            return result

    async def upload(self, person: Person, project_id: int, content: bytes | str, *, filename: str = "accounts.csv",
                     **input_fields: Any) -> dict[str, Any]:
        """importAccounts with ``content`` as the file; the payload."""
        data = content.encode() if isinstance(content, str) else content
        variables = {"input": {"projectId": global_id("Project", project_id),
                               "file": FileVar(io.BytesIO(data), filename=filename, content_type="text/csv"),
                               **input_fields}}
        return (await self.run(person, IMPORT, variables, files=True))["importAccounts"]

    async def job(self, person: Person, job_id: str) -> dict[str, Any]:
        node: dict[str, Any] = (await self.run(person, JOB, {"id": job_id}))["node"]
        return node
