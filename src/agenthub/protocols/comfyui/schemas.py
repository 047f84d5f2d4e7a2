"""Request bodies: the seed's, and the operator's.

Every body refuses numbers that are not finite, wherever they are (NaN, Infinity and 1e400 parse as floats
but are no JSON a database or a reader can keep: they used to be stored as null), and integers a 64-bit
column cannot hold where a field is one.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Path
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
AGENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
SHA256 = r"^[0-9a-fA-F]{64}$"
COMMIT = r"^[0-9a-fA-F]{7,40}$"

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# A path id: beyond 64 bits it names nothing that can exist, and is refused before any query.
Int64Path = Annotated[int, Path(ge=INT64_MIN, le=INT64_MAX)]


def non_finite_at(value: Any) -> str | None:
    """Where the first number that is not finite is in a parsed JSON value, or None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "body"
        if isinstance(item, dict):
            stack.extend((f"{where}.{key}" if where else str(key), v) for key, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return None


class Body(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _finite_numbers(cls, data: Any) -> Any:
        where = non_finite_at(data)
        if where is not None:
            raise ValueError(f"{where}: numbers must be finite (no NaN, Infinity or values beyond 1.8e308)")
        return data


class VerifyIn(Body):
    token: str | None = Field(default=None, max_length=8192)
    agent_id: str | None = Field(default=None, max_length=128)
    task_id: str | None = Field(default=None, max_length=128)
    nonce: str | None = Field(default=None, max_length=256)


class EventIn(Body):
    level: str = Field(default="info", min_length=1, max_length=16)
    # The original desktop agent says `stage` for the seed's `step`.
    step: str | None = Field(default=None, max_length=64, validation_alias=AliasChoices("step", "stage"))
    message: str = ""
    progress: int | None = Field(default=None, ge=0, le=100)
    payload: dict[str, Any] | None = None


class CompleteIn(Body):
    model_config = ConfigDict(extra="allow")

    summary: str | None = Field(default=None, max_length=4096)
    synced: list[str] = Field(default_factory=list)


class FailedIn(Body):
    model_config = ConfigDict(extra="allow")

    error_code: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=4096)
    failed_items: dict[str, list[str]] | None = None


class HeartbeatIn(Body):
    model_config = ConfigDict(extra="allow")

    status: str | None = Field(default=None, max_length=32)
    cpu: float | None = None
    mem: float | None = None
    disk_free_gb: float | None = None
    gpu: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    # The original desktop agent sends `agentVersion` (camelCase) and its state in `payload`.
    agent_version: str | None = Field(
        default=None, max_length=64, validation_alias=AliasChoices("agent_version", "agentVersion")
    )
    comfyui_version: str | None = Field(
        default=None, max_length=128, validation_alias=AliasChoices("comfyui_version", "comfyuiVersion")
    )
    payload: dict[str, Any] | None = None


class AlertIn(Body):
    type: str = Field(min_length=1, max_length=64)
    message: str = Field(default="", max_length=4096)
    payload: dict[str, Any] | None = None


# -- manifest content: what an agent syncs ------------------------------------------------------------


def _no_dots(value: str) -> str:
    if value in (".", "..") or ".." in value.split("/"):
        raise ValueError("must not be '.' or '..'")
    return value


class ComfyuiRef(Body):
    repo: str | None = Field(default=None, max_length=1024)
    commit: str | None = Field(default=None, pattern=COMMIT)


class ModelItem(Body):
    name: str = Field(pattern=SAFE_NAME)
    url: str = Field(min_length=1, max_length=2048)
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=0, le=INT64_MAX)
    # Relative to the agent's ComfyUI directory; default models/<name>.
    dest_path: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._/-]{1,512}$")

    _check_name = field_validator("name")(_no_dots)

    @field_validator("dest_path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError("must be a relative path inside the ComfyUI directory")
        return value


class GitItem(Body):
    name: str = Field(pattern=SAFE_NAME)
    repo: str = Field(min_length=1, max_length=1024)
    commit: str = Field(pattern=COMMIT)

    _check_name = field_validator("name")(_no_dots)


class PluginItem(GitItem):
    requirements: bool | str | None = None


class ManifestContent(Body):
    comfyui: ComfyuiRef = Field(default_factory=ComfyuiRef)
    models: list[ModelItem] = Field(default_factory=list)
    plugins: list[PluginItem] = Field(default_factory=list)
    workflows: list[GitItem] = Field(default_factory=list)


# -- operator -------------------------------------------------------------------------------------------


class AgentIn(Body):
    agent_id: str = Field(pattern=AGENT_ID)
    base_url: str = Field(pattern=r"^https?://.+", max_length=512)
    allowed: bool = True


class AgentPatch(Body):
    base_url: str = Field(pattern=r"^https?://.+", max_length=512)


class AgentTokenIn(Body):
    ttl_seconds: int | None = Field(default=None, ge=1)


class ManifestIn(Body):
    name: str = Field(pattern=SAFE_NAME)
    role: str = Field(default="full", min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    content: ManifestContent


class ManifestVersionIn(Body):
    role: str | None = Field(default=None, min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    content: ManifestContent


class TaskIn(Body):
    agent_id: str = Field(min_length=1, max_length=128)
    manifest_id: Int64
