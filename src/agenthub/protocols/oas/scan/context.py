"""The scan part of the Oas app's shared state: one per runtime, shared by routes, WebSocket and loops."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from agenthub.protocols.oas.repository import OasRepository
from agenthub.protocols.oas.scan.service import ScanService
from agenthub.protocols.oas.scan.settings import ScanSettings
from agenthub.server.runtime import Runtime

EXTRAS_KEY = "oas.scan"


def scan_service(runtime: Runtime, settings: ScanSettings | None = None) -> ScanService:
    """The runtime's scan service, made on first use (tests may make it first with their own settings)."""
    service = runtime.extras.get(EXTRAS_KEY)
    if service is None:
        service = ScanService(runtime, OasRepository(runtime.db), settings or ScanSettings())
        runtime.extras[EXTRAS_KEY] = service
    assert isinstance(service, ScanService)
    return service


def _from_request(request: Request) -> ScanService:
    return scan_service(request.app.state.runtime)


def from_websocket(websocket: WebSocket) -> ScanService:
    return scan_service(websocket.app.state.runtime)


Scans = Annotated[ScanService, Depends(_from_request)]
