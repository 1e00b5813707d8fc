"""Exports: mutations that answer a short-lived link to download a CSV file (a campaign's accounts, messages,
expenses)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from outboundql.exports.download import ROUTE_NAME
from outboundql.gql.base import mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import exports as exports_service

LINK_HELP = ("The file is CSV (UTF-8 with a byte order mark, a header row of the API's field names) and is streamed; "
             "the link needs no Authorization header, works until `expiresAt` (OUTBOUNDQL_EXPORT_LINK_SECONDS) and "
             "only while you may still read the project. Viewers may export.")


@strawberry.input(description="Which campaign's accounts to export.")
class ExportCampaignAccountsInput:
    campaign_id: relay.GlobalID = strawberry.field(description="The campaign whose rows to export.")


@strawberry.input(description="Whose messages to export: a project's, or one of its campaigns'.")
class ExportMessagesInput:
    project_id: relay.GlobalID = strawberry.field(description="The project whose messages to export.")
    campaign_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this campaign's messages (a campaign of the project).")

    def to_command(self) -> exports_service.ExportMessages:
        return exports_service.ExportMessages(
            project_id=pk_of(self.project_id, "Project", "project_id"),
            campaign_id=None if self.campaign_id is None else pk_of(self.campaign_id, "Campaign", "campaign_id"))


@strawberry.input(description="Whose expenses to export: a project's, or one of its campaigns'.")
class ExportExpensesInput:
    project_id: relay.GlobalID = strawberry.field(description="The project whose expenses to export.")
    campaign_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this campaign's expenses (a campaign of the project).")

    def to_command(self) -> exports_service.ExportExpenses:
        return exports_service.ExportExpenses(
            project_id=pk_of(self.project_id, "Project", "project_id"),
            campaign_id=None if self.campaign_id is None else pk_of(self.campaign_id, "Campaign", "campaign_id"))


@strawberry.type(description="A download link to an export.")
class ExportPayload:
    url: str | None = strawberry.field(
        default=None, description="Absolute URL of the CSV file on this server (`/exports/<token>`); GET it.")
    expires_at: datetime | None = strawberry.field(default=None, description="When the link stops working.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why no link was made (an id not found, a role too low).")

    @classmethod
    def link(cls, info: Info, made: exports_service.ExportLink) -> ExportPayload:
        url = info.context.request.url_for(ROUTE_NAME, token=made.token)
        if url.scheme in ("ws", "wss"):  # asked over a websocket: the file is still fetched over HTTP(S)
            url = url.replace(scheme="https" if url.scheme == "wss" else "http")
        return cls(url=str(url), expires_at=made.expires_at)


@strawberry.type
class ExportMutations:
    @mutation("A link to download the campaign's accounts as CSV: one row per campaign account with the account, "
              "its contact, scores (effective, band, AI, override), review, outreach and execution status, attempts, "
              "goal outcome, tags and custom fields (`cf.<key>`). " + LINK_HELP)
    async def export_campaign_accounts(self, info: Info, input: ExportCampaignAccountsInput) -> ExportPayload:
        cmd = exports_service.ExportCampaignAccounts(campaign_id=pk_of(input.campaign_id, "Campaign", "campaign_id"))
        return ExportPayload.link(info, await exports_service.export_campaign_accounts(info.context.access, cmd))

    @mutation("A link to download the messages and calls of a project (or of one of its campaigns) as CSV, one row "
              "per message with its campaign, account and contact. " + LINK_HELP)
    async def export_messages(self, info: Info, input: ExportMessagesInput) -> ExportPayload:
        made = await exports_service.export_messages(info.context.access, input.to_command())
        return ExportPayload.link(info, made)

    @mutation("A link to download the expenses of a project (or of one of its campaigns) as CSV, one row per expense "
              "(amounts as exact decimals, in their own currency). " + LINK_HELP)
    async def export_expenses(self, info: Info, input: ExportExpensesInput) -> ExportPayload:
        made = await exports_service.export_expenses(info.context.access, input.to_command())
        return ExportPayload.link(info, made)
