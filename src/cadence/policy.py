"""What the result of an attempt leads to: the retry policy of a cadence, as one pure decision."""

from __future__ import annotations

import enum

from outboundql.cadence.settings import Cadence
from outboundql.enums import AttemptOutcome


class Next(enum.Enum):
    ACHIEVED = "achieved"
    """The goal was achieved: the row is completed."""
    RETRY = "retry"
    """The same step to the same contact again, after the retry interval."""
    NEXT_CONTACT = "next_contact"
    """This contact is done for the step (retries used up, it bounced, or a failure not retried): the account's
    next reachable contact, else the row ends in max_retries."""
    NEXT_STEP = "next_step"
    """The step is done: the cadence's next step after its delay, else the row is completed."""


def after_result(cadence: Cadence, attempt_number: int, outcome: AttemptOutcome, goal_achieved: bool | None) -> Next:
    """The decision after attempt ``attempt_number`` (1-based, of a step to one contact) came to ``outcome``."""
    if goal_achieved:
        return Next.ACHIEVED
    retry = cadence.retry
    retries = outcome.value in {o.value for o in retry.retry_on} or (
        outcome is AttemptOutcome.CONNECTED and retry.until_goal_achieved)
    if retries:
        return Next.RETRY if attempt_number < retry.max_attempts else Next.NEXT_CONTACT
    if outcome in (AttemptOutcome.BOUNCED, AttemptOutcome.FAILED):  # nothing reached this contact
        return Next.NEXT_CONTACT
    return Next.NEXT_STEP


