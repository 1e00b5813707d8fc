"""Evaluate a reply classifier on a labelled set: precision and recall per class and language, overall accuracy.

Run::

    .venv/bin/python -m outboundql.classifiers.evaluate tests/data/replies.csv [--classifier rules] [--from-row N]

The set is a CSV file with the columns ``language,label,text`` (UTF-8, quoted newlines allowed; ``label`` a value
of `ReplyClass`, ``language`` an ISO 639-1 code). The classifier is any installed one, by key (plugins are found
like the server finds them), so a plugin author can measure their own classifier on their own set. The replies
are classified with ``Reply.language`` left None, as the server does when it does not know the language. The
answer is a Markdown table: one row per class, one column per language and one for all, each cell
"precision / recall" ("–" when there is nothing to divide by), and a last row of accuracy.

About ``tests/data/replies.csv``: written for this project. Rows 1–175 (the development part, 5 per class and
language) were written first and the phrase lists were adjusted while reading the mistakes on them, though never
by pasting a row's sentence into a list. Rows 176 onward (the held-out part, about 20%) were written after the
rules were final, and the rules were not changed for them; ``--from-row 176`` measures that part alone.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from outboundql.classifiers import Reply, ReplyClass, ReplyClassifier
from outboundql.classifiers.registry import classify_with, default_classifiers


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled reply of the set."""

    language: str
    label: ReplyClass
    text: str


@dataclass(frozen=True, slots=True)
class Scored:
    """One example and what the classifier answered."""

    example: Example
    predicted: ReplyClass


def load(path: Path, *, from_row: int = 1) -> list[Example]:
    """The examples of the CSV at ``path`` from its ``from_row``-th data row (1 = the first after the header)."""
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    missing = {"language", "label", "text"} - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"{path}: the columns must be language,label,text; missing {sorted(missing)}")
    return [Example(row["language"].strip().lower(), ReplyClass(row["label"].strip()), row["text"])
            for row in rows[from_row - 1:]]


async def score(classifier: ReplyClassifier, examples: Sequence[Example]) -> list[Scored]:
    """Classify the examples (language unknown to the classifier) through `classify_with`."""
    answers = await classify_with(classifier, [Reply(text=e.text) for e in examples])
    return [Scored(e, a.label) for e, a in zip(examples, answers, strict=True)]


def _ratio(hits: int, total: int) -> str:
    return f"{hits / total:.2f}" if total else "–"


def accuracy(scored: Sequence[Scored]) -> float:
    """The share of examples classified as labelled (0 for none)."""
    return sum(s.predicted is s.example.label for s in scored) / len(scored) if scored else 0.0


def table(scored: Sequence[Scored]) -> str:
    """The Markdown table described in the module docstring."""
    languages = sorted({s.example.language for s in scored})
    groups = [("all", list(scored))] + [(lang, [s for s in scored if s.example.language == lang])
                                       for lang in languages]
    lines = ["| class | " + " | ".join(name for name, _ in groups) + " |",
             "|---|" + "---|" * len(groups)]
    for label in ReplyClass:
        cells = []
        for _, group in groups:
            true_positive = sum(s.predicted is label and s.example.label is label for s in group)
            predicted = sum(s.predicted is label for s in group)
            actual = sum(s.example.label is label for s in group)
            cells.append(f"{_ratio(true_positive, predicted)} / {_ratio(true_positive, actual)}")
        lines.append(f"| `{label.value}` | " + " | ".join(cells) + " |")
    lines.append("| **accuracy** | " + " | ".join(f"**{accuracy(group):.2f}** ({len(group)})" for _, group in groups)
                 + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outboundql.classifiers.evaluate",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("path", type=Path, help="CSV file with the columns language,label,text")
    parser.add_argument("--classifier", default="rules", help="key of an installed classifier (default: rules)")
    parser.add_argument("--from-row", type=int, default=1, help="first data row to evaluate (1 = all)")
    args = parser.parse_args(argv)
    registry = default_classifiers()
    classifier = registry.get(args.classifier)
    if classifier is None:
        keys = ", ".join(c.key for c in registry.all())
        print(f"error: no classifier {args.classifier!r}; installed: {keys}", file=sys.stderr)
        return 2
    scored = asyncio.run(score(classifier, load(args.path, from_row=args.from_row)))
    print(f"Classifier `{classifier.key}` on {args.path} ({len(scored)} replies); cells are precision / recall.\n")
    print(table(scored))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
