"""IaC platform settings (AGENTHUB_IAC_*)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from agenthub.server.settings import ProtocolSettings


class IacSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_IAC_", extra="ignore")

    port: int = 8080
    # Operator endpoints need `X-Admin-Key: <admin_key>`. Development generates one when unset (logged once).
    admin_key: SecretStr | None = None
    # The seed: a C&C connection silent this long is offline and closed, and its agent loses its tasks.
    heartbeat_timeout_seconds: float = 60.0
    watchdog_interval_seconds: float = 5.0
    # A pushed task's lease; heartbeats renew it. It only runs out when the replica holding the agent's
    # connection died (a live replica releases the tasks as soon as the connection closes or goes silent).
    lease_seconds: float = 180.0
    max_attempts: int = 3
    # The dispatcher runs when something frees an agent or adds a task; this is only its safety net.
    dispatch_fallback_seconds: float = 2.0
    # How long a verified application key is trusted without looking at the database again.
    credential_cache_seconds: float = 10.0
    max_body_bytes: int = 32 * 1024 * 1024  # state files can be large

    def production_problems(self) -> list[str]:
        if self.admin_key is None or not self.admin_key.get_secret_value():
            return ["AGENTHUB_IAC_ADMIN_KEY must be set when AGENTHUB_ENV=production"]
        return []
