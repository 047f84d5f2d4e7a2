"""What a heartbeat reports: real CPU, memory and disk figures (psutil), and the GPU where nvidia-smi runs."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import psutil


async def gpu() -> dict[str, Any]:
    if shutil.which("nvidia-smi") is None:
        return {"available": False}
    try:
        process = await asyncio.create_subprocess_exec(
            "nvidia-smi",
            "--query-gpu=utilization.gpu,memory.used,memory.total",
            "--format=csv,noheader,nounits",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=5)
        util, used, total = (float(v) for v in out.decode().splitlines()[0].split(","))
    except (OSError, ValueError, IndexError, TimeoutError):
        return {"available": False}
    return {"available": True, "util": util, "mem_used_mb": used, "mem_total_mb": total}


async def collect(disk_path: Path) -> dict[str, Any]:
    """The seed's heartbeat figures: percentages, free disk in GB, and the same as 0-1 fractions."""
    cpu = psutil.cpu_percent(interval=None)
    mem = psutil.virtual_memory().percent
    disk = psutil.disk_usage(str(disk_path))
    gpu_info = await gpu()
    fractions = {"cpu": cpu / 100, "memory": mem / 100, "disk": disk.percent / 100}
    if gpu_info.get("available"):
        fractions["gpu"] = gpu_info["util"] / 100
    return {
        "cpu": round(cpu, 1),
        "mem": round(mem, 1),
        "disk_free_gb": round(disk.free / 1024**3, 2),
        "gpu": gpu_info,
        "metrics": {k: round(v, 4) for k, v in fractions.items()},
    }
