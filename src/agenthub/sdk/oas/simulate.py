"""Simulated task handlers: no game, just a wait and a configurable outcome, to watch the whole flow."""

from __future__ import annotations

import asyncio
import random

from agenthub.sdk.oas.poller import Handler, TaskOutcome, TaskRun


def simulated_handler(
    *, success_ratio: float = 1.0, duration: float = 1.0, seed: int | None = None
) -> Handler:
    """A handler that waits `duration` seconds and succeeds with probability `success_ratio`."""
    rng = random.Random(seed)

    async def handle(run: TaskRun) -> TaskOutcome:
        task = run.job.task_type
        answer = run.job.payload.get("answer")
        run.log(f"开始模拟任务 {task}" + (f"，竞猜答案 {answer}" if answer else ""))
        await asyncio.sleep(duration)
        if rng.random() >= success_ratio:
            run.log(f"模拟任务 {task} 失败", level="WARNING")
            return TaskOutcome(False, f"simulated failure: {task}", "LOCAL_BATCH_FAILED")
        run.log(f"模拟任务 {task} 完成")
        assets = {
            "level": 150,
            "stamina": rng.randint(0, 999),
            "gouyu": rng.randint(0, 5000),
            "lanpiao": rng.randint(0, 200),
            "gold": rng.randint(0, 10**6),
        }
        progress = {str(chapter): rng.random() < 0.7 for chapter in range(1, 4)}
        message = f"local batch done, account={run.account.id}, tasks=[{task}]"
        return TaskOutcome(True, message, assets=assets, explore_progress=progress)

    return handle
