"""Request bodies of the scan endpoints (seed 000 sections 4.11-4.17; upstream-facts for the user's side)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agenthub.protocols.oas.schemas import FreeText, lease_or

NodeId = Field(min_length=3, max_length=128)
ScanLease = Annotated[int, lease_or(120)]
Phase = Literal[
    "waiting",
    "launching",
    "qrcode_ready",
    "choose_system",
    "choose_zone",
    "choose_role",
    "entering",
    "pulling_data",
    "done",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ScanPollIn(_Body):
    node_id: str = NodeId
    limit: int = Field(default=1, ge=1, le=1000)
    lease_seconds: ScanLease = 120


class ScanLeaseIn(_Body):
    """start and heartbeat."""

    node_id: str = NodeId
    lease_seconds: ScanLease = 120


class ScanPhaseIn(_Body):
    node_id: str = NodeId
    phase: Phase
    screenshot: str | None = None
    screenshot_key: str | None = Field(default=None, min_length=1, max_length=32)
    lease_seconds: ScanLease = 120


class ScanCompleteIn(_Body):
    node_id: str = NodeId
    message: FreeText | None = Field(default=None, max_length=4096)


class ScanFailIn(ScanCompleteIn):
    error_code: str | None = Field(default=None, max_length=64)


class ScanCreateIn(_Body):
    login_id: str | None = Field(default=None, max_length=64)


class ScanJobIn(_Body):
    """cancel and heartbeat."""

    scan_job_id: int


class ScanChoiceIn(ScanJobIn):
    choice_type: Literal["system", "zone", "role"]
    value: str = Field(min_length=1, max_length=256)
