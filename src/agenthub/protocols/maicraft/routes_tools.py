"""Health, the bot's MCP tools (raw MCP structures, as the seed says), and token usage recording (ours:
where the agent's LLM client reports each call)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from mcp import McpError
from pydantic import BaseModel, Field

from agenthub.protocols.maicraft.caches import Container
from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import ok
from agenthub.protocols.maicraft.errors import McpUnavailable, OperationFailed, ValidationFailed
from agenthub.protocols.maicraft.game import tool_payload
from agenthub.protocols.maicraft.records import usage_summary

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"status": "healthy", "service": "MaicraftAgent API", "version": "1.0.0"}


@router.get("/api/mcp/tools")
async def list_tools(bot: CurrentBot) -> dict[str, Any]:
    if bot.link is None:
        raise McpUnavailable("MCP_NOT_CONNECTED: MCP客户端未连接")
    tools = await bot.link.list_tools()
    raw = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    return ok({"tools": raw, "total": len(raw)})


class ToolCall(BaseModel):
    tool_name: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


@router.post("/api/mcp/tools/call")
async def call_tool(bot: CurrentBot, body: Annotated[ToolCall, Body()]) -> dict[str, Any]:
    if not body.tool_name.strip():
        raise ValidationFailed("VALIDATION_ERROR: 工具名称不能为空")
    try:
        # Actions (move, mine_block, ...) may run long: the MCP server's own limit is 600 s.
        result = await bot.game.call(
            body.tool_name, body.arguments, timeout=bot.settings.mcp_tool_timeout_seconds
        )
    except McpError as exc:
        raise OperationFailed(f"TOOL_ERROR: {exc.error.message}") from exc
    structured = result.structuredContent
    content = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in result.content]
    raw: dict[str, Any] = {
        "content": content,
        "structured_content": structured,
        "is_error": bool(result.isError),
        # Ours: the tool's own result object ({ok, data, ...}), parsed from the text when not structured.
        "data": structured if structured is not None else tool_payload(result),
    }
    if result.isError:
        first = next((c.get("text") for c in content if c.get("type") == "text"), "")
        raise OperationFailed(f"TOOL_ERROR: {first}")
    _remember_containers(bot, body.tool_name, body.arguments, raw["data"])
    return ok({"tool_name": body.tool_name, "arguments": body.arguments, "result": raw})


def _remember_containers(bot: Any, name: str, arguments: dict[str, Any], payload: Any) -> None:
    """A chest or furnace the agent opened tells us its contents: keep them in the container cache."""
    if name not in ("use_chest", "use_furnace") or not isinstance(payload, dict) or not payload.get("ok"):
        return
    data = payload.get("data") or {}
    try:
        pos = (int(arguments["x"]), int(arguments["y"]), int(arguments["z"]))
    except (KeyError, TypeError, ValueError):
        return
    cache = bot.game.containers.containers
    if name == "use_chest":
        known = cache.setdefault(pos, Container("chest", "chest"))
        known.inventory = {str(k): int(v) for k, v in (data.get("contents") or {}).items()}
    else:
        known = cache.setdefault(pos, Container("furnace", "furnace"))
        slots = {k: data.get(k) for k in ("input", "fuel", "output")}
        known.furnace_slots = slots
        known.inventory = {s["name"]: int(s["count"]) for s in slots.values() if isinstance(s, dict)}
    known.verified = True


class UsageRecord(BaseModel):
    model_name: str = Field(min_length=1, max_length=255)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


@router.post("/api/token-usage/record")
async def record_usage(bot: CurrentBot, body: UsageRecord) -> dict[str, Any]:
    usage = await bot.record_usage(body.model_name, body.prompt_tokens, body.completion_tokens)
    return ok(usage.wire())


@router.get("/api/token-usage")
async def token_usage(bot: CurrentBot) -> dict[str, Any]:
    usages = await bot.repo.usages()
    return ok({"models": {u.model_name: u.wire() for u in usages}, "summary": usage_summary(usages)})
