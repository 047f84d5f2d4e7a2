"""The cloud scheduler: turns due tasks into `oas.task` jobs and moves next_time on.

One step (run every few seconds by the protocol's loop, or directly by tests):
- nothing between 00:00 and 05:59 Beijing time;
- for every active, unexpired user of an active manager, every enabled task of the user's pool that is due
  (next_time passed, or never set and the rule is not on_demand) and has no pending/leased/running job,
  creates one job with payload {"user_id", "source": "cloud_scheduler"} plus the task's payload;
- duiyi_jingcai runs only in a window the manager has answered, and carries the answer;
- each job's dedupe key names (user, task, slot), so replicas that run the same step together create one job:
  the slot is the next_time the job was due at ("first" if it never had one; duiyi: the day and window);
- next_time moves on by the rule when the job is created (so a job lost to its lease still moves on), then
  again by the rule after success, or by fail_delay after a failure (`reschedule_after_report`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.core.jobs import ACTIVE_STATUSES, Change, Job, JobQuery
from agenthub.protocols.oas import schedule_rules as rules
from agenthub.protocols.oas.duiyi_store import DuiyiAnswersStore
from agenthub.protocols.oas.records import User
from agenthub.protocols.oas.service import TASK_KIND, task_job
from agenthub.protocols.oas.task_config import merged, parse_next_time
from agenthub.protocols.oas.users_store import UsersStore
from agenthub.protocols.oas.wire import fmt_time
from agenthub.server.runtime import Runtime

log = logging.getLogger(__name__)

SOURCE = "cloud_scheduler"
DUIYI = "duiyi_jingcai"


class OasScheduler:
    def __init__(self, runtime: Runtime, users: UsersStore, duiyi: DuiyiAnswersStore) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.users = users
        self.duiyi = duiyi

    async def step(self) -> list[Job]:
        """Creates the jobs that are due now; returns the ones this call created."""
        now = self.runtime.clock.now()
        if rules.is_quiet(now):
            return []
        busy = await self.busy_tasks()
        answers: dict[int, dict[str, str]] = {}
        created: list[Job] = []
        for user in await self.users.schedulable_users(now=now):
            for task, settings in merged(user.user_type, user.task_config).items():
                if not settings.get("enabled") or (user.id, task) in busy:
                    continue
                job = await self._maybe_create(user, task, settings, now, answers)
                if job is not None:
                    created.append(job)
        return created

    async def busy_tasks(self) -> set[tuple[int, str]]:
        """(user, task) pairs that have a pending, leased or running job."""
        counts = await self.engine.count_by(
            JobQuery(kind=TASK_KIND, statuses=tuple(ACTIVE_STATUSES)), "subject_id", "type"
        )
        return {(subject_id, task) for (subject_id, task) in counts if subject_id is not None}

    async def _maybe_create(
        self,
        user: User,
        task: str,
        settings: dict[str, Any],
        now: datetime,
        answers: dict[int, dict[str, str]],
    ) -> Job | None:
        slot = due_slot(settings, now)
        if slot is None:
            return None
        extra = settings.get("payload")
        extra = extra if isinstance(extra, dict) else {}
        payload: dict[str, Any] = {**extra, "user_id": user.id, "source": SOURCE}
        if task == DUIYI:
            window = rules.duiyi_window(now)
            if window is None:
                return None
            day = rules.beijing_day(now).isoformat()
            if user.manager_id not in answers:
                answers[user.manager_id] = await self.duiyi.answers(manager_id=user.manager_id, day=day)
            answer = answers[user.manager_id].get(window)
            if answer is None:
                return None
            payload["answer"] = answer
            slot = f"{day}T{window}"
        job = await self.engine.submit(
            task_job(
                manager_id=user.manager_id,
                user_id=user.id,
                task_type=task,
                payload=payload,
                priority=int(settings.get("priority") or 0),
                max_attempts=3,
                scheduled_at=now,
                dedupe_key=f"oas:{user.id}:{task}:{slot}",
            )
        )
        if job is None:  # another replica created this slot's job first
            return None
        following = rules.next_time(str(settings["next_time_rule"]), now)
        await self.users.change_task_config(user_id=user.id, change=_set_next_time(task, following), now=now)
        log.info("scheduled %s for user %s (job %s, slot %s)", task, user.id, job.id, slot)
        return job

    async def reschedule_after_report(self, conn: AsyncConnection, change: Change) -> None:
        """After a scheduler job's success or failure, moves the task's next_time on. Runs inside the
        report's transaction (it is OasJobs' `in_report_tx`)."""
        job, event = change.job, change.event
        if job.kind != TASK_KIND or job.subject_id is None or event is None:
            return
        if job.payload.get("source") != SOURCE or event.type not in ("success", "fail"):
            return
        now = job.updated_at

        def change_config(user: User) -> dict[str, Any]:
            settings = merged(user.user_type, user.task_config).get(job.type)
            if settings is None:
                return user.task_config
            if event.type == "success":
                following = rules.next_time(str(settings["next_time_rule"]), now)
            else:
                following = rules.after_failure(now, int(settings["fail_delay"]))
            config: dict[str, Any] = _set_next_time(job.type, following)(user)
            return config

        await self.users.change_task_config(user_id=job.subject_id, change=change_config, now=now, conn=conn)


def due_slot(settings: dict[str, Any], now: datetime) -> str | None:
    """The slot a due task runs in, or None when it is not due.

    A slot must be the same for every replica that sees the task due, even one reading a slightly stale
    config: the next_time it was due at, or "first" for a task never scheduled (the scheduler always sets
    next_time afterwards, and a client writing null stores the write's time instead)."""
    next_at = parse_next_time(settings.get("next_time"))
    if next_at is None:
        if settings.get("next_time") or settings.get("next_time_rule") == "on_demand":
            return None
        return "first"
    return fmt_time(next_at) if next_at <= now else None


def _set_next_time(task: str, following: datetime | None) -> Any:
    def change(user: User) -> dict[str, Any]:
        config = {name: dict(value) for name, value in user.task_config.items() if isinstance(value, dict)}
        config[task] = {**config.get(task, {}), "next_time": fmt_time(following)}
        return config

    return change
