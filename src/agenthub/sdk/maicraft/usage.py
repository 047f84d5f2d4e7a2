"""`TokenUsageClient`: POST /api/token-usage/record for each LLM call the agent makes."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class TokenUsageError(RuntimeError):
    """The API refused the record (its envelope's message and error_code)."""

    def __init__(self, message: str, error_code: str | None) -> None:
        super().__init__(f"{error_code}: {message}" if error_code else message)
        self.error_code = error_code


class TokenUsageClient:
    def __init__(self, base_url: str, *, access_token: str | None = None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    async def record(self, model_name: str, *, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
        """Adds one call's tokens to the model's totals; returns the model's new TokenUsage."""
        response = await self._http.post(
            "/api/token-usage/record",
            json={
                "model_name": model_name,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
            },
        )
        body = response.json()
        if not body.get("success"):
            raise TokenUsageError(str(body.get("message")), body.get("error_code"))
        usage: dict[str, Any] = body["data"]
        return usage

    async def record_openai(self, model_name: str, usage: Any) -> dict[str, Any]:
        """Records an OpenAI-style `usage` object or dict (prompt_tokens, completion_tokens)."""

        def field(name: str) -> int:
            value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, 0)
            return int(value or 0)

        return await self.record(
            model_name, prompt_tokens=field("prompt_tokens"), completion_tokens=field("completion_tokens")
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> TokenUsageClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
