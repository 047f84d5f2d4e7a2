"""MaicraftAgent settings (AGENTHUB_MAICRAFT_*)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from agenthub.server.settings import ProtocolSettings

DEFAULT_BOT = "default"


class ModelPrice(BaseModel):
    """Price per million tokens, as the original's config gives it."""

    input: float = 0.0
    output: float = 0.0


class BotConfig(BaseModel):
    """A further bot: its own MCP server process, state and port (the seed's paths on that port)."""

    name: str
    port: int
    mc_host: str | None = None  # None: the default bot's
    mc_port: int | None = None
    mc_username: str | None = None
    mcp_command: str | None = None


class MaicraftSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_MAICRAFT_", extra="ignore")

    port: int = 20914
    # The Minecraft server the shipped MCP server's bot joins (offline auth).
    mc_host: str = "127.0.0.1"
    mc_port: int = 25565
    mc_username: str = "Mai"
    mc_version: str | None = None  # None: the bot asks the server
    # Any other MCP server (stdio): a shell-style command line; replaces the shipped one.
    mcp_command: str | None = None
    # Or a JSON file like the original's mcp_servers.json ({"mcpServers": {name: {command, args, env}}}).
    mcp_config: str | None = None
    mcp_enabled: bool = True  # off: no MCP server at all (the game endpoints answer CONNECTION_ERROR)
    mcp_call_timeout_seconds: float = 15.0  # polling queries; longer means a hung server (restarted)
    mcp_tool_timeout_seconds: float = 620.0  # tool calls through the API (the server stops actions at 600 s)
    mcp_restart_max_seconds: float = 15.0
    # Polling the game like the original agent: status, surroundings, events every poll; the block cube
    # around the player (the costly query) less often.
    poll_interval_seconds: float = 0.5
    area_poll_interval_seconds: float = 2.0
    area_radius: int = 6
    entity_range: int = 64
    node_seen_interval_seconds: float = 5.0
    # Optional access token (Authorization: Bearer <token> or ?token=); off, like the original.
    access_token: SecretStr | None = None
    goal: str = "生存挑战"
    model_prices: dict[str, ModelPrice] = Field(default_factory=dict)
    bots: list[BotConfig] = Field(default_factory=list)
    log_capacity: int = 1000
    log_level: str = "INFO"
    ws_heartbeat_seconds: float = 60.0
    ws_timeout_seconds: float = 90.0
    ws_queue_size: int = 256  # per subscriber; a slow one loses its oldest pushes, never delays the rest
    max_tasks: int = 5
