"""A scorer that rates an account by its headcount against the persona's company size."""

import math
from collections.abc import Sequence

from outboundql.goals import hookimpl
from outboundql.scoring import Justification, band
from outboundql.scoring.scorers import BatchOutcome, Scored, ScoringContext, ScoringItem

CRITERION = "company_size"


class Headcount:
    key = "headcount"
    label = "Headcount"
    description = ("10 when the account's headcount is inside the persona's company size, one point less per "
                   "doubling outside it; 5 when the headcount is unknown.")
    batch_size = 500

    async def score(self, context: ScoringContext, items: Sequence[ScoringItem]) -> BatchOutcome:
        return BatchOutcome(scored=[self._one(context, item) for item in items])

    def _one(self, context: ScoringContext, item: ScoringItem) -> Scored:
        low, high = context.persona.company_size_min, context.persona.company_size_max
        count = item.account.employee_count
        if count is None or count <= 0:
            return Scored(item.account_id, 5.0, band(5.0),
                          (Justification("missing_data", CRITERION, "Headcount unknown."),))
        if (low is None or count >= low) and (high is None or count <= high):
            return Scored(item.account_id, 10.0, band(10.0),
                          (Justification("fit", CRITERION, f"{count} employees, inside the target size."),))
        edge = low if low is not None and count < low else high
        assert edge is not None
        value = round(max(0.0, 10.0 - abs(math.log2(count / max(edge, 1)))), 1)
        return Scored(item.account_id, value, band(value),
                      (Justification("gap", CRITERION, f"{count} employees, outside the target size."),))


HEADCOUNT = Headcount()


@hookimpl
def outboundql_register_scorers(register):
    register(HEADCOUNT)
