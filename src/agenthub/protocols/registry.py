"""The protocols this build knows, in start order: the only list of them. Settings, the CLI, the schema and
the migrations all read it. Adding a protocol is its package and one line here."""

from __future__ import annotations

from typing import Any

from agenthub.console.spec import SPEC as CONSOLE
from agenthub.protocols.comfyui.spec import SPEC as COMFYUI
from agenthub.protocols.devices.spec import SPEC as DEVICES
from agenthub.protocols.iac.spec import SPEC as IAC
from agenthub.protocols.maicraft.spec import SPEC as MAICRAFT
from agenthub.protocols.oas.spec import SPEC as OAS
from agenthub.server.protocol import ProtocolSpec

PROTOCOLS: tuple[ProtocolSpec[Any, Any], ...] = (OAS, DEVICES, MAICRAFT, COMFYUI, IAC, CONSOLE)


def available() -> dict[str, ProtocolSpec[Any, Any]]:
    return {spec.name: spec for spec in PROTOCOLS}
