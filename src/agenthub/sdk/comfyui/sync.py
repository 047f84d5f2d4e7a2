"""Brings a ComfyUI directory in line with a manifest: ComfyUI's commit, plugins, workflows, then models.

Every item is tried; the ones that could not be synced are returned by kind, as the seed's `failed_items`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agenthub.sdk.comfyui.downloads import DownloadError, ModelSpec, download
from agenthub.sdk.comfyui.gitsync import GitError, checkout

log = logging.getLogger(__name__)

# step, message, progress (0-100), extra payload
Report = Callable[[str, str, int, dict[str, Any]], Awaitable[None]]


@dataclass
class SyncResult:
    synced: list[str] = field(default_factory=list)
    failed_items: dict[str, list[str]] = field(
        default_factory=lambda: {"models": [], "plugins": [], "workflows": []}
    )
    error_code: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(self.failed_items.values()) and self.error_code is None

    def failed(self, kind: str, name: str, code: str, message: str) -> None:
        self.failed_items.setdefault(kind, []).append(name)
        self.error_code = self.error_code or code
        self.errors.append(message)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things go, under the ComfyUI directory."""

    root: Path

    def plugin(self, name: str) -> Path:
        return self.root / "custom_nodes" / name

    def workflow(self, name: str) -> Path:
        return self.root / "user" / "default" / "workflows" / name

    def model(self, item: dict[str, Any]) -> Path:
        relative = item.get("dest_path") or f"models/{item['name']}"
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"{item['name']}: dest_path leaves the ComfyUI directory")
        return path


class Syncer:
    def __init__(self, layout: Layout, http: httpx.AsyncClient, report: Report) -> None:
        self.layout = layout
        self.http = http
        self.report = report

    async def run(self, content: dict[str, Any]) -> SyncResult:
        result = SyncResult()
        plugins, workflows = content.get("plugins") or [], content.get("workflows") or []
        models = content.get("models") or []
        total = 1 + len(plugins) + len(workflows) + len(models)
        done = 0

        async def step(kind: str, message: str) -> None:
            nonlocal done
            done += 1
            await self.report(kind, message, min(99, done * 100 // total), {})

        await self._comfyui(content.get("comfyui") or {}, result)
        await step("comfyui", "comfyui checked")
        for kind, items in (("plugins", plugins), ("workflows", workflows)):
            for item in items:
                await self._git_item(kind, item, result)
                await step(kind, f"{kind[:-1]} {item['name']} checked")
        for item in models:
            await self._model(item, result)
            await step("models", f"model {item['name']} checked")
        for kind, items in (("plugins", plugins), ("workflows", workflows), ("models", models)):
            if items and not result.failed_items.get(kind):
                result.synced.append(kind)
        return result

    async def _comfyui(self, ref: dict[str, Any], result: SyncResult) -> None:
        if not ref.get("repo") or not ref.get("commit"):
            return
        try:
            await checkout(ref["repo"], ref["commit"], self.layout.root)
            result.synced.append("comfyui")
        except GitError as exc:
            result.failed("comfyui", "comfyui", GitError.code, str(exc))

    async def _git_item(self, kind: str, item: dict[str, Any], result: SyncResult) -> None:
        dest = self.layout.plugin(item["name"]) if kind == "plugins" else self.layout.workflow(item["name"])
        try:
            await checkout(item["repo"], item["commit"], dest)
        except GitError as exc:
            result.failed(kind, item["name"], GitError.code, str(exc))

    async def _model(self, item: dict[str, Any], result: SyncResult) -> None:
        try:
            spec = ModelSpec(
                item["name"], item["url"], item["sha256"], int(item["size"]), self.layout.model(item)
            )
            await download(self.http, spec)
        except DownloadError as exc:
            result.failed("models", item["name"], exc.code, str(exc))
        except (ValueError, KeyError, OSError) as exc:
            result.failed("models", str(item.get("name")), "DOWNLOAD_FAILED", str(exc))
