"""Distributed task system settings (AGENTHUB_DEVICES_*)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from agenthub.server.settings import ProtocolSettings


class DevicesSettings(ProtocolSettings):
    model_config = SettingsConfigDict(env_prefix="AGENTHUB_DEVICES_", extra="ignore")

    port: int = 1888
    max_concurrent_tasks: int = 3  # per device; a full device is "busy"
    offline_after_seconds: float = 300.0  # no heartbeat for this long -> offline, its tasks go elsewhere
    task_timeout_seconds: int = 300  # DELIST
    long_task_timeout_seconds: int = 600  # COLLECT and UPLOAD
    max_retries: int = 3  # a task runs at most 1 + max_retries times
    max_payload_bytes: int = 1_000_000  # HTTP bodies and Socket.IO messages
    dispatch_interval_seconds: float = 0.5  # the dispatcher also wakes at once on every relevant event
    sweep_interval_seconds: float = 5.0
    # How stale this process's picture of devices on other replicas may get before a dispatch reads it
    # again (what happens on this replica is in it at once).
    fleet_refresh_seconds: float = 2.0
    ping_interval_seconds: float = 25.0  # Socket.IO transport liveness (engine.io ping/pong)
    ping_timeout_seconds: float = 20.0
    cors_allowed_origins: str = "*"  # comma-separated; "*" lets any browser page connect a device
    # Off (empty) by default, as in the seed. When set, a device must give it to register (Socket.IO auth
    # `{"device_key": ...}` or `?device_key=` on the connection URL) and every HTTP call in `X-Device-Key`.
    device_key: str = ""
