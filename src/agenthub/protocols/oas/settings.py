"""Oas2.0 settings (AGENTHUB_OAS_*, plus the super admin bootstrap variables the issue names)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from agenthub.protocols.oas.scan.settings import ScanSettings
from agenthub.server.settings import ProtocolSettings


class OasSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_OAS_", extra="ignore", populate_by_name=True)

    port: int = 7000
    agent_token_ttl_seconds: int = 24 * 3600
    operator_token_ttl_seconds: int = 12 * 3600
    max_poll_limit: int = 20
    # How long a replica trusts its cached view of an account (expiry, status, token version) when no
    # invalidation arrived on the bus; changes normally reach every replica at once through the bus.
    account_cache_seconds: float = 5.0
    # Refused logins allowed per client address per window, on all login endpoints together (429 beyond).
    login_failures_per_window: int = 10
    login_window_seconds: float = 60.0
    max_body_bytes: int = 8 * 1024 * 1024
    max_logs_per_request: int = 1000
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 10.0
    miao_base_url: str = "https://miaotixing.com"
    miao_timeout_seconds: float = 10.0
    miao_min_interval_seconds: float = 15.0
    super_username: str | None = Field(
        default=None, validation_alias=AliasChoices("AGENTHUB_SUPER_USERNAME", "AGENTHUB_OAS_SUPER_USERNAME")
    )
    super_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AGENTHUB_SUPER_PASSWORD", "AGENTHUB_OAS_SUPER_PASSWORD")
    )
    scan: ScanSettings = Field(default_factory=ScanSettings)  # AGENTHUB_OAS_SCAN_*
