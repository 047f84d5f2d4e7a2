"""The scan service, handed to the scan routes and WebSocket as a dependency (it lives in the Oas state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, WebSocket

from agenthub.protocols.oas.scan.service import ScanService


async def _from_request(request: Request) -> ScanService:
    scans: ScanService = request.app.state.oas.scans
    return scans


def from_websocket(websocket: WebSocket) -> ScanService:
    scans: ScanService = websocket.app.state.oas.scans
    return scans


Scans = Annotated[ScanService, Depends(_from_request)]
