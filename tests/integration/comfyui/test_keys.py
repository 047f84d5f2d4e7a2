"""Signing keys: rotation across restarts, generated development keys, debug tokens only in development."""

from __future__ import annotations

import httpx
import jwt
import pytest

from agenthub.protocols.comfyui.spec import SPEC as COMFYUI
from agenthub.server.runtime import ConfigurationError, Runtime
from agenthub.server.settings import ServerSettings
from tests.integration.comfyui.conftest import ADMIN_KEY, comfyui_settings
from tests.support.servers import serving

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OLD = "k1:first-secret-" + "a" * 32
NEW = "k2:second-secret-" + "b" * 32
ADMIN = {"X-Admin-Key": ADMIN_KEY}


async def heartbeat(runtime: Runtime, token: str) -> httpx.Response:
    async with (
        serving(runtime, "comfyui") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["comfyui"]) as http,
    ):
        return await http.post(
            "/api/agent/agents/gpu-1/heartbeat", json={}, headers={"Authorization": f"Bearer {token}"}
        )


async def issue(runtime: Runtime) -> str:
    async with (
        serving(runtime, "comfyui") as listeners,
        httpx.AsyncClient(base_url=listeners.urls["comfyui"]) as http,
    ):
        await http.post(
            "/api/agent/operator/agents",
            json={"agent_id": "gpu-1", "base_url": "http://127.0.0.1:9"},
            headers=ADMIN,
        )
        r = await http.post("/api/agent/operator/agents/gpu-1/tokens", json={}, headers=ADMIN)
        assert r.status_code == 201, r.text
        token: str = r.json()["token"]
        return token


async def test_rotation_old_key_verifies_until_removed(runtime: Runtime) -> None:
    runtime.settings.protocols["comfyui"] = comfyui_settings(signing_keys=OLD)
    old_token = await issue(runtime)
    assert jwt.get_unverified_header(old_token)["kid"] == "k1"

    runtime.settings.protocols["comfyui"] = comfyui_settings(signing_keys=f"{NEW},{OLD}")
    assert (await heartbeat(runtime, old_token)).status_code == 200
    new_token = await issue(runtime)
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"

    runtime.settings.protocols["comfyui"] = comfyui_settings(signing_keys=NEW)
    r = await heartbeat(runtime, old_token)
    assert (r.status_code, r.json()["detail"]) == (401, "AGENT_TOKEN_INVALID")
    assert (await heartbeat(runtime, new_token)).status_code == 200


async def test_development_generates_and_keeps_a_key(runtime: Runtime) -> None:
    runtime.settings.protocols["comfyui"] = comfyui_settings(signing_keys=None)
    token = await issue(runtime)
    assert jwt.get_unverified_header(token)["kid"].startswith("dev-")
    assert (await heartbeat(runtime, token)).status_code == 200  # a restart reads the same key back


async def test_production_refuses_debug_tokens_and_missing_keys(runtime: Runtime) -> None:
    runtime.settings.server = ServerSettings(env="production", log_level="warning")
    runtime.settings.protocols["comfyui"] = comfyui_settings(debug_tokens="dbg:gpu-1")
    with pytest.raises(ConfigurationError, match="AGENT_DEBUG_TOKENS"):
        await COMFYUI.start(runtime)
    runtime.settings.protocols["comfyui"] = comfyui_settings(signing_keys=None)
    with pytest.raises(ConfigurationError, match="SIGNING_KEYS"):
        await COMFYUI.start(runtime)


async def test_debug_tokens_work_in_development_only(runtime: Runtime) -> None:
    from agenthub.protocols.comfyui.context import ComfyuiContext

    settings = comfyui_settings(debug_tokens="dbg:gpu-1")
    dev = ComfyuiContext(runtime, settings, keys={"k": "s"}, admin_key="a")
    assert dev.tokens.decode("dbg", now=runtime.clock.now()).agent_id == "gpu-1"
    runtime.settings.server = ServerSettings(env="production", log_level="warning")
    prod = ComfyuiContext(runtime, settings, keys={"k": "s"}, admin_key="a")
    assert prod.tokens.debug_tokens == {}
    await dev.close()
    await prod.close()
