"""Cost arithmetic from the catalogue's per-million-token prices."""

from __future__ import annotations

from workers.shared.bedrock.result import Usage
from workers.shared.bedrock.settings import Pricing

_PER = 1_000_000


def estimate_cost(pricing: Pricing, usage: Usage, *, batch: bool = False) -> float:
    """USD for this usage; batch inference takes the batch discount off input and output tokens."""
    io = usage.input_tokens * pricing.input_per_mtok + usage.output_tokens * pricing.output_per_mtok
    if batch:
        io *= 1 - pricing.batch_discount
    cache = (
        usage.cache_read_input_tokens * pricing.cache_read_per_mtok
        + usage.cache_write_input_tokens * pricing.cache_write_per_mtok
    )
    return round((io + cache) / _PER, 10)
