"""configureCampaignImport: a campaign's import address (import by e-mail), its authorised sender and mapping."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.errors import InvalidInput
from outboundql.gql.base import mutation, pk_of
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.imports import ColumnMappingInput
from outboundql.services import import_mail


@strawberry.input(description="Turn importing by e-mail on or off for a campaign. On, the campaign gets an address "
                  "(`Campaign.importAddress`); `outboundql mail-in` imports the CSV attachment of each mail sent "
                  "there from `sender` into the campaign, and keeps every refused mail as a failed import job.")
class ConfigureCampaignImportInput:
    campaign_id: relay.GlobalID
    enabled: bool = strawberry.field(default=True, description="False: the address stops working and is forgotten "
                                     "(the sender and mapping are kept for next time).")
    sender: str | None = strawberry.field(
        default=None, description="The one From address whose mails are imported (case ignored); needed to turn "
        "it on; null keeps the saved one when turning off.")
    mapping: list[ColumnMappingInput] | None = strawberry.field(
        default=None, description="The column mapping files are imported with; null keeps the saved one; empty: "
        "guess from each file's headers.")
    new_address: bool = strawberry.field(default=False, description="Replace the address by a new one (the old one "
                                         "stops working), e.g. when it leaked.")

    def to_command(self) -> import_mail.ConfigureCampaignImport:
        mapping = None if self.mapping is None else {m.column: m.field for m in self.mapping}
        if self.mapping is not None and len(mapping or {}) != len(self.mapping):
            raise InvalidInput("Each column may appear once in the mapping.", field="mapping")
        return import_mail.ConfigureCampaignImport(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"), enabled=self.enabled,
            sender=self.sender, mapping=mapping, new_address=self.new_address)


@strawberry.type
class ConfigureCampaignImportPayload:
    campaign: Campaign | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportMailMutations:
    @mutation("Give a campaign an address to import accounts by e-mail, with the one sender allowed to use it and "
              "the column mapping for its files, or turn it off (members).")
    async def configure_campaign_import(self, info: Info, input: ConfigureCampaignImportInput
                                        ) -> ConfigureCampaignImportPayload:
        result = await import_mail.configure_campaign_import(info.context.access, input.to_command())
        return ConfigureCampaignImportPayload(campaign=Campaign.from_model(result.campaign))
