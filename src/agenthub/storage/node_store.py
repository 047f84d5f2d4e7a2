"""Agent nodes in SQL: an upsert per written sighting, and a sweep that marks silent nodes offline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from agenthub.core.nodes import AgentNode, NodeSighting, NodeStatus
from agenthub.storage.database import Database
from agenthub.storage.tables import agent_nodes
from agenthub.storage.upsert import insert_for


def row_to_node(row: Any) -> AgentNode:
    m = row._mapping
    return AgentNode(
        kind=m["kind"],
        node_id=m["node_id"],
        status=NodeStatus(m["status"]),
        last_seen_at=m["last_seen_at"],
        created_at=m["created_at"],
        owner_id=m["owner_id"],
        version=m["version"],
        info=m["info"],
        disabled_at=m["disabled_at"],
        disabled_by=m["disabled_by"],
    )


class SqlNodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, sighting: NodeSighting, *, now: datetime) -> AgentNode:
        changes: dict[str, Any] = {"status": NodeStatus.ONLINE.value, "last_seen_at": now}
        if sighting.owner_id is not None:
            changes["owner_id"] = sighting.owner_id
        if sighting.version is not None:
            changes["version"] = sighting.version
        if sighting.info is not None:
            changes["info"] = sighting.info
        stmt = insert_for(self.db.dialect, agent_nodes).values(
            kind=sighting.kind,
            node_id=sighting.node_id,
            created_at=now,
            **{"owner_id": sighting.owner_id, "version": sighting.version, "info": sighting.info, **changes},
        )
        stmt = stmt.on_conflict_do_update(index_elements=["kind", "node_id"], set_=changes)
        stmt = stmt.returning(*agent_nodes.c)
        return await self.db.unit(lambda conn: row_to_node(conn.execute(stmt).one()))

    async def get(self, kind: str, node_id: str) -> AgentNode | None:
        query = sa.select(agent_nodes).where(agent_nodes.c.kind == kind, agent_nodes.c.node_id == node_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return row_to_node(row) if row else None

    async def list_nodes(self, kind: str, *, owner_id: int | None = None) -> list[AgentNode]:
        query = sa.select(agent_nodes).where(agent_nodes.c.kind == kind).order_by(agent_nodes.c.node_id)
        if owner_id is not None:
            query = query.where(agent_nodes.c.owner_id == owner_id)
        async with self.db.read() as conn:
            return [row_to_node(r) for r in await conn.execute(query)]

    async def mark_offline(self, kind: str, node_id: str, *, now: datetime) -> None:
        stmt = agent_nodes.update().where(agent_nodes.c.kind == kind, agent_nodes.c.node_id == node_id)
        stmt = stmt.values(status=NodeStatus.OFFLINE.value)
        await self.db.unit(lambda conn: conn.execute(stmt))

    async def mark_stale_offline(
        self,
        *,
        now: datetime,
        silent_for: timedelta,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] = (),
    ) -> list[AgentNode]:
        c = agent_nodes.c
        conditions = [c.status == NodeStatus.ONLINE.value, c.last_seen_at < now - silent_for]
        if kinds is not None:
            conditions.append(c.kind.in_(kinds))
        if exclude_kinds:
            conditions.append(c.kind.not_in(exclude_kinds))
        stmt = (
            agent_nodes.update()
            .where(*conditions)
            .values(status=NodeStatus.OFFLINE.value)
            .returning(*agent_nodes.c)
        )
        return await self.db.unit(lambda conn: [row_to_node(r) for r in conn.execute(stmt)])

    async def counts(self) -> dict[tuple[str, str], int]:
        c = agent_nodes.c
        query = sa.select(c.kind, c.status, sa.func.count()).group_by(c.kind, c.status)
        async with self.db.read() as conn:
            return {(kind, status): n for kind, status, n in (await conn.execute(query)).all()}

    async def all_nodes(self) -> list[AgentNode]:
        query = sa.select(agent_nodes).order_by(agent_nodes.c.kind, agent_nodes.c.node_id)
        async with self.db.read() as conn:
            return [row_to_node(r) for r in await conn.execute(query)]

    async def set_disabled(
        self, kind: str, node_id: str, *, by: str | None, now: datetime
    ) -> AgentNode | None:
        """Disables (by an operator) or, with `by=None`, enables the node; None when there is no such node."""
        stmt = (
            agent_nodes.update()
            .where(agent_nodes.c.kind == kind, agent_nodes.c.node_id == node_id)
            .values(disabled_at=now if by is not None else None, disabled_by=by)
            .returning(*agent_nodes.c)
        )
        async with self.db.write() as conn:
            row = (await conn.execute(stmt)).first()
        return row_to_node(row) if row else None
