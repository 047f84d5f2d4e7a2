"""The Oas state (built once by `spec._build`), handed to every route as the `Oas` dependency."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request

from agenthub.protocols.oas import task_config
from agenthub.protocols.oas.accounts import Accounts
from agenthub.protocols.oas.audit import AuditStore
from agenthub.protocols.oas.batch_store import BatchStore
from agenthub.protocols.oas.codes_store import CodesStore
from agenthub.protocols.oas.duiyi_store import DuiyiAnswersStore
from agenthub.protocols.oas.login_throttle import LoginThrottle
from agenthub.protocols.oas.managers_store import ManagersStore
from agenthub.protocols.oas.notify import MiaoNotifier
from agenthub.protocols.oas.operator_stats import OperatorStats
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.scan.service import ScanService
from agenthub.protocols.oas.scheduler import OasScheduler
from agenthub.protocols.oas.security import Agent
from agenthub.protocols.oas.service import OasJobs
from agenthub.protocols.oas.settings import OasSettings
from agenthub.protocols.oas.user_logs_store import UserLogsStore
from agenthub.protocols.oas.user_service import UserService
from agenthub.protocols.oas.users_store import UsersStore
from agenthub.server.runtime import Runtime

PRESENCE_WRITE_EVERY = 5.0  # seconds; a busy node is not written on every call


class OasContext:
    def __init__(self, runtime: Runtime, settings: OasSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.managers = ManagersStore(runtime.db)
        self.users = UsersStore(runtime.db)
        self.user_logs = UserLogsStore(runtime.db)
        self.audit = AuditStore(runtime.db)
        self.codes = CodesStore(runtime.db)
        self.stats = OperatorStats(runtime.db)
        self.batch = BatchStore(runtime.db)
        self.duiyi = DuiyiAnswersStore(runtime.db)
        self.accounts = Accounts(self.managers, self.users, runtime.bus, ttl=settings.account_cache_seconds)
        self.logins = LoginThrottle(
            clock=runtime.clock,
            limit=settings.login_failures_per_window,
            window=timedelta(seconds=settings.login_window_seconds),
        )
        self.user_service = UserService(self.users, self.accounts, clock=runtime.clock)
        self.scans = ScanService(runtime, self.users, settings.scan)
        self.scheduler = OasScheduler(runtime, self.users, self.duiyi)
        self.notifier = MiaoNotifier(settings=settings, users=self.users, clock=runtime.clock)
        self.jobs = OasJobs(
            runtime,
            self.users,
            in_report_tx=self.scheduler.reschedule_after_report,
            after_report=self.notifier.on_report,
        )
        self._last_presence: dict[str, float] = {}

    def now(self) -> datetime:
        return self.runtime.clock.now()

    async def presence(self, agent: Agent) -> None:
        last = self._last_presence.get(agent.node_id, 0.0)
        if time.monotonic() - last < PRESENCE_WRITE_EVERY:
            return
        self._last_presence[agent.node_id] = time.monotonic()
        await self.jobs.node_seen(manager_id=agent.manager_id, node_id=agent.node_id)

    async def full_config(self, user: User) -> dict[str, Any]:
        config = user.full_config()
        config["task_config"] = merged_task_config(user)
        return config


def merged_task_config(user: User) -> dict[str, Any]:
    """The user's task settings over the templates, for the tasks of the user's pool."""
    return task_config.merged(user.user_type, user.task_config)


async def oas_of(request: Request) -> OasContext:
    context: OasContext = request.app.state.oas
    return context


Oas = Annotated[OasContext, Depends(oas_of)]
