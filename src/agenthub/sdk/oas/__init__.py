"""The Oas2.0 agent side (seed 000): a client for every agent endpoint, and pollers built on it."""

from agenthub.sdk.oas.client import OasAgentClient
from agenthub.sdk.oas.errors import Conflict, Forbidden, NotFound, OasApiError, Unauthorized
from agenthub.sdk.oas.models import AgentJob, ScanChoice, ScanJob
from agenthub.sdk.oas.poller import JobPoller, LocalAccount, TaskOutcome, TaskRun

__all__ = [
    "AgentJob",
    "Conflict",
    "Forbidden",
    "JobPoller",
    "LocalAccount",
    "NotFound",
    "OasAgentClient",
    "OasApiError",
    "ScanChoice",
    "ScanJob",
    "TaskOutcome",
    "TaskRun",
    "Unauthorized",
]
