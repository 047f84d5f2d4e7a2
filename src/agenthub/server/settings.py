"""Settings from the environment (prefix AGENTHUB_), one class per concern.

The server's own concerns are here; each protocol declares its settings class (a `ProtocolSettings`) in its
spec, and `Settings.protocol()` builds it from the environment on first use, so this module names no protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Env(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_", extra="ignore")


class ProtocolSettings(BaseSettings):
    """Base of every protocol's settings (env prefix `AGENTHUB_<NAME>_`): at least the port it listens on."""

    port: int = Field(ge=0, le=65535)

    def production_problems(self) -> list[str]:
        """What this protocol lacks to start in production (secrets with no usable default), checked
        before anything is migrated or served."""
        return []


P = TypeVar("P", bound=ProtocolSettings)
E = TypeVar("E", bound=BaseSettings)


class SettingsError(ValueError):
    """An AGENTHUB_* variable has a value its setting cannot take; the message names the variable."""


def from_env(cls: type[E]) -> E:
    """The settings class read from the environment; a bad value is one readable line, not a traceback."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        problems = []
        for error in exc.errors():
            name = prefix + "_".join(str(part) for part in error.get("loc", ())).upper()
            problems.append(f"{name}={error.get('input')!r}: {error.get('msg')}")
        raise SettingsError("; ".join(problems)) from None


class ServerSettings(_Env):
    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    protocols: str = Field(default="all", description="comma-separated protocol names, or 'all'")
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field(default="text", description="log lines as text or JSON")

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
    # PostgreSQL connections per replica, opened at start (as many again may overflow under a burst, but an
    # overflow connection is closed when it is given back: a pool smaller than the requests usually in
    # flight reconnects all the time, measured ~0.3 ms of CPU per job at 16 agents with 10).
    db_pool_size: int = Field(default=20, ge=1)


class AuthSettings(_Env):
    # Without it, development mode generates one and keeps it in the database (shared by replicas).
    jwt_secret: SecretStr | None = None


class BackoffSettings(BaseModel):
    base_seconds: float = Field(default=2.0, ge=0)
    factor: float = Field(default=2.0, ge=1)
    max_seconds: float = Field(default=300.0, ge=0)
    jitter: float = Field(default=0.2, ge=0, le=1)


class EngineSettings(_Env):
    reaper_interval_seconds: float = 1.0
    presence_interval_seconds: float = 5.0
    node_silence_seconds: float = 120.0  # the default presence window; a protocol may set its own per kind
    # Retry backoff after a failed or lost attempt: base * factor^(attempt-1), capped, +-jitter share.
    retry_base_seconds: float = Field(default=2.0, ge=0)
    retry_factor: float = Field(default=2.0, ge=1)
    retry_max_seconds: float = Field(default=300.0, ge=0)
    retry_jitter: float = Field(default=0.2, ge=0, le=1)
    # Per kind, as JSON: AGENTHUB_RETRY_BACKOFF='{"oas.task": {"base_seconds": 10, "max_seconds": 600}}'
    retry_backoff: dict[str, BackoffSettings] = Field(default_factory=dict)


class Settings:
    """Every concern's settings together; each part reads its own AGENTHUB_* variables."""

    def __init__(
        self,
        *,
        server: ServerSettings | None = None,
        storage: StorageSettings | None = None,
        auth: AuthSettings | None = None,
        engine: EngineSettings | None = None,
        protocols: Mapping[str, ProtocolSettings] | None = None,
    ) -> None:
        self.server = server or from_env(ServerSettings)
        self.storage = storage or from_env(StorageSettings)
        self.auth = auth or from_env(AuthSettings)
        self.engine = engine or from_env(EngineSettings)
        self.protocols: dict[str, ProtocolSettings] = dict(protocols or {})

    def protocol(self, name: str, cls: type[P]) -> P:
        """The named protocol's settings: as given to the constructor, or read from the environment."""
        value = self.protocols.get(name)
        if value is None:
            value = self.protocols[name] = from_env(cls)
        if not isinstance(value, cls):
            raise TypeError(
                f"settings of protocol {name!r} are a {type(value).__name__}, not a {cls.__name__}"
            )
        return value

    @property
    def is_production(self) -> bool:
        return self.server.env == "production"

    def production_problems(self, protocols: Mapping[str, type[ProtocolSettings]]) -> list[str]:
        """Every required secret that is missing in production, for the given protocols."""
        problems = []
        if self.auth.jwt_secret is None or not self.auth.jwt_secret.get_secret_value():
            problems.append("AGENTHUB_JWT_SECRET must be set when AGENTHUB_ENV=production")
        for name, cls in protocols.items():
            problems += self.protocol(name, cls).production_problems()
        return problems
