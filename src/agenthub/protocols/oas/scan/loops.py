"""The scan's background loop: cancel scans whose user left. Leases and the 15-minute deadline are the
engine reaper's (the scan kind's policy ends exhausted leases as `expired`)."""

from __future__ import annotations

from agenthub.protocols.oas.scan.context import scan_service
from agenthub.server.loops import Loop
from agenthub.server.runtime import Runtime


def loops(runtime: Runtime) -> list[Loop]:
    scans = scan_service(runtime)
    return [Loop("oas-scan-users-gone", scans.settings.sweep_interval_seconds, scans.cancel_abandoned)]
