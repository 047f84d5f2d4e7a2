"""Settings from the environment (prefix AGENTHUB_), one class per concern."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from agenthub.protocols.comfyui.settings import ComfyuiSettings
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.oas.settings import OasSettings

ALL_PROTOCOLS = ("oas", "devices", "maicraft", "comfyui", "iac")


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_", extra="ignore")


class ServerSettings(_Env):
    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    protocols: str = Field(default="all", description="comma-separated protocol names, or 'all'")
    log_level: str = "info"

    def selected_protocols(self, available: tuple[str, ...]) -> list[str]:
        if self.protocols.strip() in ("", "all"):
            return list(available)
        names = [name.strip() for name in self.protocols.split(",") if name.strip()]
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise ValueError(f"unknown protocols in AGENTHUB_PROTOCOLS: {', '.join(unknown)}")
        return names


class StorageSettings(_Env):
    database_url: str = "sqlite:///./agenthub.db"
    redis_url: str | None = None
    db_pool_size: int = 10


class AuthSettings(_Env):
    # Without it, development mode generates one and keeps it in the database (shared by replicas).
    jwt_secret: SecretStr | None = None


class EngineSettings(_Env):
    reaper_interval_seconds: float = 1.0
    presence_interval_seconds: float = 5.0
    node_silence_seconds: float = 120.0


class Settings:
    """Every concern's settings together; each part reads its own AGENTHUB_* variables."""

    def __init__(
        self,
        *,
        server: ServerSettings | None = None,
        storage: StorageSettings | None = None,
        auth: AuthSettings | None = None,
        engine: EngineSettings | None = None,
        oas: OasSettings | None = None,
        devices: DevicesSettings | None = None,
        comfyui: ComfyuiSettings | None = None,
    ) -> None:
        self.server = server or ServerSettings()
        self.storage = storage or StorageSettings()
        self.auth = auth or AuthSettings()
        self.engine = engine or EngineSettings()
        self.oas = oas or OasSettings()
        self.devices = devices or DevicesSettings()
        self.comfyui = comfyui or ComfyuiSettings()

    @property
    def is_production(self) -> bool:
        return self.server.env == "production"
