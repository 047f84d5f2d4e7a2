"""The shipped agents from a plain install: a fresh virtualenv gets `pip install <project>` (no test extra),
then the devices agent connects to a real server and registers, and every SDK imports. A runtime dependency
missing from pyproject.toml (e.g. aiohttp, which python-socketio's client needs to connect at all) fails here.

pip reads the machine's own configuration (its package cache and registry mirror), so this runs offline where
those hold the project's requirements; it takes about 30-60 s, most of it pip."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import venv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agenthub.server.runtime import Runtime
from agenthub.server.settings import Settings
from tests.conftest import make_settings
from tests.support.servers import serving

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 85.0


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)  # one database is enough: this is about the install, not storage


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the project installed from a copy of its source, as a README install does."""
    root = tmp_path_factory.mktemp("plain")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir


def _run(env_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, cwd=env_dir)


def test_sdks_import_and_agent_commands_start(plain_venv: Path) -> None:
    python = str(plain_venv / "bin" / "python")
    imports = "import agenthub.sdk.devices, agenthub.sdk.oas, agenthub.sdk.comfyui, aiohttp"
    done = _run(plain_venv, python, "-c", imports)
    assert done.returncode == 0, done.stderr
    for protocol in ("devices", "oas", "comfyui"):
        done = _run(plain_venv, str(plain_venv / "bin" / "agenthub"), "agent", protocol, "--help")
        assert done.returncode == 0 and "usage" in done.stdout, done.stderr
    done = _run(plain_venv, python, "-c", "import pytest")
    assert done.returncode != 0, "the test extra leaked into the plain install"


@pytest.fixture
async def devices_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, "devices") as listeners:
        yield listeners.urls["devices"]


async def test_devices_agent_registers_from_a_plain_install(plain_venv: Path, devices_url: str) -> None:
    agent = await asyncio.create_subprocess_exec(
        str(plain_venv / "bin" / "agenthub"),
        *("agent", "devices", "--url", devices_url, "--device-id", "plain_1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    try:
        assert agent.stdout is not None
        while True:
            line = (await asyncio.wait_for(agent.stdout.readline(), 30)).decode()
            lines.append(line)
            if not line or "registered with" in line:
                break
        assert "plain_1: registered with" in lines[-1], "".join(lines)
    finally:
        agent.terminate()
        await agent.wait()
