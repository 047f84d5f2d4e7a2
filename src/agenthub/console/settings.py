"""Console settings (env prefix AGENTHUB_CONSOLE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from agenthub.server.settings import ProtocolSettings


class ConsoleSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_CONSOLE_", extra="ignore")

    port: int = Field(default=8000, ge=0, le=65535)
    # A session lasts this long after login; then the operator logs in again.
    session_minutes: float = Field(default=60.0, gt=0)
    # Set when the console is served over HTTPS (behind a proxy): the session cookie is then Secure.
    secure_cookie: bool = False
    # Queue depth per protocol is sampled this often for the sparklines.
    sample_seconds: float = Field(default=5.0, gt=0)
