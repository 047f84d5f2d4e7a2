"""Scan values: the phases in their order, the choices each phase waits for, and the side row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCAN_KIND = "oas.scan"
SCAN_TYPE = "scan"

# Seed 000 section 7, "Phase 流转"; choose_role is optional.
PHASES = (
    "waiting",
    "launching",
    "qrcode_ready",
    "choose_system",
    "choose_zone",
    "choose_role",
    "entering",
    "pulling_data",
    "done",
)
CHOICE_OF_PHASE = {"choose_system": "system", "choose_zone": "zone", "choose_role": "role"}
CHOICE_TYPES = tuple(CHOICE_OF_PHASE.values())


def phase_index(phase: str) -> int:
    return PHASES.index(phase)


@dataclass(frozen=True, slots=True)
class ScanRow:
    job_id: int
    manager_id: int
    user_id: int
    login_id: str
    lease_epoch: int
    phase: str
    screenshots: dict[str, Any]
    choice_type: str | None
    choice_value: str | None
    user_seen_at: datetime
    error_message: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def has_choice(self) -> bool:
        return self.choice_value is not None
