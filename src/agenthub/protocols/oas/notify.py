"""WeChat notifications through Miao reminder (喵提醒) after a job's complete or fail (seed 4.5/4.6).

The agent's call never waits for it: the listener only starts a task. At most one message per code per
15 seconds; a failing or slow Miao service is logged and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from agenthub.core.clock import Clock
from agenthub.core.jobs import Change
from agenthub.protocols.oas.records import Recipient
from agenthub.protocols.oas.service import TASK_KIND
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.templates import TEMPLATES
from agenthub.protocols.oas.users_store import UsersStore

log = logging.getLogger(__name__)

CODE = re.compile(r"^[A-Za-z0-9]{1,64}$")
CODE_INVALID = "喵提醒码只能包含字母和数字，且不超过64个字符"
CODE_MISSING = "启用微信通知需要填写喵提醒码"


class NotifyConfigError(ValueError):
    pass


def validated_notify_config(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The notify_config after a write; enabling WeChat needs a valid code."""
    config = {**current, **{k: v for k, v in update.items() if v is not None}}
    code = str(config.get("wechat_miao_code") or "").strip()
    if code and not CODE.match(code):
        raise NotifyConfigError(CODE_INVALID)
    if config.get("wechat_enabled") and not code:
        raise NotifyConfigError(CODE_MISSING)
    config["wechat_enabled"] = bool(config.get("wechat_enabled"))
    config["wechat_miao_code"] = code
    return config


def message_text(*, login_id: str, role: str, task: str, success: bool, details: str) -> str:
    name = TEMPLATES[task].name if task in TEMPLATES else task
    return "\n".join(
        [
            f"账号: {login_id}",
            f"角色: {role or '-'}",
            f"任务: {name} ({task})",
            f"结果: {'成功 ✓' if success else '失败 ✗'}",
            f"详情: {details or '-'}",
        ]
    )


class MiaoNotifier:
    def __init__(self, *, settings: OasSettings, users: UsersStore, clock: Clock) -> None:
        self.base_url = settings.miao_base_url.rstrip("/")
        self.timeout = settings.miao_timeout_seconds
        self.min_interval = timedelta(seconds=settings.miao_min_interval_seconds)
        self.users = users
        self.clock = clock
        self._last_sent: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_report(self, change: Change, user: Recipient | None = None) -> None:
        """Runs after a report commits (OasJobs' `after_report`): starts the notification, returns at once."""
        event = change.event
        if change.job.kind != TASK_KIND or event is None or event.type not in ("success", "fail"):
            return
        if (
            user is not None
            and user.id == change.job.subject_id
            and not user.notify_config.get("wechat_enabled")
        ):
            return  # the user as the report left it wants no reminder: no task for nothing
        task = asyncio.create_task(self._notify(change, user), name=f"miao-job-{change.job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 5.0) -> None:
        """Waits for notifications under way (at shutdown, or in tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _notify(self, change: Change, user: Recipient | None) -> None:
        try:
            await self._send_for(change, user)
        except Exception:
            log.exception("could not notify for job %s", change.job.id)

    async def _send_for(self, change: Change, user: Recipient | None) -> None:
        job = change.job
        if job.subject_id is None:
            return
        if user is None or user.id != job.subject_id:  # the report wrote nothing on the user: read it
            found = await self.users.user(user_id=job.subject_id)
            user = found.recipient() if found is not None else None
        if user is None:
            return
        config = user.notify_config
        code = str(config.get("wechat_miao_code") or "")
        if not config.get("wechat_enabled") or not CODE.match(code) or not self._may_send(code):
            return
        result = job.result if isinstance(job.result, dict) else {}
        success = change.event is not None and change.event.type == "success"
        text = message_text(
            login_id=str(result.get("login_id") or user.login_id),
            role=user.username,
            task=job.type,
            success=success,
            details=job.message or job.error_code or "",
        )
        await self.send(code, text)

    def _may_send(self, code: str) -> bool:
        now = self.clock.now()
        last = self._last_sent.get(code)
        if last is not None and now - last < self.min_interval:
            return False
        self._last_sent[code] = now
        return True

    async def send(self, code: str, text: str) -> bool:
        """GET <base>/trigger?id=<code>&text=<text>&type=json; True when Miao answered code 0.

        The timeout is a total deadline: httpx's are per read, so a service that drips a byte now and then
        would otherwise hold the connection open for ever."""
        params = {"id": code, "text": text, "type": "json"}
        try:
            async with asyncio.timeout(self.timeout), httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(f"{self.base_url}/trigger", params=params)
                answer = response.json()
        except TimeoutError:
            log.warning("miao reminder for %s gave up after %g s", code, self.timeout)
            return False
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("miao reminder failed for %s: %s", code, exc)
            return False
        if not isinstance(answer, dict) or answer.get("code") != 0:
            log.warning("miao reminder refused for %s: %s", code, answer)
            return False
        return True
