"""The ComfyUI agent (seed 003): keeps a GPU node's ComfyUI in line with the platform's manifests."""

from agenthub.sdk.comfyui.agent import AgentConfig, ComfyuiAgent
from agenthub.sdk.comfyui.client import PlatformClient, PlatformError
from agenthub.sdk.comfyui.downloads import DownloadError, ModelSpec, download
from agenthub.sdk.comfyui.gitsync import GitError, checkout
from agenthub.sdk.comfyui.sync import Layout, Syncer, SyncResult

__all__ = [
    "AgentConfig",
    "ComfyuiAgent",
    "DownloadError",
    "GitError",
    "Layout",
    "ModelSpec",
    "PlatformClient",
    "PlatformError",
    "SyncResult",
    "Syncer",
    "checkout",
    "download",
]
