"""ComfyUI platform settings (AGENTHUB_COMFYUI_*, and AGENT_DEBUG_TOKENS named exactly as the seed does)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from agenthub.server.settings import ProtocolSettings


class ComfyuiSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_COMFYUI_", extra="ignore")

    port: int = 8099
    # `kid:secret,kid2:secret2`; the first pair signs, every pair verifies (rotation: add the new key in
    # front, remove the old one once its tokens have expired). Development generates one when unset.
    signing_keys: SecretStr | None = None
    # Operator endpoints need `X-Admin-Key: <admin_key>`. Development generates one when unset (logged once).
    admin_key: SecretStr | None = None
    # `token:agent_id,token2:agent_id2`: static agent-scope bearer tokens for debugging; development only.
    debug_tokens: str | None = Field(default=None, validation_alias="AGENT_DEBUG_TOKENS")
    task_ttl_seconds: int = 3600
    task_token_ttl_seconds: int = 600
    agent_token_ttl_seconds: int = 3600
    agent_token_max_ttl_seconds: int = 30 * 24 * 3600
    # An agent not heard from (heartbeat) for this long is offline in the operator's views.
    agent_silence_seconds: float = 120.0
    # The push loop looks for due tasks this often (and at once when a task is created or a push ends).
    push_interval_seconds: float = 2.0
    push_retry_seconds: float = 15.0
    # A push's total deadline for the agent to take the task (connect, send, and its first receipt or its
    # answer). An agent that took the task may keep the push open while it works, up to the task's expiry.
    push_timeout_seconds: float = 5.0
    # The platform's URL as agents reach it, for the `manifest_url` of a push; default: the URL the operator
    # created the task at.
    public_url: str | None = None
    max_body_bytes: int = 1024 * 1024
    max_event_message_chars: int = 4096
    protocol_doc: str | None = None  # path of the Markdown the docs endpoint serves; default docs/comfyui.md

    def production_problems(self) -> list[str]:
        problems = []
        if self.debug_tokens:
            problems.append("AGENT_DEBUG_TOKENS must not be set when AGENTHUB_ENV=production")
        for name, value in (("SIGNING_KEYS", self.signing_keys), ("ADMIN_KEY", self.admin_key)):
            if value is None or not value.get_secret_value():
                problems.append(f"AGENTHUB_COMFYUI_{name} must be set when AGENTHUB_ENV=production")
        return problems
