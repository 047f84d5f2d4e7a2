"""The official socket.io-client from npm, run by Node.js, is a device as in the seed's quick start."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.integration.devices.conftest import eventually, task_status
from tests.support.services import missing, require_executable

NODE_DIR = Path(__file__).parent / "node"


def _install(npm: str) -> None:
    """npm install once into the ignored node_modules beside the script; reruns reuse it."""
    if (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        return
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--no-package-lock"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        missing(f"npm install socket.io-client ({done.stderr.strip()[-300:]})")


async def test_node_socketio_client_completes_a_task(devices_url: str, http: httpx.AsyncClient) -> None:
    node = require_executable("node", "Node.js")
    npm = shutil.which("npm") or require_executable("npm", "npm")
    await asyncio.to_thread(_install, npm)
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "device.js"),
        devices_url,
        "android_001",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def registered() -> bool:
            devices = (await http.get("/api/devices")).json()["devices"]
            return bool(devices) and devices[0]["status"] == "online"

        await eventually(registered, timeout=15)
        r = await http.post(
            "/api/dispatch-task", json={"task_type": "DELIST", "data": {"product_ids": ["123", "456"]}}
        )
        assert r.status_code == 200 and r.json()["message"] == "任务分发成功"
        task_id = r.json()["task_id"]
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (stdout.decode(), stderr.decode())
    steps = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    names = [s["step"] for s in steps]
    assert names[:2] == ["connected", "register_success"]
    assert steps[1]["data"]["message"] == "注册成功"
    assert "error" not in names
    new_task = next(s["data"] for s in steps if s["step"] == "new_task")
    assert new_task["task_id"] == task_id and new_task["type"] == "new_task"
    assert steps[-1] == {"step": "task_result_ack", "data": {"task_id": task_id, "status": "received"}}
    task = await task_status(http, task_id)
    assert task["status"] == "completed" and task["result"]["processed_count"] == 2
