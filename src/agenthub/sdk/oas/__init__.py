"""The Oas2.0 agent side (seed 000): a client for every agent endpoint, and pollers built on it."""

from agenthub.sdk.oas.client import OasAgentClient
from agenthub.sdk.oas.errors import Conflict, Forbidden, NotFound, OasApiError, Unauthorized
from agenthub.sdk.oas.models import AgentJob, ScanChoice, ScanJob
from agenthub.sdk.oas.poller import JobPoller, LocalAccount, TaskOutcome, TaskRun
from agenthub.sdk.oas.scan_poller import (
    ScanAborted,
    ScanOutcome,
    ScanPoller,
    ScanSteps,
    run_simulated_scan_agent,
)

__all__ = [
    "AgentJob",
    "Conflict",
    "Forbidden",
    "JobPoller",
    "LocalAccount",
    "NotFound",
    "OasAgentClient",
    "OasApiError",
    "ScanAborted",
    "ScanChoice",
    "ScanJob",
    "ScanOutcome",
    "ScanPoller",
    "ScanSteps",
    "TaskOutcome",
    "TaskRun",
    "Unauthorized",
    "run_simulated_scan_agent",
]
