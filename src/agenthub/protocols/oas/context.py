"""The Oas app's shared state, handed to every route as the `Oas` dependency."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from agenthub.core.jobs import Change
from agenthub.protocols.oas import task_config
from agenthub.protocols.oas.notify import MiaoNotifier
from agenthub.protocols.oas.ops_store import OpsStore
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.repository import OasRepository
from agenthub.protocols.oas.scan.service import ScanService
from agenthub.protocols.oas.scheduler import OasScheduler
from agenthub.protocols.oas.security import Principal
from agenthub.protocols.oas.service import OasJobs
from agenthub.protocols.oas.settings import OasSettings
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

ReportListener = Callable[[Change], Awaitable[None]]
PRESENCE_WRITE_EVERY = 5.0  # seconds; a busy node is not written on every call


class OasContext:
    def __init__(self, runtime: Runtime, settings: OasSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.repo = OasRepository(runtime.db)
        self.scans = ScanService(runtime, self.repo, settings.scan)
        self.jobs = OasJobs(runtime, self.repo)
        self.report_listeners: list[ReportListener] = []
        self.ops = OpsStore(runtime.db)
        self.scheduler = OasScheduler(runtime, self.jobs, self.ops)
        self.jobs.tx_hooks.append(self.scheduler.reschedule_after_report)
        self.notifier = MiaoNotifier(settings=self.settings, repo=self.repo, clock=runtime.clock)
        self.report_listeners.append(self.notifier.on_report)
        self._last_presence: dict[str, float] = {}

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def presence(self, agent: Principal) -> None:
        assert agent.node_id is not None and agent.manager_id is not None
        last = self._last_presence.get(agent.node_id, 0.0)
        if time.monotonic() - last < PRESENCE_WRITE_EVERY:
            return
        self._last_presence[agent.node_id] = time.monotonic()
        await self.jobs.node_seen(manager_id=agent.manager_id, node_id=agent.node_id)

    async def after_report(self, change: Change) -> None:
        """Runs what follows a complete/fail (e.g. notifications); never fails the agent's call."""
        if not change.changed:
            return
        for listener in self.report_listeners:
            try:
                await listener(change)
            except Exception:
                log.exception("report listener failed for job %s", change.job.id)

    async def full_config(self, user: User) -> dict[str, Any]:
        config = user.full_config()
        config["task_config"] = merged_task_config(user)
        return config


def merged_task_config(user: User) -> dict[str, Any]:
    """The user's task settings over the templates, for the tasks of the user's pool."""
    return task_config.merged(user.user_type, user.task_config)


def oas_of(request: Request) -> OasContext:
    context: OasContext = request.app.state.oas
    return context


Oas = Annotated[OasContext, Depends(oas_of)]
