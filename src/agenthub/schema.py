"""The whole schema: the engine's tables and migrations, and those of every registered protocol."""

from __future__ import annotations

from agenthub.protocols.registry import available
from agenthub.storage.migrate import ENGINE_VERSIONS, Schema
from agenthub.storage.tables import metadata


def project_schema() -> Schema:
    specs = available().values()
    for spec in specs:
        for table in spec.tables:  # every protocol's tables live on the shared MetaData
            assert table.metadata is metadata, (
                f"{spec.name}: table {table.name} is not on the shared MetaData"
            )
    return Schema(
        metadata=metadata, version_locations=(ENGINE_VERSIONS, *(spec.migrations for spec in specs))
    )
