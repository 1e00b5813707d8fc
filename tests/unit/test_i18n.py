"""Catalog resolution for language tags: a regional catalog first, then the base language's, then English;
CLDR's English names of tags (what the LLM prompts say)."""

from __future__ import annotations

from pathlib import Path

import pytest

from outboundql import i18n
from outboundql.scoring.llm import language_name


@pytest.mark.parametrize(
    ("tag", "names"),
    [("es", ("es",)), ("es-ES", ("es_ES", "es")), ("pt-br", ("pt_BR", "pt")),
     ("zh-Hant-TW", ("zh_Hant_TW", "zh_Hant", "zh")), ("es-419", ("es_419", "es")), (None, ()), ("", ()),
     ("../x", ())],
)
def test_catalog_names_closest_first(tag: str | None, names: tuple[str, ...]) -> None:
    assert i18n.catalog_names(tag) == names


def _catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *languages: str) -> i18n.Catalogs:
    package = tmp_path / "i18n_fixture_pkg"
    for language in languages:
        folder = package / "locales" / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "d.po").write_text(f'msgid "Hello"\nmsgstr "Hello ({language})"\n')
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    return i18n.Catalogs("i18n_fixture_pkg", "d")


def test_a_regional_catalog_wins_over_its_base_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogs = _catalogs(tmp_path, monkeypatch, "en", "pt", "pt_BR")
    assert catalogs.resolve_language("pt-BR") == "pt_BR"
    assert catalogs.translate("pt-BR", "Hello") == "Hello (pt_BR)"
    assert catalogs.resolve_language("pt-PT") == "pt"
    assert catalogs.resolve_language("ja-JP") == "en"


@pytest.mark.parametrize(
    ("tag", "name"),
    [("fr", "French (fr)"), ("pt-BR", "Portuguese (Brazil) (pt-BR)"), ("zh-Hant", "Chinese (Traditional) (zh-Hant)"),
     ("es-419", "Spanish (Latin America) (es-419)"), ("fr-JP", "French (Japan) (fr-JP)"), ("xx", "xx")],
)
def test_language_names_for_prompts(tag: str, name: str) -> None:
    assert language_name(tag) == name
