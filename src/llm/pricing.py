"""What an LLM call costs, in USD, from a per-model price table (reported beside expenses, never added to them).

Prices are per million tokens, as providers publish them. The table is configuration
(``OUTBOUNDQL_LLM_PRICES``) because prices change and self-hosted models have their own; the
built-in one only covers a few common hosted models. A model missing from the table is never
guessed at: it costs 0, the result says it was not priced, and a warning is logged once per
model so an operator notices that the usage report undercounts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

#: ApiUsage.cost_usd keeps six decimals.
_MICRO_DOLLAR = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


class ModelPrice(BaseModel):
    """USD per million tokens, e.g. ``{"input_per_million": 0.15, "output_per_million": 0.6}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_million: Decimal = Field(ge=0, description="USD per million prompt (input) tokens.")
    output_per_million: Decimal = Field(ge=0, description="USD per million completion (output) tokens.")


#: List prices of a few hosted models when this table was written; override with OUTBOUNDQL_LLM_PRICES.
DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input_per_million=Decimal("0.15"), output_per_million=Decimal("0.60")),
    "gpt-4o": ModelPrice(input_per_million=Decimal("2.50"), output_per_million=Decimal("10.00")),
    "gpt-4.1": ModelPrice(input_per_million=Decimal("2.00"), output_per_million=Decimal("8.00")),
    "gpt-4.1-mini": ModelPrice(input_per_million=Decimal("0.40"), output_per_million=Decimal("1.60")),
    "gpt-4.1-nano": ModelPrice(input_per_million=Decimal("0.10"), output_per_million=Decimal("0.40")),
}


@dataclass(frozen=True, slots=True)
class Cost:
    usd: Decimal
    #: False when the model is not in the price table and ``usd`` is a placeholder 0.
    priced: bool


_warned: set[str] = set()


def find_price(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of ``model``: an exact entry, else the longest entry it is a dated variant of.

    Providers answer with and accept pinned names such as ``gpt-4o-mini-2024-07-18``; those cost
    what ``gpt-4o-mini`` costs, so a table entry covers ``<entry>-<anything>`` too.
    """
    if model in prices:
        return prices[model]
    variants = [name for name in prices if model.startswith(name + "-")]
    return prices[max(variants, key=len)] if variants else None


def cost_of(model: str, input_tokens: int, output_tokens: int, prices: Mapping[str, ModelPrice]) -> Cost:
    """USD for one call, rounded half-up to the micro-dollar; ``priced=False`` for an unknown model."""
    price = find_price(model, prices)
    if price is None:
        if model not in _warned:
            _warned.add(model)
            logger.warning(
                "LLM model %r is not in the price table, so its usage is recorded at $0; "
                "add it to OUTBOUNDQL_LLM_PRICES to get real costs", model,
            )
        return Cost(Decimal(0), priced=False)
    usd = (input_tokens * price.input_per_million + output_tokens * price.output_per_million) / _MILLION
    return Cost(usd.quantize(_MICRO_DOLLAR, rounding=ROUND_HALF_UP), priced=True)
