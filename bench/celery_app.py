"""The Celery side of `bench.peers`: a no-op task on Redis, results on (the worker imports this module)."""

from __future__ import annotations

import os

from celery import Celery

REDIS_URL = os.environ.get("BENCH_CELERY_REDIS", "redis://127.0.0.1:6379/13")

app = Celery("agenthub_bench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_ignore_result=False,
    result_expires=600,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.noop")
def noop(i: int) -> int:
    return i
