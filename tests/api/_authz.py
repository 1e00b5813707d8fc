"""Shared pieces of the role and tenancy tests: a populated project and the mutations of the slice.

Not a test module (no ``test_`` prefix): ``test_roles`` and ``test_tenancy`` import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from outboundql import models
from outboundql.cadence.settings import Cadence, Step
from outboundql.classifiers import ReplyClass
from outboundql.enums import (
    AttemptStatus,
    Channel,
    Direction,
    Eligibility,
    ExecutionState,
    ExpenseKind,
    MessageMode,
    MessageStatus,
    SignalStatus,
    SuppressionKind,
)
from outboundql.goals.testing import registry_with
from outboundql.models.webhooks import WebhookDeliveryStatus
from outboundql.services import accounts as accounts_service
from outboundql.services import campaign_accounts as campaign_accounts_service
from outboundql.services import campaigns as campaigns_service
from outboundql.services import channel_configs as channel_configs_service
from outboundql.services import expenses as expenses_service
from outboundql.services import invitations as invitations_service
from outboundql.services import low_fit
from outboundql.services import markets as markets_service
from outboundql.services import messages as messages_service
from outboundql.services import personas as personas_service
from outboundql.services import products as products_service
from outboundql.services import saved_filters as saved_filters_service
from outboundql.services import suppressions as suppressions_service
from outboundql.services import webhook_endpoints as webhook_endpoints_service
from outboundql.services.access import Access
from outboundql.services.contacts import NewContact
from outboundql.services.projects import CreateProject, create_project
from tests.helpers import Person, global_id

FABRICATED_PK = 987_654
# Ids no row can have: beyond the 32-bit id columns (PostgreSQL used to crash on these), not a number.
IMPOSSIBLE_PKS: list[int | str] = [2**40, "abc"]


@dataclass
class World:
    """One project with one row of every kind of the slice, created by its owner."""

    owner: Person
    project: models.Project
    product: models.Product
    persona: models.Persona
    account: models.Account
    account2: models.Account
    contact: models.Contact
    saved_filter: models.SavedFilter | None = None  # set by build_world
    market: models.Market | None = None  # set by build_world
    campaign: models.Campaign | None = None  # set by build_world
    archived_campaign: models.Campaign | None = None  # set by build_world
    campaign_account: models.CampaignAccount | None = None  # set by build_world (in a campaign of its own)
    expense: models.Expense | None = None  # set by build_world (on the campaign account's campaign)
    draft: models.Message | None = None  # set by build_world (an unsent draft on the campaign account's thread)
    reply: models.Message | None = None  # set by build_world (a received message on that thread, classified)
    signal: models.Signal | None = None  # set by build_world (proposed by a model, on the reply)
    # Execution (set by build_world): the campaign account's campaign is LIVE (one e-mail step, every row eligible)
    # with three attempts of the row's plan: one awaiting approval, one approved and due later, one awaiting its
    # result; a campaign ready to go live (a step, a row) and a paused one.
    outreach_campaign: models.Campaign | None = None
    attempt: models.OutreachAttempt | None = None
    approved_attempt: models.OutreachAttempt | None = None
    delivered_attempt: models.OutreachAttempt | None = None
    ready_campaign: models.Campaign | None = None
    paused_campaign: models.Campaign | None = None
    suppression: models.Suppression | None = None  # set by build_world
    webhook_endpoint: models.WebhookEndpoint | None = None  # set by build_world
    webhook_delivery: models.WebhookDelivery | None = None  # set by build_world (an event sent to the endpoint)
    channel_config: models.ChannelConfig | None = None  # set by build_world (log configured for EMAIL)
    invitation: models.Invitation | None = None  # set by build_world (pending, to the MEMBER role)

    @property
    def owner_user(self) -> models.User:
        """The owner's user (a member of the project, for the member mutations)."""
        return self.owner.user

    def gid(self, attr: str) -> str:
        row = getattr(self, attr)
        return global_id(TYPE_OF[attr], row.pk)


TYPE_OF = {
    "project": "Project",
    "product": "Product",
    "persona": "Persona",
    "account": "Account",
    "account2": "Account",
    "contact": "Contact",
    "saved_filter": "SavedFilter",
    "market": "Market",
    "campaign": "Campaign",
    "archived_campaign": "Campaign",
    "campaign_account": "CampaignAccount",
    "expense": "Expense",
    "draft": "Message",
    "reply": "Message",
    "signal": "Signal",
    "outreach_campaign": "Campaign",
    "attempt": "OutreachAttempt",
    "approved_attempt": "OutreachAttempt",
    "delivered_attempt": "OutreachAttempt",
    "ready_campaign": "Campaign",
    "paused_campaign": "Campaign",
    "suppression": "Suppression",
    "webhook_endpoint": "WebhookEndpoint",
    "webhook_delivery": "WebhookDelivery",
    "channel_config": "ChannelConfig",
    "invitation": "Invitation",
    "owner_user": "User",
}


async def build_world(owner: Person, tag: str) -> World:
    """``tag`` makes names, slugs and domains distinct between worlds."""
    access = await Access.for_user(owner.user)
    project = (await create_project(access, CreateProject(name=f"Project {tag}"))).project
    product = (await products_service.create_product(access, products_service.CreateProduct(
        project_id=project.id, name=f"Product {tag}", description=f"What {tag} sells"))).product
    persona = (await personas_service.upsert_persona(access, registry_with(), personas_service.UpsertPersona(
        product_id=product.id, goal="sales", name=f"Buyer {tag}"))).persona
    account = (
        await accounts_service.create_account(access, accounts_service.CreateAccount(
            project_id=project.id, name=f"Account {tag}", domain=f"{tag}-one.example",
            contacts=(NewContact(name=f"Contact {tag}"),),
        ))
    ).account
    account2 = (
        await accounts_service.create_account(access, accounts_service.CreateAccount(
            project_id=project.id, name=f"Other {tag}", domain=f"{tag}-two.example"))
    ).account
    contact = await models.Contact.get(account_id=account.id)
    world = World(owner, project, product, persona, account, account2, contact)
    world.saved_filter = (await saved_filters_service.create_saved_filter(
        access, saved_filters_service.CreateSavedFilter(
            project_id=project.id, name=f"Filter {tag}",
            expression={"field": "domain", "op": "contains", "value": tag}),
    )).saved_filter
    world.market = (await markets_service.create_market(
        access, markets_service.CreateMarket(project_id=project.id, name=f"Market {tag}"))).market
    world.campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=f"Campaign {tag}"))).campaign
    # The campaign's audience is its market's landscape (syncCampaignAudience fills it from there).
    await models.Market.filter(id=world.market.id).update(filters={"tags": [tag]})
    await models.Campaign.filter(id=world.campaign.id).update(market_id=world.market.id,
                                                              audience_config={"kind": "market"})
    archived = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=f"Archived {tag}"))).campaign
    world.archived_campaign = (await campaigns_service.set_archived(
        access, campaigns_service.SetCampaignArchived(id=archived.id, archived=True))).campaign
    worked = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name=f"Outreach {tag}"))).campaign
    await campaign_accounts_service.add_accounts(
        access, registry_with(), campaign_accounts_service.AddAccountsToCampaign(worked.id, [account.id]))
    world.campaign_account = await models.CampaignAccount.get(campaign_id=worked.id)
    world.expense = (await expenses_service.add_expense(access, expenses_service.AddExpense(
        campaign_id=worked.id, kind=ExpenseKind.AGENCY, amount=Decimal("120.00"), currency="EUR",
        vendor=f"Agency {tag}"))).expense
    world.draft = (await messages_service.log_message(access, messages_service.LogMessage(
        campaign_account_id=world.campaign_account.id, status=MessageStatus.DRAFT, text=f"Draft {tag}"))).message
    world.reply = await models.Message.create(
        project_id=project.id, campaign_account_id=world.campaign_account.id, direction=Direction.INBOUND,
        status=MessageStatus.SENT, mode=MessageMode.PASTE_INBOUND, original_text=f"Reply {tag}",
        sent_at=datetime.now(UTC), reply_class=ReplyClass.INTERESTED, reply_class_confidence=0.8, classifier="rules",
        classified_at=datetime.now(UTC))
    world.signal = await models.Signal.create(
        project_id=project.id, message_id=world.reply.id, campaign_account_id=world.campaign_account.id,
        campaign_id=world.campaign_account.campaign_id, kind="budget", text=f"Budget {tag}",
        status=SignalStatus.PROPOSED, source="llm")
    await add_execution(world, access, tag)
    world.suppression = (await suppressions_service.add_suppressions(access, suppressions_service.AddSuppressions(
        project.id, [suppressions_service.Entry(SuppressionKind.EMAIL, f"gone@{tag}-one.example")]))).added[0]
    world.webhook_endpoint = (await webhook_endpoints_service.create_webhook_endpoint(
        access, webhook_endpoints_service.CreateWebhookEndpoint(
            project_id=project.id, url=f"https://{tag}-hooks.example/in", events=("import_job.finished",)))).endpoint
    world.webhook_delivery = await models.WebhookDelivery.create(
        project_id=project.id, endpoint_id=world.webhook_endpoint.id, event_id=f"msg_{tag}",
        event_type="import_job.finished", payload={"type": "import_job.finished", "data": {}},
        status=WebhookDeliveryStatus.DELIVERED, attempts=1, response_status=200)
    world.channel_config = (await channel_configs_service.configure_channel(
        access, channel_configs_service.ConfigureChannel(project.id, "log", Channel.EMAIL))).config
    world.invitation = (await invitations_service.invite_member(access, invitations_service.InviteMember(
        project.id, f"invitee@{tag}-one.example"))).invitation
    return world


async def add_execution(world: World, access: Access, tag: str) -> None:
    """The execution rows of `World` (made directly: the engine's own tests plan them)."""
    assert world.campaign_account is not None
    ready = Cadence(steps=(Step(Channel.EMAIL),), eligibility=Eligibility.ALL).stored()
    outreach = await models.Campaign.get(id=world.campaign_account.campaign_id)
    outreach.cadence, outreach.execution_state, outreach.live_at = ready, ExecutionState.LIVE, datetime.now(UTC)
    await outreach.save()
    world.outreach_campaign = outreach
    soon = datetime.now(UTC) + timedelta(days=1)
    made = []
    for number, status, reviewer in ((1, AttemptStatus.AWAITING_RESULT, None),
                                     (2, AttemptStatus.AWAITING_APPROVAL, None),
                                     (3, AttemptStatus.SCHEDULED, access.user.id)):
        made.append(await models.OutreachAttempt.create(
            project_id=world.project.id, campaign_id=outreach.id, campaign_account_id=world.campaign_account.id,
            contact_id=world.contact.id, channel=Channel.EMAIL, step=1, attempt_number=number, status=status,
            due_at=soon, subject=f"Hello {tag}", body=f"Planned for {tag}", reviewed_by_id=reviewer))
    world.delivered_attempt, world.attempt, world.approved_attempt = made
    campaigns = []
    for name, state in ((f"Ready {tag}", ExecutionState.NOT_LIVE), (f"Paused {tag}", ExecutionState.PAUSED)):
        create = campaigns_service.CreateCampaign(project_id=world.project.id, product_id=world.product.id, name=name)
        made_campaign = (await campaigns_service.create_campaign(access, registry_with(), create)).campaign
        made_campaign.cadence, made_campaign.execution_state = ready, state
        await made_campaign.save()
        campaigns.append(made_campaign)
    world.ready_campaign, world.paused_campaign = campaigns
    add = campaign_accounts_service.AddAccountsToCampaign(world.ready_campaign.id, [world.account2.id])
    await campaign_accounts_service.add_accounts(access, registry_with(), add)


@dataclass(frozen=True)
class Mutation:
    """One mutation of the slice.

    ``slot`` is the World attribute whose global id ``make`` puts in the addressed input field
    (``field`` is that field's path in `UserError.field`); ``make(world, gid)`` builds the input.
    """

    op: str
    input_type: str
    slot: str
    field: str
    make: Callable[[World, str], dict[str, Any]]
    result: str  # selection proving success, e.g. "product { id }"

    @property
    def document(self) -> str:
        return (
            f"mutation($input: {self.input_type}!) {{ {self.op}(input: $input) "
            f"{{ {self.result} errors {{ code field message }} }} }}"
        )

    @property
    def label(self) -> str:
        return f"{self.op}[{self.field}]"


NEWCOMER_EMAIL = "newcomer@example.com"

MUTATIONS: list[Mutation] = [
    Mutation("createProduct", "CreateProductInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "name": "Brand new product"}, "product { id }"),
    Mutation("updateProduct", "UpdateProductInput", "product", "input.id",
             lambda w, gid: {"id": gid, "name": "Renamed product", "description": "changed"}, "product { id }"),
    Mutation("archiveProduct", "ProductIdInput", "product", "input.id",
             lambda w, gid: {"id": gid}, "product { id archivedAt }"),
    Mutation("unarchiveProduct", "ProductIdInput", "product", "input.id",
             lambda w, gid: {"id": gid}, "product { id }"),
    Mutation("upsertPersona", "UpsertPersonaInput", "product", "input.productId",
             lambda w, gid: {"productId": gid, "goal": "sales", "summary": "Changed summary"}, "persona { id }"),
    Mutation("derivePersona", "DerivePersonaInput", "product", "input.productId",
             lambda w, gid: {"productId": gid, "goal": "press"}, "persona { id }"),
    Mutation("approvePersona", "ApprovePersonaInput", "persona", "input.id",
             lambda w, gid: {"id": gid}, "persona { id status }"),
    Mutation("createAccount", "CreateAccountInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "name": "Fresh Account", "domain": "fresh.example"},
             "account { id }"),
    Mutation("updateAccount", "UpdateAccountInput", "account", "input.id",
             lambda w, gid: {"id": gid, "city": "Lyon", "status": "ENGAGED"}, "account { id }"),
    Mutation("bulkCreateAccounts", "BulkCreateAccountsInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "accounts": [{"name": "Bulk One"}, {"name": "Bulk Two"}]},
             "createdCount"),
    Mutation("mergeAccounts", "MergeAccountsInput", "account", "input.targetId",
             lambda w, gid: {"targetId": gid, "sourceIds": [w.gid("account2")]}, "account { id }"),
    Mutation("mergeAccounts", "MergeAccountsInput", "account2", "input.sourceIds[0]",
             lambda w, gid: {"targetId": w.gid("account"), "sourceIds": [gid]}, "account { id }"),
    Mutation("createContact", "CreateContactInput", "account", "input.accountId",
             lambda w, gid: {"accountId": gid, "name": "New Person", "email": "new.person@example.com"},
             "contact { id }"),
    Mutation("updateContact", "UpdateContactInput", "contact", "input.id",
             lambda w, gid: {"id": gid, "title": "CTO"}, "contact { id }"),
    Mutation("createSavedFilter", "CreateSavedFilterInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "name": "Fresh filter",
                             "expression": {"all": [{"field": "country", "op": "eq", "value": "FR"}]}},
             "savedFilter { id }"),
    Mutation("updateSavedFilter", "UpdateSavedFilterInput", "saved_filter", "input.id",
             lambda w, gid: {"id": gid, "name": "Renamed filter"}, "savedFilter { id }"),
    Mutation("deleteSavedFilter", "DeleteSavedFilterInput", "saved_filter", "input.id",
             lambda w, gid: {"id": gid}, "deletedSavedFilterId"),
    Mutation("createMarket", "CreateMarketInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "name": "Fresh market"}, "market { id }"),
    Mutation("updateMarket", "UpdateMarketInput", "market", "input.id",
             lambda w, gid: {"id": gid, "description": "Changed", "filters": {"cities": ["Lyon"]}}, "market { id }"),
    Mutation("deleteMarket", "DeleteMarketInput", "market", "input.id",
             lambda w, gid: {"id": gid}, "deletedMarketId"),
    Mutation("updateAccountStatuses", "UpdateAccountStatusesInput", "account", "input.accountIds[0]",
             lambda w, gid: {"accountIds": [gid], "status": "QUALIFIED", "note": "Bulk"}, "changedCount"),
    # Confirms the dry run of the world's campaign (no campaign accounts: the empty set's token).
    Mutation("removeLowFitAccounts", "RemoveLowFitAccountsInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "dryRun": False, "confirmToken": low_fit.confirm_token(
                 w.campaign.id if w.campaign else 0, low_fit.Options(), [])}, "campaign { id }"),
    Mutation("createCampaign", "CreateCampaignInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "productId": w.gid("product"), "name": "Fresh campaign"},
             "campaign { id }"),
    Mutation("createCampaign", "CreateCampaignInput", "product", "input.productId",
             lambda w, gid: {"projectId": w.gid("project"), "productId": gid, "name": "Fresh campaign",
                             "goal": "press"}, "campaign { id }"),
    Mutation("updateCampaign", "UpdateCampaignInput", "campaign", "input.id",
             lambda w, gid: {"id": gid, "name": "Renamed campaign", "goal": "press", "status": "ACTIVE"},
             "campaign { id }"),
    Mutation("archiveCampaign", "CampaignIdInput", "campaign", "input.id",
             lambda w, gid: {"id": gid}, "campaign { id archivedAt }"),
    Mutation("unarchiveCampaign", "CampaignIdInput", "archived_campaign", "input.id",
             lambda w, gid: {"id": gid}, "campaign { id archivedAt }"),
    Mutation("deleteCampaign", "DeleteCampaignInput", "campaign", "input.id",
             lambda w, gid: {"id": gid, "confirmName": w.campaign.name if w.campaign else ""}, "deletedCampaignId"),
    Mutation("updateCadence", "UpdateCadenceInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "campaignType": "FOLLOW_UP", "steps": [{"channel": "EMAIL"}],
                             "window": {"days": ["SAT"]}}, "campaign { id }"),
    Mutation("syncCampaignAudience", "SyncCampaignAudienceInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "sync { id }"),
    Mutation("addAccountsToCampaign", "AddAccountsToCampaignInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "accountIds": [w.gid("account"), w.gid("account2")]}, "added"),
    Mutation("reviewCampaignAccounts", "ReviewCampaignAccountsInput", "campaign_account",
             "input.campaignAccountIds[0]",
             lambda w, gid: {"campaignAccountIds": [gid], "decision": "APPROVED"}, "changedCount"),
    Mutation("setOverrideScore", "SetOverrideScoreInput", "campaign_account", "input.campaignAccountId",
             lambda w, gid: {"campaignAccountId": gid, "score": 7.5}, "campaignAccount { id }"),
    Mutation("updateCampaignAccount", "UpdateCampaignAccountInput", "campaign_account", "input.id",
             lambda w, gid: {"id": gid, "tags": ["hot"], "notes": "Call back", "outreachStatus": "SENT",
                             "contactId": w.gid("contact")}, "campaignAccount { id }"),
    Mutation("updateCampaignAccounts", "UpdateCampaignAccountsInput", "campaign_account",
             "input.campaignAccountIds[0]",
             lambda w, gid: {"campaignAccountIds": [gid], "reviewStatus": "APPROVED", "addTags": ["hot"]},
             "updatedCount"),
    Mutation("removeAccountsFromCampaign", "RemoveAccountsFromCampaignInput", "ready_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "accountIds": [w.gid("account2")]}, "removed"),
    Mutation("deleteAccounts", "DeleteAccountsInput", "account2", "input.accountIds[0]",
             lambda w, gid: {"accountIds": [gid], "suppress": True}, "deletedAccountIds"),
    Mutation("deleteContact", "DeleteContactInput", "contact", "input.contactId",
             lambda w, gid: {"contactId": gid, "suppress": True}, "deletedContactId"),
    Mutation("correctReplyClassification", "CorrectReplyClassificationInput", "reply", "input.messageId",
             lambda w, gid: {"messageId": gid, "label": "NOT_INTERESTED"}, "message { id classification { label } }"),
    Mutation("confirmSignals", "DecideSignalsInput", "signal", "input.signalIds[0]",
             lambda w, gid: {"signalIds": [gid]}, "signals { id status }"),
    Mutation("dismissSignals", "DecideSignalsInput", "signal", "input.signalIds[0]",
             lambda w, gid: {"signalIds": [gid]}, "signals { id status }"),
    Mutation("addSuppressions", "AddSuppressionsInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "entries": [{"kind": "DOMAIN", "value": "suppressed.example"}]},
             "addedCount"),
    Mutation("removeSuppressions", "RemoveSuppressionsInput", "suppression", "input.ids[0]",
             lambda w, gid: {"projectId": w.gid("project"), "ids": [gid]}, "removedCount"),
    Mutation("setExternalScores", "SetExternalScoresInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "scores": [{"accountId": w.gid("account"), "score": 0.5}]},
             "scored"),
    Mutation("setExternalScores", "SetExternalScoresInput", "account", "input.scores[0].accountId",
             lambda w, gid: {"campaignId": w.gid("campaign"), "scores": [{"accountId": gid, "score": 0.5}]},
             "scored"),
    Mutation("upsertAccounts", "UpsertAccountsInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "source": "crm", "items": [{"externalId": "authz-1", "name": "Synced"}]},
             "createdCount"),
    Mutation("configureCampaignImport", "ConfigureCampaignImportInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "sender": "lists@partner.example"}, "campaign { id importAddress }"),
    Mutation("logMessage", "LogMessageInput", "campaign_account", "input.campaignAccountId",
             lambda w, gid: {"campaignAccountId": gid, "text": "Hello",
                                   "signals": [{"kind": "competitor", "text": "Uses a rival"}],
                             "idempotencyKey": "authz-1"}, "message { id }"),
    Mutation("logMessage", "LogMessageInput", "contact", "input.contactId",
             lambda w, gid: {"campaignAccountId": w.gid("campaign_account"), "contactId": gid, "text": "Hi there",
                             "channel": "LINKEDIN"}, "message { id }"),
    Mutation("draftMessage", "DraftMessageInput", "contact", "input.contactId",
             lambda w, gid: {"campaignAccountId": w.gid("campaign_account"), "contactId": gid}, "message { id }"),
    Mutation("draftMessage", "DraftMessageInput", "campaign_account", "input.campaignAccountId",
             lambda w, gid: {"campaignAccountId": gid, "language": "es", "idempotencyKey": "authz-draft"},
             "message { id }"),
    Mutation("logMessage", "LogMessageInput", "draft", "input.draftId",
             lambda w, gid: {"campaignAccountId": w.gid("campaign_account"), "draftId": gid,
                             "text": "Hello from the draft"}, "message { id status }"),
    Mutation("discardDraft", "DiscardDraftInput", "draft", "input.messageId",
             lambda w, gid: {"messageId": gid}, "deletedMessageId"),
    Mutation("addExpense", "AddExpenseInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "kind": "META_ADS", "amount": "12.50", "currency": "EUR"},
             "expense { id }"),
    Mutation("updateExpense", "UpdateExpenseInput", "expense", "input.id",
             lambda w, gid: {"id": gid, "amount": "20.00", "vendor": "Changed"}, "expense { id }"),
    Mutation("deleteExpense", "DeleteExpenseInput", "expense", "input.id",
             lambda w, gid: {"id": gid}, "deletedExpenseId"),
    Mutation("scoreCampaign", "ScoreCampaignInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid, "force": True}, "started campaign { id }"),
    Mutation("goLive", "CampaignExecutionInput", "ready_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "campaign { id executionState }"),
    Mutation("pauseCampaign", "CampaignExecutionInput", "outreach_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "campaign { id executionState }"),
    Mutation("resumeCampaign", "CampaignExecutionInput", "paused_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "campaign { id executionState }"),
    Mutation("startOutreach", "CampaignExecutionInput", "outreach_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "campaign { id } planned"),
    Mutation("executeApproved", "CampaignExecutionInput", "outreach_campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "campaign { id } attempts { id }"),
    Mutation("setCampaignAccountExecution", "SetCampaignAccountExecutionInput", "campaign_account",
             "input.campaignAccountIds[0]", lambda w, gid: {"campaignAccountIds": [gid], "action": "DISABLE"},
             "campaignAccounts { id }"),
    Mutation("approveOutreach", "ApproveOutreachInput", "attempt", "input.attemptIds[0]",
             lambda w, gid: {"attemptIds": [gid]}, "attempts { id status }"),
    Mutation("approveOutreach", "ApproveOutreachInput", "attempt", "input.edits[0].attemptId",
             lambda w, gid: {"attemptIds": [w.gid("attempt")], "edits": [{"attemptId": gid, "subject": "Edited"}]},
             "attempts { id subject }"),
    Mutation("rejectOutreach", "RejectOutreachInput", "attempt", "input.attemptIds[0]",
             lambda w, gid: {"attemptIds": [gid]}, "attempts { id status }"),
    Mutation("recordAttemptResult", "RecordAttemptResultInput", "delivered_attempt", "input.attemptId",
             lambda w, gid: {"attemptId": gid, "outcome": "SENT", "notes": "Sent by hand"},
             "attempt { id status }"),
    Mutation("createWebhookEndpoint", "CreateWebhookEndpointInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "url": "https://hooks.example/new", "events": ["campaign.updated"]},
             "endpoint { id } secret"),
    Mutation("updateWebhookEndpoint", "UpdateWebhookEndpointInput", "webhook_endpoint", "input.id",
             lambda w, gid: {"id": gid, "events": ["campaign.updated"]}, "endpoint { id events }"),
    Mutation("deleteWebhookEndpoint", "DeleteWebhookEndpointInput", "webhook_endpoint", "input.id",
             lambda w, gid: {"id": gid}, "deletedEndpointId"),
    Mutation("redeliverWebhook", "RedeliverWebhookInput", "webhook_delivery", "input.deliveryId",
             lambda w, gid: {"deliveryId": gid}, "delivery { id eventId }"),
    Mutation("configureChannel", "ConfigureChannelInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "key": "log", "kind": "SMS"}, "channel { id kind }"),
    Mutation("removeChannel", "RemoveChannelInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "kind": "EMAIL"}, "kind"),
    Mutation("inviteMember", "InviteMemberInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "email": NEWCOMER_EMAIL, "role": "VIEWER"}, "invitation { id } token"),
    Mutation("revokeInvitation", "RevokeInvitationInput", "invitation", "input.id",
             lambda w, gid: {"id": gid}, "invitation { id status }"),
    Mutation("changeMemberRole", "ChangeMemberRoleInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "userId": w.gid("owner_user"), "role": "ADMIN"}, "project { id }"),
    Mutation("changeMemberRole", "ChangeMemberRoleInput", "owner_user", "input.userId",
             lambda w, gid: {"projectId": w.gid("project"), "userId": gid, "role": "ADMIN"}, "project { id }"),
    Mutation("removeMember", "RemoveMemberInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid, "userId": w.gid("owner_user")}, "removedUserId"),
    Mutation("removeMember", "RemoveMemberInput", "owner_user", "input.userId",
             lambda w, gid: {"projectId": w.gid("project"), "userId": gid}, "removedUserId"),
    Mutation("updateProject", "UpdateProjectInput", "project", "input.id",
             lambda w, gid: {"id": gid, "name": "Renamed project", "description": "New words"}, "project { id }"),
    Mutation("archiveProject", "ProjectIdInput", "project", "input.id",
             lambda w, gid: {"id": gid}, "project { id archivedAt }"),
    Mutation("unarchiveProject", "ProjectIdInput", "project", "input.id",
             lambda w, gid: {"id": gid}, "project { id archivedAt }"),
    Mutation("deleteProject", "DeleteProjectInput", "project", "input.id",
             lambda w, gid: {"id": gid, "confirmName": w.project.name}, "deletedProjectId"),
]

# Integrations (event webhooks; channels, which hold credentials) are managed by admins, as members and API tokens
# are.
ADMIN_MUTATIONS = {"createWebhookEndpoint", "updateWebhookEndpoint", "deleteWebhookEndpoint",
                   "redeliverWebhook", "configureChannel", "removeChannel",
                   # the team and the project itself: admins (deleting the project: owners, see OWNER_MUTATIONS)
                   "inviteMember", "revokeInvitation", "changeMemberRole", "removeMember", "updateProject",
                   "archiveProject", "unarchiveProject", "deleteProject"}
OWNER_MUTATIONS = {"deleteProject"}
DATA_MUTATIONS = [m for m in MUTATIONS if m.op not in ADMIN_MUTATIONS]

# Mutations that only read (exports): viewers may run them too; another project's ids answer like missing ones.
READ_MUTATIONS: list[Mutation] = [
    Mutation("exportCampaignAccounts", "ExportCampaignAccountsInput", "campaign", "input.campaignId",
             lambda w, gid: {"campaignId": gid}, "url"),
    Mutation("exportMessages", "ExportMessagesInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid}, "url"),
    Mutation("exportMessages", "ExportMessagesInput", "campaign", "input.campaignId",
             lambda w, gid: {"projectId": w.gid("project"), "campaignId": gid}, "url"),
    Mutation("exportExpenses", "ExportExpensesInput", "project", "input.projectId",
             lambda w, gid: {"projectId": gid}, "url"),
    Mutation("exportExpenses", "ExportExpensesInput", "campaign", "input.campaignId",
             lambda w, gid: {"projectId": w.gid("project"), "campaignId": gid}, "url"),
]


def own_input(m: Mutation, world: World) -> dict[str, Any]:
    """The input of ``m`` addressing ``world``'s own row."""
    return m.make(world, world.gid(m.slot))


SNAPSHOT_MODELS = (
    models.Project, models.Membership, models.Product, models.Persona, models.Account, models.Contact,
    models.AccountStatusChange, models.AuditEvent, models.ApiToken,
    models.SavedFilter, models.Market,
    models.Campaign, models.CampaignAccount, models.CampaignAccountTag,
    models.Message, models.Signal, models.Expense, models.ApiUsage, models.OutreachAttempt, models.FitScore,
    models.Suppression, models.WebhookEndpoint, models.WebhookDelivery, models.ChannelConfig, models.Invitation,
)


async def snapshot(project_id: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of the slice's tables (of one project, when given), for before/after comparisons."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in SNAPSHOT_MODELS:
        qs = model.all()
        if project_id is not None:
            if model is models.Project:
                qs = qs.filter(id=project_id)
            elif model is models.AccountStatusChange:
                qs = qs.filter(account__project_id=project_id)
            elif model in (models.CampaignAccount, models.CampaignAccountTag):
                qs = qs.filter(campaign__project_id=project_id)
            elif model is models.ApiToken:
                continue
            else:
                qs = qs.filter(project_id=project_id)
        out[model.__name__] = [dict(row) for row in await qs.order_by("id").values()]
    return out
