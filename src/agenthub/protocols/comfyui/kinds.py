"""The engine kinds the platform uses: its tasks are jobs of `TASK_KIND`, its agents nodes of `NODE_KIND`."""

from __future__ import annotations

TASK_KIND = "comfyui.task"
NODE_KIND = "comfyui"
