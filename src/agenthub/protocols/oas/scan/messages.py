"""What the user's WebSocket receives: `{type, phase?, screenshot?, choice_type?, login_id?, message?,
position?}`, published on the bus per user so that any replica holding the user's connection delivers it."""

from __future__ import annotations

from typing import Any

from agenthub.protocols.oas.scan.records import CHOICE_OF_PHASE

PHASE_CHANGE = "phase_change"
NEED_CHOICE = "need_choice"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"


def user_channel(user_id: int) -> str:
    return f"oas.scan.user.{user_id}"


def control_channel(user_id: int) -> str:
    """Connection bookkeeping between replicas: a new connection tells the older ones to close."""
    return f"oas.scan.ws.{user_id}"


def message(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, **{k: v for k, v in fields.items() if v is not None}}


def for_phase(phase: str, *, screenshot: str | None = None, message_: str | None = None) -> dict[str, Any]:
    choice_type = CHOICE_OF_PHASE.get(phase)
    if choice_type is not None:
        return message(NEED_CHOICE, phase=phase, choice_type=choice_type, screenshot=screenshot)
    return message(PHASE_CHANGE, phase=phase, screenshot=screenshot, message=message_)
