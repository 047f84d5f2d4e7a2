"""What a protocol tells the operator console about itself (`ProtocolSpec.console`): which node and job
kinds are its own, and three optional views only the protocol can give - a node's current load, a job's
logs, and protocol-specific reasons a job is still pending. Each receives the protocol's state (what its
spec's `build` returned) and reads through the protocol's own repositories; none writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from agenthub.core.jobs import Job
from agenthub.core.nodes import AgentNode

StateT = TypeVar("StateT")


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """A node's current load in words (e.g. "2/3 tasks", "GPU 41%"), with the figures behind it."""

    text: str
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a job's logs as the protocol keeps them (Oas logs, device progress, ComfyUI events)."""

    at: datetime | None
    level: str
    message: str
    data: dict[str, Any] | None = None


# nodes of the protocol's kinds -> load by node_id (nodes missing from the answer show no load)
DescribeLoad = Callable[[StateT, Sequence[AgentNode]], Awaitable[dict[str, NodeLoad]]]
JobLogs = Callable[[StateT, Job], Awaitable[list[LogLine]]]
# a pending job of one of the protocol's kinds -> reasons in words (empty: nothing protocol-specific)
PendingReasons = Callable[[StateT, Job], Awaitable[list[str]]]


@dataclass(frozen=True)  # no slots: a subscripted generic dataclass with slots cannot be called
class ConsoleHooks(Generic[StateT]):
    node_kinds: tuple[str, ...]
    job_kinds: tuple[str, ...]
    describe_load: DescribeLoad[StateT] | None = None
    job_logs: JobLogs[StateT] | None = None
    pending_reasons: PendingReasons[StateT] | None = None
