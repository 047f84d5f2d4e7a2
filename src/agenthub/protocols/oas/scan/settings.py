"""Scan settings (AGENTHUB_OAS_SCAN_*); the defaults are the original's."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ScanSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_OAS_SCAN_", extra="ignore")

    total_timeout_seconds: int = 15 * 60
    max_attempts: int = 3
    default_lease_seconds: int = 120
    max_poll_limit: int = 5
    user_online_seconds: int = 30
    user_gone_seconds: int = 60
    cooldowns: tuple[int, ...] = (0, 180, 600, 1800, 3600)  # by the number of scans in the last 24 h
    sweep_interval_seconds: float = 1.0
    ws_ping_seconds: float = 30.0
