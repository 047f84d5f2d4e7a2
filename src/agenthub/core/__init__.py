"""The engine: jobs with fenced leases, retries, agent presence, events. Pure Python, no frameworks."""

from agenthub.core.clock import Clock, ManualClock, SystemClock
from agenthub.core.engine import Engine
from agenthub.core.errors import (
    EngineError,
    InvalidTransition,
    JobNotFound,
    LeaseMismatch,
)
from agenthub.core.jobs import Job, JobFilter, JobStatus, KindPolicy, LeaseRef, NewJob

__all__ = [
    "Clock",
    "Engine",
    "EngineError",
    "InvalidTransition",
    "Job",
    "JobFilter",
    "JobNotFound",
    "JobStatus",
    "KindPolicy",
    "LeaseMismatch",
    "LeaseRef",
    "ManualClock",
    "NewJob",
    "SystemClock",
]
