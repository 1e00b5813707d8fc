"""Scorers: turn a goal's rubric, a persona and an account into a FitScore (0–10, a band, justifications)."""

from outboundql.scoring.rubric import Justification, RubricScore, band, score
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot

__all__ = ["AccountSnapshot", "ContactSnapshot", "Justification", "RubricScore", "band", "score"]
