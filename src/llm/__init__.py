"""A small client for OpenAI-compatible chat-completions endpoints, shared by every AI feature.

Scoring, drafting and translating all talk to the same configured endpoint (``OUTBOUNDQL_LLM_*``),
so retries, JSON answers and cost accounting live here once instead of in each feature.
"""

from outboundql.llm.client import (
    Completion,
    LlmAnswerInvalid,
    LlmCall,
    LlmClient,
    LlmConfig,
    LlmError,
    LlmRequestRefused,
    LlmUnavailable,
)
from outboundql.llm.pricing import DEFAULT_PRICES, Cost, ModelPrice, cost_of

__all__ = [
    "DEFAULT_PRICES",
    "Completion",
    "Cost",
    "LlmAnswerInvalid",
    "LlmCall",
    "LlmClient",
    "LlmConfig",
    "LlmError",
    "LlmRequestRefused",
    "LlmUnavailable",
    "ModelPrice",
    "cost_of",
]
