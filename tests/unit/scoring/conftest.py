"""Fixtures of the scoring tests: the fake OpenAI-compatible endpoint for the llm scorer."""

from tests.fakes.openai_server import openai_server

__all__ = ["openai_server"]  # re-exported so pytest finds the fixture here
