"""The evaluate command: a Markdown table of precision / recall per class and language, and the accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest

from outboundql.classifiers import ReplyClass
from outboundql.classifiers.evaluate import Example, Scored, load, main, table

C = ReplyClass


def test_the_table_counts_precision_recall_and_accuracy() -> None:
    scored = [
        Scored(Example("en", C.INTERESTED, "a"), C.INTERESTED),
        Scored(Example("en", C.INTERESTED, "b"), C.OTHER),
        Scored(Example("es", C.OTHER, "c"), C.OTHER),
        Scored(Example("es", C.BOUNCE, "d"), C.INTERESTED),
    ]
    lines = table(scored).splitlines()
    assert lines[0] == "| class | all | en | es |"
    assert "| `interested` | 0.50 / 0.50 | 1.00 / 0.50 | 0.00 / – |" in lines
    assert "| `other` | 0.50 / 1.00 | 0.00 / – | 1.00 / 1.00 |" in lines
    assert "| `referral` | – / – | – / – | – / – |" in lines
    assert lines[-1] == "| **accuracy** | **0.50** (4) | **0.50** (2) | **0.50** (2) |"


def test_the_command_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "mine.csv"
    data.write_text('language,label,text\nen,unsubscribe,"Please\nunsubscribe me"\nes,other,Hola\n', encoding="utf-8")
    assert [e.text for e in load(data)] == ["Please\nunsubscribe me", "Hola"]
    assert main([str(data), "--classifier", "rules"]) == 0
    out = capsys.readouterr().out
    assert "| **accuracy** | **1.00** (2) | **1.00** (1) | **1.00** (1) |" in out
    assert main([str(data), "--from-row", "2"]) == 0
    assert "| **accuracy** | **1.00** (1) | **1.00** (1) |" in capsys.readouterr().out


def test_an_unknown_classifier_is_an_error_listing_the_installed(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "mine.csv"
    data.write_text("language,label,text\nen,other,Hi\n", encoding="utf-8")
    assert main([str(data), "--classifier", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no classifier 'nope'; installed: " in err and "rules" in err


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("lang,class,body\nen,other,Hi\n", encoding="utf-8")
    with pytest.raises(ValueError, match="the columns must be language,label,text"):
        load(data)
