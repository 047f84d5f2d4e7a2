"""Request bodies: the seed's, and the operator's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
AGENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
SHA256 = r"^[0-9a-fA-F]{64}$"
COMMIT = r"^[0-9a-fA-F]{7,40}$"


class VerifyIn(BaseModel):
    token: str | None = Field(default=None, max_length=8192)
    agent_id: str | None = Field(default=None, max_length=128)
    task_id: str | None = Field(default=None, max_length=128)
    nonce: str | None = Field(default=None, max_length=256)


class EventIn(BaseModel):
    level: str = Field(default="info", min_length=1, max_length=16)
    step: str | None = Field(default=None, max_length=64)
    message: str = ""
    progress: int | None = Field(default=None, ge=0, le=100)
    payload: dict[str, Any] | None = None


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    summary: str | None = Field(default=None, max_length=4096)
    synced: list[str] = Field(default_factory=list)


class FailedIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    error_code: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=4096)
    failed_items: dict[str, list[str]] | None = None


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str | None = Field(default=None, max_length=32)
    cpu: float | None = None
    mem: float | None = None
    disk_free_gb: float | None = None
    gpu: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    agent_version: str | None = Field(default=None, max_length=64)
    comfyui_version: str | None = Field(default=None, max_length=128)


class AlertIn(BaseModel):
    type: str = Field(min_length=1, max_length=64)
    message: str = Field(default="", max_length=4096)
    payload: dict[str, Any] | None = None


# -- manifest content: what an agent syncs ------------------------------------------------------------


def _no_dots(value: str) -> str:
    if value in (".", "..") or ".." in value.split("/"):
        raise ValueError("must not be '.' or '..'")
    return value


class ComfyuiRef(BaseModel):
    repo: str | None = Field(default=None, max_length=1024)
    commit: str | None = Field(default=None, pattern=COMMIT)


class ModelItem(BaseModel):
    name: str = Field(pattern=SAFE_NAME)
    url: str = Field(min_length=1, max_length=2048)
    sha256: str = Field(pattern=SHA256)
    size: int = Field(ge=0)
    # Relative to the agent's ComfyUI directory; default models/<name>.
    dest_path: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._/-]{1,512}$")

    _check_name = field_validator("name")(_no_dots)

    @field_validator("dest_path")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError("must be a relative path inside the ComfyUI directory")
        return value


class GitItem(BaseModel):
    name: str = Field(pattern=SAFE_NAME)
    repo: str = Field(min_length=1, max_length=1024)
    commit: str = Field(pattern=COMMIT)

    _check_name = field_validator("name")(_no_dots)


class PluginItem(GitItem):
    requirements: bool | str | None = None


class ManifestContent(BaseModel):
    comfyui: ComfyuiRef = Field(default_factory=ComfyuiRef)
    models: list[ModelItem] = Field(default_factory=list)
    plugins: list[PluginItem] = Field(default_factory=list)
    workflows: list[GitItem] = Field(default_factory=list)


# -- operator -------------------------------------------------------------------------------------------


class AgentIn(BaseModel):
    agent_id: str = Field(pattern=AGENT_ID)
    base_url: str = Field(pattern=r"^https?://.+", max_length=512)
    allowed: bool = True


class AgentPatch(BaseModel):
    base_url: str = Field(pattern=r"^https?://.+", max_length=512)


class AgentTokenIn(BaseModel):
    ttl_seconds: int | None = Field(default=None, ge=1)


class ManifestIn(BaseModel):
    name: str = Field(pattern=SAFE_NAME)
    role: str = Field(default="full", min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    content: ManifestContent


class ManifestVersionIn(BaseModel):
    role: str | None = Field(default=None, min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=64)
    content: ManifestContent


class TaskIn(BaseModel):
    agent_id: str = Field(min_length=1, max_length=128)
    manifest_id: int
