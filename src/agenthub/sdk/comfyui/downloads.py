"""Model downloads: resumed from a `.part` file with an HTTP Range request, then size and sha256 checked."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    url: str
    sha256: str
    size: int
    dest: Path


class DownloadError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


async def is_present(model: ModelSpec) -> bool:
    if not model.dest.is_file() or model.dest.stat().st_size != model.size:
        return False
    return await asyncio.to_thread(_sha256, model.dest) == model.sha256.lower()


async def download(http: httpx.AsyncClient, model: ModelSpec) -> bool:
    """Makes `model.dest` the model's bytes; False when it was already there. Raises DownloadError."""
    if await is_present(model):
        return False
    model.dest.parent.mkdir(parents=True, exist_ok=True)
    part = model.dest.with_name(model.dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    if have > model.size:
        part.unlink()
        have = 0
    if have < model.size:
        await _fetch(http, model, part, have)
    if part.stat().st_size != model.size:
        raise DownloadError(
            "SIZE_MISMATCH", f"{model.name}: got {part.stat().st_size} bytes, want {model.size}"
        )
    if await asyncio.to_thread(_sha256, part) != model.sha256.lower():
        part.unlink()  # a corrupt partial must not be resumed
        raise DownloadError("CHECKSUM_MISMATCH", f"{model.name}: sha256 does not match")
    part.replace(model.dest)
    return True


async def _fetch(http: httpx.AsyncClient, model: ModelSpec, part: Path, have: int) -> None:
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        async with http.stream("GET", model.url, headers=headers) as response:
            if response.status_code not in (200, 206):
                raise DownloadError("DOWNLOAD_FAILED", f"{model.name}: HTTP {response.status_code}")
            # 200 to a Range request: the server does not resume, so start over.
            mode = "ab" if response.status_code == 206 else "wb"
            with part.open(mode) as f:
                async for block in response.aiter_bytes(CHUNK):
                    f.write(block)
    except httpx.HTTPError as exc:
        raise DownloadError("DOWNLOAD_FAILED", f"{model.name}: {type(exc).__name__}: {exc}") from exc
