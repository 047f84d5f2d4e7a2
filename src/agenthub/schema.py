"""Every table agenthub has: the engine's and each protocol's, on one MetaData (used by migrations)."""

from __future__ import annotations

import importlib

import sqlalchemy as sa

PROTOCOL_TABLE_MODULES = (
    "agenthub.protocols.oas.tables",
    "agenthub.protocols.oas.scan.tables",
    "agenthub.protocols.devices.tables",
    "agenthub.protocols.comfyui.tables",
)


def load_metadata() -> sa.MetaData:
    from agenthub.storage.tables import metadata

    for module in PROTOCOL_TABLE_MODULES:
        importlib.import_module(module)
    return metadata
