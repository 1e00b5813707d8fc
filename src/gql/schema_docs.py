"""Descriptions the served schema gives every enum value and the arguments every paged list and mutation share,
so a frontend (GraphiQL, generated types) can read what each one means.

Enum values are described here by GraphQL enum name, one sentence each: most enums are the stored value sets of
`outboundql.enums` (a Python enum member carries no description of its own). A description written where an
enum or argument is declared (``strawberry.enum_value(description=…)``, ``strawberry.argument(description=…)``)
wins over this table. The standard arguments — a connection's ``first``/``after``/``last``/``before`` and a
mutation's ``input`` — are worded once, as GitHub's schema does. `tests/api/test_schema_docs.py` walks the served
schema and fails on any enum value or argument left without a description, and on entries here that name nothing.
"""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, get_named_type

ENUM_VALUES: dict[str, dict[str, str]] = {
    "Role": {
        "OWNER": "Everything an admin may, and grants or removes the admin and owner roles.",
        "ADMIN": "Everything a member may, and adds members and manages the project's settings.",
        "MEMBER": "Reads and writes the project's accounts, campaigns and outreach.",
        "VIEWER": "Reads the project; changes nothing.",
    },
    "InvitationStatus": {
        "PENDING": "Sent and not used yet: it can still be accepted.",
        "ACCEPTED": "The invited person joined the project with it.",
        "REVOKED": "Withdrawn by an admin before it was accepted.",
        "EXPIRED": "Not accepted in time; invite again.",
    },
    "InvitationDelivery": {
        "EMAILED": "Sent through the project's e-mail channel.",
        "NOT_CONFIGURED": "The project has no e-mail channel: pass the invitation token on yourself.",
        "FAILED": "The e-mail could not be sent; `deliveryError` says why.",
    },
    "AuditSource": {
        "API": "A GraphQL request, made with an API token.",
        "CLI": "An operator's `outboundql` command.",
        "WORKER": "A background job or the outreach engine.",
        "IMPORT": "An import of accounts (upload or e-mail).",
    },
    "PersonaStatus": {
        "DRAFT": "Proposed (written or derived) and not approved yet; scoring still uses it.",
        "APPROVED": "Approved by a person.",
    },
    "GuardrailKind": {
        "HARD": "Never admitted, whatever the overrides (e.g. competitors, do-not-contact).",
        "SOFT": "Left out unless the request's override flag for this status is set.",
        "TARGET": "The accounts this goal is for: admitted and counted as targets.",
        "ALLOWED": "Admitted, though not the goal's target.",
    },
    "AccountStatus": {
        "NEW": "Pipeline: known, never contacted.",
        "INITIATED": "Pipeline: we reached out, no answer yet.",
        "ENGAGED": "Pipeline: they answered.",
        "QUALIFIED": "Pipeline: a real opportunity.",
        "CUSTOMER": "Pipeline: they buy from us.",
        "LOST": "Pipeline: the opportunity was lost.",
        "CHURNED": "Pipeline: a former customer.",
        "PARTNER": "Relationship: a partner of ours.",
        "SUPPLIER": "Relationship: we buy from them.",
        "INVESTOR": "Relationship: an investor (ours or a prospect).",
        "PRESS": "Relationship: a publication or journalist.",
        "ANALYST": "Relationship: an industry analyst.",
        "CANDIDATE": "Relationship: a person we may hire.",
        "COMPETITOR": "Protection: a competitor; no goal may reach out to it.",
        "PERSONAL_NETWORK": "Protection: someone's personal contact; kept out of campaigns.",
        "DO_NOT_CONTACT": "Protection: asked not to be contacted; nothing is ever sent.",
    },
    "RoleKind": {
        "BUYER": "Someone who buys, or decides on buying, for their company.",
        "JOURNALIST": "A journalist or editor.",
        "CANDIDATE": "A person we may hire.",
        "INVESTOR": "An investor.",
        "PARTNER": "A person at a partner company.",
        "INFLUENCER": "A creator or influencer with an audience.",
        "OTHER": "Any other kind of person.",
    },
    "StatusSource": {
        "MANUAL": "A person set it (`updateAccount`, `updateAccountStatuses`).",
        "CONVERSATION": "A logged message moved it (a sent outbound or an inbound reply).",
        "IMPORT": "An import of accounts set it.",
        "API": "Another API call set it (e.g. `upsertAccounts`).",
    },
    "MessageDirection": {
        "OUTBOUND": "We wrote or called them.",
        "INBOUND": "They wrote or called us.",
    },
    "Channel": {
        "EMAIL": "E-mail.",
        "LINKEDIN": "LinkedIn message or InMail.",
        "PHONE_CALL": "A phone call.",
        "SMS": "A text message.",
        "WHATSAPP": "A WhatsApp message.",
        "INSTAGRAM": "An Instagram direct message.",
        "TWITTER_X": "A direct message on X (Twitter).",
        "OTHER": "Any other channel.",
    },
    "MessageStatus": {
        "DRAFT": "Written, not sent: moves no status and counts nothing.",
        "SENT": "Sent (outbound) or received (inbound).",
    },
    "MessageMode": {
        "AI_DRAFT": "A first message drafted for the thread (`draftMessage`).",
        "AI_CONTINUE": "The next message of a thread, drafted from what was said.",
        "TYPE_AND_TRANSLATE": "Typed by a person and translated into the contact's language.",
        "LOG_SENT": "Sent elsewhere (a mail client, a call) and logged here.",
        "PASTE_INBOUND": "A reply pasted in from elsewhere.",
    },
    "CallOutcome": {
        "CONNECTED": "A call: someone answered.",
        "VOICEMAIL": "A call: we left a voicemail.",
        "NO_ANSWER": "A call: nobody answered.",
        "BUSY": "A call: the line was busy.",
        "FAILED": "A call: it could not be placed.",
        "MEETING_BOOKED": "Any channel: a meeting was booked.",
    },
    "ReplyClass": {
        "INTERESTED": "Wants to talk or asks for more.",
        "NOT_INTERESTED": "Declines.",
        "OUT_OF_OFFICE": "An automatic absence reply; pauses the row's plan until the stated return.",
        "REFERRAL": "Points to someone else to talk to.",
        "UNSUBSCRIBE": "Asks never to be contacted again; the address is suppressed.",
        "BOUNCE": "A delivery failure notice; the address is suppressed.",
        "OTHER": "Anything else, or not told.",
    },
    "SignalStatus": {
        "PROPOSED": "A language model read it in the conversation; a person has not decided yet.",
        "CONFIRMED": "A person wrote or confirmed it; only these count.",
        "DISMISSED": "A person set it aside.",
    },
    "ReviewStatus": {
        "PENDING": "Not reviewed yet.",
        "APPROVED": "A person approved the account for this campaign.",
        "REJECTED": "A person rejected it: no outreach is planned for it.",
    },
    "OutreachStatus": {
        "NOT_STARTED": "Nothing drafted or sent yet.",
        "DRAFT": "A message is drafted, not sent.",
        "SCHEDULED": "A message is planned for later.",
        "SENT": "A message went out (counts the account as outreached).",
        "BOUNCED": "The message could not be delivered.",
        "RESPONDED": "They answered (counts the account as responded).",
    },
    "GoalOutcome": {
        "OPEN": "Not decided yet.",
        "ACHIEVED": "The campaign's goal was reached with this account (e.g. a meeting, a placement).",
        "LOST": "The goal will not be reached with this account.",
    },
    "CampaignStatus": {
        "DRAFT": "Being set up.",
        "ICP_DEFINITION": "Defining the ideal customer profile (persona).",
        "DATABASE_CONFIG": "Choosing and adding accounts.",
        "SCORING": "Scoring the accounts' fit.",
        "OUTREACH": "Reaching out.",
        "ACTIVE": "Running.",
        "PAUSED": "On hold.",
        "COMPLETED": "Done.",
    },
    "ScoringStatus": {
        "IDLE": "No scoring run yet.",
        "RUNNING": "A run is scoring the campaign's accounts.",
        "COMPLETED": "The last run finished.",
        "FAILED": "The last run failed; `scoringError` says why (run it again for the rest).",
    },
    "ExecutionState": {
        "NOT_LIVE": "Outreach has not started; the cadence can still change freely.",
        "LIVE": "Outreach runs as the cadence says.",
        "PAUSED": "Outreach is on hold; nothing is executed until resumed.",
        "STOPPED": "The campaign was archived: it never runs again.",
    },
    "CampaignType": {
        "ONE_TIME": "One step: a single message or call per account.",
        "FOLLOW_UP": "Ordered steps (at most 10), each after the previous one's delay.",
    },
    "Weekday": {
        "MON": "Monday.", "TUE": "Tuesday.", "WED": "Wednesday.", "THU": "Thursday.", "FRI": "Friday.",
        "SAT": "Saturday.", "SUN": "Sunday.",
    },
    "RetryOutcome": {
        "NO_ANSWER": "Retry calls nobody answered.",
        "BUSY": "Retry calls that met a busy line.",
        "VOICEMAIL": "Retry calls that reached a voicemail.",
        "FAILED": "Retry attempts whose delivery failed.",
    },
    "ExecutionMode": {
        "MANUAL": "Outreach starts when `startOutreach` is called.",
        "SCHEDULED": "Outreach starts at the cadence's `startAt`.",
        "ON_ADD": "Outreach starts as soon as the campaign is live, and rows added later start at once.",
    },
    "Eligibility": {
        "APPROVED_ONLY": "Only rows reviewed APPROVED are planned.",
        "ALL": "Every row not reviewed REJECTED is planned.",
    },
    "AudienceSyncStatus": {
        "QUEUED": "Waiting for a worker.",
        "RUNNING": "Adding and removing accounts.",
        "COMPLETED": "Done.",
        "FAILED": "Stopped on an error (see the sync's error).",
    },
    "Band": {
        "MISMATCH": "A fit score below 5.0.",
        "MODERATE": "A fit score from 5.0 to below 8.0.",
        "EXCELLENT": "A fit score of 8.0 or more.",
    },
    "ExecutionStatus": {
        "NOT_PLANNED": "No outreach planned (not eligible, or the campaign is not live).",
        "PLANNING": "Waiting for the scheduler to plan its first attempt.",
        "AWAITING_APPROVAL": "An attempt waits for a person's approval (manual review).",
        "AWAITING_EXECUTION": "An attempt is scheduled and waits for its due time.",
        "EXECUTING": "An attempt is being executed or waits for its result.",
        "RESCHEDULED": "The last attempt did not get through; a retry is scheduled.",
        "COMPLETED": "Final: the plan ran to its end, or the goal was reached or lost.",
        "MAX_RETRIES": "Final: every allowed attempt was made.",
        "DISQUALIFIED": "Final: nobody can be reached (suppressed, no address, do-not-contact).",
        "DISABLED": "Shown, not stored: the row's plan is paused on its own.",
        "CAMPAIGN_PAUSED": "Shown, not stored: the campaign is paused.",
    },
    "CampaignAccountOrderField": {
        "EFFECTIVE_SCORE": "By effective score (the override if set, else the AI score).",
        "NAME": "By account name.",
        "ADDED_AT": "By when the account was added to the campaign.",
    },
    "Direction": {
        "ASC": "Ascending: smallest, earliest or A first.",
        "DESC": "Descending: largest, latest or Z first.",
    },
    "AttemptStatus": {
        "AWAITING_APPROVAL": "Waits for a person to approve it (manual review).",
        "SCHEDULED": "Waits for its due time.",
        "EXECUTING": "Being executed.",
        "AWAITING_RESULT": "Executed by a channel that reports its result later (e.g. a call).",
        "DONE": "Executed, with its outcome.",
        "FAILED": "Delivery failed for good.",
        "REJECTED": "Rejected in review; never executed.",
        "CANCELLED": "The plan stopped before it ran.",
    },
    "AttemptOutcome": {
        "SENT": "The message was sent.",
        "BOUNCED": "The message could not be delivered.",
        "CONNECTED": "The call was answered.",
        "VOICEMAIL": "The call reached a voicemail.",
        "NO_ANSWER": "Nobody answered the call.",
        "BUSY": "The line was busy.",
        "FAILED": "The attempt failed (see its error).",
    },
    "ExpenseKind": {
        "GOOGLE_ADS": "Google Ads.",
        "META_ADS": "Facebook or Instagram ads.",
        "LINKEDIN_ADS": "LinkedIn ads.",
        "OTHER_ADS": "Any other advertising.",
        "AGENCY": "An agency's fees.",
        "LABOR": "People's time.",
        "SOFTWARE": "Software and data subscriptions.",
        "CONTENT": "Content production.",
        "EVENT": "Events and sponsorships.",
        "OTHER": "Anything else.",
    },
    "AccountOrderField": {
        "NAME": "By account name.",
        "CREATED_AT": "By when the account was created.",
        "UPDATED_AT": "By when the account last changed.",
        "EMPLOYEE_COUNT": "By number of employees.",
    },
    "CampaignOrderField": {
        "NAME": "By campaign name.",
        "CREATED_AT": "By when the campaign was created.",
        "UPDATED_AT": "By when the campaign last changed.",
    },
    "ImportStatus": {
        "QUEUED": "Waiting for a worker.",
        "RUNNING": "Reading rows.",
        "COMPLETED": "Every row was read (see the counts and row errors).",
        "FAILED": "Stopped on an error (see the job's error).",
    },
    "ImportOrigin": {
        "UPLOAD": "Uploaded through `importAccounts`.",
        "EMAIL": "Sent as an attachment to the campaign's import address.",
    },
    "SuppressionKind": {
        "EMAIL": "One e-mail address.",
        "PHONE": "One phone number (E.164).",
        "DOMAIN": "Every e-mail address at the domain, and the accounts of that domain.",
    },
    "SuppressionSource": {
        "MANUAL": "Added by a person (`addSuppressions`).",
        "UNSUBSCRIBE": "An unsubscribe link or reply.",
        "BOUNCE": "A permanent delivery failure.",
        "IMPORT": "An import of accounts.",
        "ERASURE": "Erased on a data-subject request.",
        "OTHER": "Anything else.",
    },
    "WebhookDeliveryStatus": {
        "PENDING": "Waiting for its next try.",
        "DELIVERED": "The endpoint answered 2xx.",
        "FAILED": "Every try failed; `redeliverWebhook` tries again.",
    },
    "GuardrailVerdict": {
        "ADMITTED": "Admitted to the campaign.",
        "TARGET": "Admitted, and one of the goal's targets.",
        "HARD_BLOCKED": "Never admitted for this goal.",
        "SOFT_BLOCKED": "Admitted only with the override flag named in `overrideFlag`.",
    },
    "UserErrorCode": {
        "NOT_FOUND": "The object does not exist or is not yours (the two are not told apart).",
        "INVALID": "A value is not acceptable; `field` says which, `message` why.",
        "CONFLICT": "It collides with the current state (taken name, concurrent change); read again and retry.",
        "FORBIDDEN": "Your role in the project does not allow it.",
        "UNAVAILABLE": "A feature it needs is not configured (e.g. no LLM) or a service did not answer.",
    },
    "MatchRule": {
        "DOMAIN": "Same website domain.",
        "NAME_CITY": "Same name in the same city.",
        "PHONE": "Same phone number.",
    },
    "StatusUpdateOutcome": {
        "CHANGED": "The status changed.",
        "UNCHANGED": "It already had that status.",
        "FAILED": "It could not change (see the error).",
    },
    "ReviewDecision": {
        "APPROVED": "Approve the rows for outreach.",
        "REJECTED": "Reject the rows: no outreach is planned for them.",
        "PENDING": "Undo a decision: the rows wait for review again.",
    },
    "DraftMode": {
        "AI_DRAFT": "Draft a first message.",
        "AI_CONTINUE": "Draft the next message of the thread.",
        "TYPE_AND_TRANSLATE": "Translate the text you typed into the contact's language (needs the LLM).",
    },
    "ExecutionAction": {
        "DISABLE": "Pause the row's plan.",
        "ENABLE": "Resume a paused row's plan.",
        "RESET": "Plan again from the first step; history is kept.",
        "COMPLETE": "End the plan: nothing more is attempted.",
    },
    "UpsertResult": {
        "CREATED": "A new account was created.",
        "UPDATED": "An existing account changed.",
        "UNCHANGED": "An existing account already had these values.",
        "REMOVED": "The account was removed.",
        "FAILED": "Nothing changed (see the error).",
    },
    "AccountEventKind": {
        "CREATED": "An account was created.",
        "UPDATED": "An account changed.",
        "MERGED": "Other accounts were merged into this one.",
        "DELETED": "An account was deleted.",
    },
    "CampaignEventKind": {
        "SCORING_PROGRESS": "A scoring run moved on.",
        "ACCOUNTS_CHANGED": "Rows were added, reviewed, removed or moved along (messages logged or drafted).",
        "CAMPAIGN_UPDATED": "The campaign itself changed: its settings, cadence or expenses.",
        "EXECUTION_CHANGED": "Outreach execution changed (attempts, state).",
        "AUDIENCE_SYNC_PROGRESS": "An audience sync moved on.",
    },
}

ARGUMENTS: dict[str, str] = {
    "Query.projects.includeArchived": "Also list archived projects.",
    "Query.project.slug": "The project's slug, as in its URLs (e.g. `demo-outbound`).",
    "Query.goal.key": "The goal's key, e.g. `sales` (see `goals`).",
    "Query.explainGuardrails.campaignId": "The campaign whose goal and project decide.",
    "Query.explainGuardrails.accountIds": "The accounts to check (at most OUTBOUNDQL_MAX_BULK_ITEMS).",
    "Query.explainGuardrails.overrides": "Override flags to try, as `addAccountsToCampaign` would take them.",
    "User.apiTokens.includeRevoked": "Also list revoked tokens.",
    "Project.products.includeArchived": "Also list archived products.",
    "Project.product.slug": "The product's slug within the project.",
    "Project.accounts.filter": "Only the accounts matching every condition given.",
    "Project.accounts.orderBy": "Sort order (oldest first when not given).",
    "Project.campaigns.filter": "Only the campaigns matching every condition given (archived ones only if asked).",
    "Project.campaigns.orderBy": "Sort order (newest first when not given).",
    "Project.campaign.slug": "The campaign's slug within the project.",
    "Project.importJobs.campaignId": "Only the import jobs into this campaign.",
    "Project.suppressions.kind": "Only entries of this kind.",
    "Project.suppressions.search": "Only entries whose value contains this text (case and a phone number's "
    "spaces and dashes do not matter).",
    "Project.explainGuardrails.goal": "The goal's key, e.g. `sales`.",
    "Project.explainGuardrails.accountIds": "The accounts to check (at most OUTBOUNDQL_MAX_BULK_ITEMS).",
    "Project.explainGuardrails.overrides": "Override flags to try, as `addAccountsToCampaign` would take them.",
    "Project.stats.includeArchived": "Count archived campaigns too (the default).",
    "Project.invitations.includeClosed": "Also list accepted, revoked and expired invitations.",
    "Project.auditEvents.filter": "Only the events matching every condition given (actor, object, action, "
    "source, time).",
    "Account.auditEvents.filter": "Only the events matching every condition given.",
    "Campaign.auditEvents.filter": "Only the events matching every condition given.",
    "Campaign.audienceSyncs.limit": "How many of the most recent syncs (at most 20).",
    "Product.persona.goal": "The goal whose persona to read, e.g. `sales`.",
    "CampaignAccount.attempts.limit": "How many of the most recent attempts (at most OUTBOUNDQL_MAX_PAGE_SIZE).",
    "Campaign.scoringRuns.limit": "How many of the most recent runs (at most 50).",
    "Campaign.accounts.filter": "Only the rows matching every condition given.",
    "Campaign.accounts.orderBy": "Sort order (best effective score first when not given).",
    "Campaign.attempts.filter": "Only the attempts matching every condition given.",
    "Market.campaigns.includeArchived": "Also list archived campaigns.",
    "WebhookEndpoint.deliveries.status": "Only deliveries in this state.",
    "Subscription.accountEvents.projectId": "The project whose accounts to follow.",
    "Subscription.campaignScoringProgress.campaignId": "The campaign whose scoring to follow.",
    "Subscription.campaignEvents.campaignId": "The campaign to follow.",
    "Subscription.importJobProgress.importJobId": "The import job to follow.",
}
"""Arguments of one field, by ``Type.field.argument``; better written where the argument is declared."""

PAGING_ARGUMENTS = {
    "first": "Returns the first _n_ items of the list (a full page when neither `first` nor `last` is given).",
    "after": "Returns the items after this cursor (from `pageInfo.endCursor` or an edge's `cursor`).",
    "last": "Returns the last _n_ items of the list.",
    "before": "Returns the items before this cursor (from `pageInfo.startCursor` or an edge's `cursor`).",
}


def document(schema: GraphQLSchema) -> list[str]:
    """Fill in the descriptions above where the schema has none; returns the tables' entries that name no enum
    value or argument of ``schema`` (stale)."""
    stale: list[str] = []
    for enum_name, values in ENUM_VALUES.items():
        enum = schema.type_map.get(enum_name)
        if not isinstance(enum, GraphQLEnumType):
            stale.append(enum_name)
            continue
        for value_name, description in values.items():
            value = enum.values.get(value_name)
            if value is None:
                stale.append(f"{enum_name}.{value_name}")
            elif not value.description:
                value.description = description
    for type_ in schema.type_map.values():
        if not isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            connection = "edges" in getattr(get_named_type(field.type), "fields", {})
            for name, argument in field.args.items():
                if argument.description:
                    continue
                own = ARGUMENTS.get(f"{type_.name}.{field_name}.{name}")
                if own is not None:
                    argument.description = own
                elif connection and name in PAGING_ARGUMENTS:
                    argument.description = PAGING_ARGUMENTS[name]
                elif type_ is schema.mutation_type and name == "input":
                    argument.description = (f"What `{field_name}` needs; each field is described on "
                                            f"`{get_named_type(argument.type).name}`.")
    for key in ARGUMENTS:
        type_name, field_name, name = key.split(".")
        owner = schema.type_map.get(type_name)
        fields = getattr(owner, "fields", None) or {}
        if field_name not in fields or name not in fields[field_name].args:
            stale.append(key)
    return stale
