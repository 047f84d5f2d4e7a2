"""The protocols this build knows, by name, in start order."""

from __future__ import annotations

from agenthub.server.protocol import ProtocolSpec


def available() -> dict[str, ProtocolSpec]:
    from agenthub.protocols import comfyui, devices, oas

    specs = [oas.spec(), devices.spec(), comfyui.spec()]
    return {spec.name: spec for spec in specs}
