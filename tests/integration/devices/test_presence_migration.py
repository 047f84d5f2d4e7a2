"""Migration 0102 moves each device's presence onto the engine's node row before the registry's own clock
goes, so no device changes state across the upgrade; its downgrade brings the columns back."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from agenthub.schema import project_schema
from agenthub.storage import Database
from agenthub.storage.migrate import alembic_config, migrate
from agenthub.storage.tables import agent_nodes
from agenthub.storage.types import JsonType, UtcDateTime

OLD = sa.MetaData()
old_devices = sa.Table(  # devices_devices as 0101 made it
    "devices_devices",
    OLD,
    sa.Column("device_id", sa.String(128), primary_key=True),
    sa.Column("device_name", sa.String(255)),
    sa.Column("device_type", sa.String(64)),
    sa.Column("device_info", JsonType),
    sa.Column("status", sa.String(16)),
    sa.Column("sid", sa.String(64)),
    sa.Column("registered_at", UtcDateTime),
    sa.Column("last_heartbeat", UtcDateTime),
)
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 4, 3, 20, tzinfo=UTC)


async def test_presence_moves_to_the_node_rows(database_url: str) -> None:
    db = Database(database_url)
    schema = project_schema()
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(schema, c), "devices@-1"))
            row = {"device_name": "d", "device_type": "android", "device_info": {}, "registered_at": T0}
            await conn.execute(
                old_devices.insert(),
                [
                    {**row, "device_id": "known", "status": "online", "sid": "s1", "last_heartbeat": T1},
                    {**row, "device_id": "unknown", "status": "offline", "sid": None, "last_heartbeat": T0},
                ],
            )
            # The engine's old 120 s sweep had already marked "known" offline on its node row.
            await conn.execute(
                agent_nodes.insert().values(
                    kind="devices", node_id="known", status="offline", last_seen_at=T0, created_at=T0
                )
            )
        await migrate(db, schema)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(sa.select(agent_nodes).order_by(agent_nodes.c.node_id))).all()
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("devices_devices")}
            )
        nodes = {r.node_id: (r.kind, r.status, r.last_seen_at) for r in rows}
        assert nodes == {"known": ("devices", "online", T1), "unknown": ("devices", "offline", T0)}
        assert "status" not in columns and "last_heartbeat" not in columns

        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(schema, c), "devices@-1"))
            back = (await conn.execute(sa.select(old_devices).order_by(old_devices.c.device_id))).all()
        assert [(r.device_id, r.status, r.last_heartbeat) for r in back] == [
            ("known", "online", T1),
            ("unknown", "offline", T0),
        ]
    finally:
        await db.dispose()
