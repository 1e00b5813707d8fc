"""The ``rules`` classifier keeps the accuracy published in README.md ("Reply classification" table) on the
labelled set, and on its held-out part."""

from __future__ import annotations

from pathlib import Path

from outboundql.classifiers import ReplyClass
from outboundql.classifiers.evaluate import accuracy, load, score, table
from outboundql.classifiers.rules import RULES

REPLIES = Path(__file__).resolve().parents[2] / "data" / "replies.csv"
#: The overall accuracy in README.md's "Reply classification" table (the **accuracy** row, column "all").
PUBLISHED_ACCURACY = 0.91
#: The held-out rows (176 onward, written after the rules) as README.md states them.
PUBLISHED_HELD_OUT_ACCURACY = 0.58
HELD_OUT_FROM_ROW = 176
LANGUAGES = {"en", "es", "fr", "de", "ca"}


def test_the_set_covers_every_class_in_every_language() -> None:
    examples = load(REPLIES)
    assert len(examples) >= 200
    assert {(e.language, e.label) for e in examples} == {(lang, label) for lang in LANGUAGES for label in ReplyClass}
    held_out = load(REPLIES, from_row=HELD_OUT_FROM_ROW)
    assert 0.18 <= len(held_out) / len(examples) <= 0.25


async def test_the_accuracy_stays_at_or_above_the_published_figure() -> None:
    scored = await score(RULES, load(REPLIES))
    assert round(accuracy(scored), 2) >= PUBLISHED_ACCURACY, table(scored)


async def test_the_held_out_accuracy_stays_at_or_above_the_published_figure() -> None:
    scored = await score(RULES, load(REPLIES, from_row=HELD_OUT_FROM_ROW))
    assert round(accuracy(scored), 2) >= PUBLISHED_HELD_OUT_ACCURACY, table(scored)


def test_the_readme_publishes_these_figures() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert f"| **accuracy** | **{PUBLISHED_ACCURACY:.2f}** (220)" in readme
    assert f"held-out part alone: **{PUBLISHED_HELD_OUT_ACCURACY:.2f}**" in readme
