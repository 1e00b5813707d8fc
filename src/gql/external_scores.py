"""setExternalScores: fit scores computed outside outboundql, attached to accounts for a campaign."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.accounts import Account
from outboundql.gql.base import mutation, pk_of, pk_or_none
from outboundql.gql.campaign_accounts import FitScore
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import external_scores


@strawberry.input(description="A named part of a score (e.g. `quality_score`), on the batch's scale.")
class ScoreComponentInput:
    name: str = strawberry.field(description="1 to 64 characters, unique within the score.")
    value: float = strawberry.field(description="On the batch's scale (0–1 or 0–10).")


@strawberry.input(description="One account's score, on the batch's scale.")
class ExternalScoreInput:
    account_id: relay.GlobalID = strawberry.field(description="An account of the campaign's project.")
    score: float | None = strawberry.field(
        default=None, description="The overall score; null: the mean of the components.")
    components: list[ScoreComponentInput] = strawberry.field(
        default_factory=list, description="Kept as the score's justifications (kind `component`); at most 20.")

    def to_item(self) -> external_scores.ScoreItem:
        return external_scores.ScoreItem(
            account_id=pk_or_none(self.account_id, "Account"), score=self.score,
            components=tuple((c.name, c.value) for c in self.components))


@strawberry.input(description="Scores computed outside outboundql for a campaign's product and goal. All or "
                  "nothing: any item refused and none is written.")
class SetExternalScoresInput:
    campaign_id: relay.GlobalID
    scale: float | None = strawberry.field(
        default=None, description="1 (scores from 0 to 1) or 10 (from 0 to 10); null: inferred from the batch, "
        "0–1 when every value (scores and components) is at most 1, else 0–10.")
    scores: list[ExternalScoreInput] = strawberry.field(
        description="At most OUTBOUNDQL_MAX_BULK_ITEMS (1000); each account once.")

    def to_command(self) -> external_scores.SetExternalScores:
        return external_scores.SetExternalScores(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"), scale=self.scale,
            scores=tuple(s.to_item() for s in self.scores))


@strawberry.type(description="An account and the external score stored for it.")
class ExternalScoreResult:
    account: Account
    fit_score: FitScore = strawberry.field(description="As stored: 0.0–10.0, scorer `external`.")


@strawberry.type
class SetExternalScoresPayload:
    campaign: Campaign | None = strawberry.field(default=None, description="With its counters after the write.")
    scale: float | None = strawberry.field(default=None, description="The scale the values were read on (1 or 10).")
    scored: int = strawberry.field(default=0, description="Scores stored (new or replaced).")
    newly_scored: int = strawberry.field(
        default=0, description="Accounts that had no score for the campaign's product and goal before.")
    results: list[ExternalScoreResult] = strawberry.field(default_factory=list,
                                                          description="In input order.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExternalScoreMutations:
    @mutation("Attach scores computed outside outboundql (0–1 or 0–10, normalised to 0.0–10.0; without an overall "
              "score, the mean of the components) to accounts for the campaign's product and goal. They are stored "
              "as fit scores with scorer `external` and count like any other score (effective score, bands, "
              "histogram, review, low-fit removal); a scoring run replaces them only with `force`.")
    async def set_external_scores(self, info: Info, input: SetExternalScoresInput) -> SetExternalScoresPayload:
        result = await external_scores.set_external_scores(info.context.access, input.to_command(),
                                                           max_items=info.context.settings.max_bulk_items)
        loaded = await info.context.loaders.account_by_id.load_many([s.account_id for s in result.scores])
        accounts = {row.id: row for row in loaded if row is not None}
        return SetExternalScoresPayload(
            campaign=Campaign.from_model(result.campaign), scale=result.scale, scored=len(result.scores),
            newly_scored=result.newly_scored,
            results=[ExternalScoreResult(account=Account.from_model(accounts[s.account_id]),
                                         fit_score=FitScore.from_model(s, stale=False)) for s in result.scores])
