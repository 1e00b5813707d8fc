"""The README documents every setting and the two commands CI relies on."""

from pathlib import Path

import pytest

from outboundql.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`OUTBOUNDQL_{name.upper()}`" in README, f"add OUTBOUNDQL_{name.upper()} to the README's table"


def test_readme_names_the_two_commands() -> None:
    assert "make serve" in README and "make test" in README
