"""Request bodies, and how they are read: the body is parsed here (not by FastAPI) so that every bad body -
invalid JSON, nesting too deep, NUL characters, lone surrogates, wrong types, numbers out of range - is a
400 `invalid request body: ...` on both dialects instead of a driver error later."""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agenthub.protocols.iac.errors import BadRequest, NotFound

MAX_DEPTH = 64
INT32 = 2**31 - 1
INT53 = 2**53  # JSON numbers any client can represent exactly
INT63 = 2**63 - 1

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# -- agent side ------------------------------------------------------------------------------------------


class LogChunkIn(Body):
    phase: str = Field(max_length=16)
    content: str
    offset: int = Field(default=0, ge=0, le=INT53)
    checksum: str | None = Field(default=None, max_length=128)


class StatusIn(Body):
    status: str = Field(max_length=32)
    stage: str | None = Field(default=None, max_length=32)
    error_message: str | None = Field(default=None, max_length=65536)
    changes_add: int | None = Field(default=None, ge=0, le=INT32)
    changes_change: int | None = Field(default=None, ge=0, le=INT32)
    changes_destroy: int | None = Field(default=None, ge=0, le=INT32)
    duration: int | None = Field(default=None, ge=0, le=INT32)
    context: dict[str, Any] | None = None


class StateIn(Body):
    content: str | dict[str, Any]
    checksum: str = Field(min_length=1, max_length=128)
    size: int = Field(ge=1, le=INT53)  # the original treats 0 as missing


# -- operator side ---------------------------------------------------------------------------------------


class ApplicationIn(Body):
    name: str = Field(min_length=1, max_length=200)


class AgentIn(Body):
    agent_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    application_id: int = Field(ge=1, le=INT63)
    name: str | None = Field(default=None, max_length=200)


class VariableIn(Body):
    key: str = Field(min_length=1, max_length=256)
    value: str = Field(max_length=65536)
    category: Literal["terraform", "env"]
    sensitive: bool = False


class WorkspaceIn(Body):
    workspace_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=200)
    application_id: int = Field(ge=1, le=INT63)
    terraform_version: str = Field(min_length=1, max_length=32)
    execution_mode: str = Field(default="agent", min_length=1, max_length=32)
    tf_code: dict[str, str]
    provider_config: dict[str, Any] | None = None
    system_variables: dict[str, Any] | None = None
    variables: list[VariableIn] = Field(default_factory=list, max_length=1000)


class TaskIn(Body):
    task_type: Literal["plan", "apply", "plan_and_apply", "drift_check"]
    context: dict[str, Any] | None = None


class RealtimeIn(Body):
    enabled: bool


# -- reading ------------------------------------------------------------------------------------------------


async def read_body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("invalid request body: not valid JSON") from None
    problem = _unsafe(data)
    if problem:
        raise BadRequest(f"invalid request body: {problem}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid request body: {_summary(exc)}") from None


def _unsafe(data: Any) -> str | None:
    """What the database would choke on, found without recursion (the nesting itself may be the problem)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            if "\x00" in value:
                return "NUL characters are not allowed"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "strings must be valid Unicode"
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT63:
            return "number out of range"
        elif isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ())) or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def task_id_of(raw: str) -> int:
    """The seed: a non-numeric task id is 400 `invalid task_id format`; one no job can have is unknown."""
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest("invalid task_id format")
    if len(raw) > 19 or int(raw) > INT63:
        raise NotFound("task not found")
    return int(raw)
