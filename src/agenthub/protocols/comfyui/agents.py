"""ComfyUI agents: their registration (the platform's own rows) and their presence (the engine's agent nodes
of kind `comfyui`: a heartbeat is a sighting, online/last seen is read back from the engine, whose silence
window for the kind is `AGENTHUB_COMFYUI_AGENT_SILENCE_SECONDS`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agenthub.core.engine import Engine
from agenthub.core.nodes import AgentNode, NodeSighting
from agenthub.protocols.comfyui.errors import AgentNotAllowed, AgentNotFound
from agenthub.protocols.comfyui.kinds import NODE_KIND
from agenthub.protocols.comfyui.records import Agent, Alert
from agenthub.protocols.comfyui.repository import ComfyuiRepository


@dataclass(frozen=True, slots=True)
class Presence:
    online: bool
    last_seen_at: datetime | None

    @classmethod
    def of(cls, engine: Engine, node: AgentNode | None) -> Presence:
        if node is None:
            return cls(online=False, last_seen_at=None)
        return cls(online=engine.is_online(node), last_seen_at=node.last_seen_at)


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent as the operator sees it: its row, its presence and its latest alerts."""

    agent: Agent
    presence: Presence
    alerts: list[Alert]


class ComfyuiAgents:
    def __init__(self, engine: Engine, repo: ComfyuiRepository) -> None:
        self.engine = engine
        self.repo = repo

    def now(self) -> datetime:
        return self.engine.clock.now()

    async def register(self, *, agent_id: str, base_url: str, allowed: bool) -> Agent:
        """Raises AgentExists when the id is taken."""
        return await self.repo.insert_agent(
            agent_id=agent_id, base_url=base_url, allowed=allowed, now=self.now()
        )

    async def get(self, agent_id: str) -> Agent:
        found = await self.repo.agent(agent_id)
        if found is None:
            raise AgentNotFound(agent_id)
        return found

    async def allowed(self, agent_id: str) -> Agent:
        """The agent, if it is registered and allowed to call."""
        agent = await self.get(agent_id)
        if not agent.allowed:
            raise AgentNotAllowed(agent_id)
        return agent

    async def update(self, agent_id: str, **values: Any) -> Agent:
        updated = await self.repo.update_agent(agent_id, now=self.now(), **values)
        if updated is None:
            raise AgentNotFound(agent_id)
        return updated

    async def heard_from(
        self,
        agent_id: str,
        *,
        status: str | None,
        agent_version: str | None,
        comfyui_version: str | None,
        metrics: dict[str, Any],
    ) -> datetime:
        """A heartbeat: its figures become the agent's latest, and the engine notes the agent as seen."""
        now = self.now()
        await self.repo.update_agent(
            agent_id,
            now=now,
            status=status,
            agent_version=agent_version,
            comfyui_version=comfyui_version,
            metrics=metrics,
        )
        await self.engine.node_seen(NodeSighting(kind=NODE_KIND, node_id=agent_id, version=agent_version))
        return now

    async def alert(self, agent_id: str, *, type: str, message: str, payload: dict[str, Any] | None) -> None:
        await self.repo.insert_alert(
            agent_id=agent_id, type=type, message=message, payload=payload, now=self.now()
        )

    async def view(self, agent: Agent) -> AgentView:
        node = await self.engine.node(NODE_KIND, agent.agent_id)
        return AgentView(agent, Presence.of(self.engine, node), await self.repo.alerts(agent.agent_id))

    async def views(self) -> list[AgentView]:
        nodes = {node.node_id: node for node in await self.engine.nodes(NODE_KIND)}
        return [
            AgentView(
                agent,
                Presence.of(self.engine, nodes.get(agent.agent_id)),
                await self.repo.alerts(agent.agent_id),
            )
            for agent in await self.repo.list_agents()
        ]
