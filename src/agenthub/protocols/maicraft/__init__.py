"""MaicraftAgent API (seed 002): a Minecraft agent's own API - logs, live game state from an MCP server,
locations, containers, blocks, to-do tasks, token usage and MCP tools - on port 20914."""
