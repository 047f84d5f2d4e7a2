"""The seed's response envelope: `{code, success, message, data, timestamp(ms)}`, `error_code` on errors."""

from __future__ import annotations

import time
from typing import Any

SUCCESS_MESSAGE = "操作成功"


def now_ms() -> int:
    return int(time.time() * 1000)


def ok(data: Any = None, message: str = SUCCESS_MESSAGE) -> dict[str, Any]:
    return {"code": "SUCCESS", "success": True, "message": message, "data": data, "timestamp": now_ms()}


def warning(data: Any, message: str) -> dict[str, Any]:
    return {"code": "WARNING", "success": True, "message": message, "data": data, "timestamp": now_ms()}


def error_body(message: str, error_code: str) -> dict[str, Any]:
    return {
        "code": "ERROR",
        "success": False,
        "message": message,
        "error_code": error_code,
        "data": None,
        "timestamp": now_ms(),
    }
