"""The agent side of the MaicraftAgent API (seed 002): report each LLM call's token usage, so the API's
`/ws/token-usage` subscribers see per-model totals and cost (our addition; the seed has no way in).

    async with TokenUsageClient("http://127.0.0.1:20914") as usage:
        totals = await usage.record("qwen3-next-80b-a3b-instruct", prompt_tokens=1200, completion_tokens=85)
        print(totals["total_cost"])
"""

from __future__ import annotations

from agenthub.sdk.maicraft.usage import TokenUsageClient, TokenUsageError

__all__ = ["TokenUsageClient", "TokenUsageError"]
