"""This process's picture of the fleet, for dispatching: which devices are connected, when each was last heard
from, and which tasks each holds. Kept in memory so that a dispatch reads no device row and takes no lock.

The service loads it from the database (registrations, the engine's node rows, held tasks) now and then, and
between loads keeps it current with what this process does (registrations, heartbeats, disconnects, its own
leases) and with the engine's announcements from every replica (leases, and tasks that end or go back to the
queue). Held tasks are kept as sets of job ids, so an announcement seen twice, or one that confirms what this
process already recorded, changes nothing.

Choosing a device and counting the task against it happen with no await in between (`reserve`), so two
dispatches in one process never overfill a device; replicas can overshoot by a task at worst, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agenthub.core.jobs import Job
from agenthub.core.nodes import AgentNode
from agenthub.protocols.devices.repository import Registration


@dataclass(slots=True)
class Fleet:
    registrations: dict[str, Registration] = field(default_factory=dict)  # connected devices only
    nodes: dict[str, AgentNode] = field(default_factory=dict)
    held: dict[str, set[int]] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)  # chosen, lease not yet committed
    presence_loaded_at: float | None = None
    held_loaded_at: float | None = None
    # Connected devices by how many tasks they hold or have reserved, so choosing the least busy one looks
    # at a few devices, not at all of them.
    _by_load: dict[int, dict[str, None]] = field(default_factory=dict)
    _level: dict[str, int] = field(default_factory=dict)
    # While a load reads the database, what happens meanwhile is recorded and replayed on top of what it
    # read: every change here is idempotent, so one the load already saw is replayed harmlessly.
    _replay: list[Callable[[], None]] | None = None

    # -- loads from the database ------------------------------------------------------------------------

    def begin_load(self) -> None:
        self._replay = []

    def finish_load(
        self,
        at: float,
        registrations: Iterable[Registration],
        nodes: Iterable[AgentNode],
        held_jobs: Iterable[Job] | None = None,
    ) -> None:
        """Replaces the picture with what was read (held tasks only when given), then replays what
        happened while reading."""
        self.registrations = {r.device_id: r for r in registrations if r.sid is not None}
        self.nodes = {node.node_id: node for node in nodes}
        self.presence_loaded_at = at
        if held_jobs is not None:
            held: dict[str, set[int]] = {}
            for job in held_jobs:
                if job.leased_by is not None:
                    held.setdefault(job.leased_by, set()).add(job.id)
            self.held = held
            self.held_loaded_at = at
        self._by_load, self._level = {}, {}
        for device_id in self.registrations:
            self._reindex(device_id)
        replay, self._replay = self._replay or [], None
        for change in replay:
            change()

    def abort_load(self) -> None:
        self._replay = None

    def _record(self, change: Callable[[], None]) -> None:
        change()
        if self._replay is not None:
            self._replay.append(change)

    # -- what this process sees happen ------------------------------------------------------------------

    def seen(self, node: AgentNode, registration: Registration | None = None) -> None:
        """A registration (with its new connection) or a heartbeat."""

        def change() -> None:
            self.nodes[node.node_id] = node
            if registration is not None:
                self.registrations[registration.device_id] = registration
                self._reindex(registration.device_id)

        self._record(change)

    def gone(self, device_id: str) -> None:
        def change() -> None:
            self.registrations.pop(device_id, None)
            self._reindex(device_id)

        self._record(change)

    def leased(self, job_id: int, device_id: str) -> None:
        def change() -> None:
            self.held.setdefault(device_id, set()).add(job_id)
            self._reindex(device_id)

        self._record(change)

    def ended(self, job_id: int, device_id: str) -> None:
        """The device no longer holds the job (finished, failed, cancelled, timed out, released)."""

        def change() -> None:
            jobs = self.held.get(device_id)
            if jobs is not None:
                jobs.discard(job_id)
                if not jobs:
                    del self.held[device_id]
                self._reindex(device_id)

        self._record(change)

    # -- choosing ---------------------------------------------------------------------------------------

    def load(self, device_id: str) -> int:
        return len(self.held.get(device_id, ())) + self.reserved.get(device_id, 0)

    def online(self, device_id: str, is_online: Callable[[AgentNode], bool]) -> bool:
        node = self.nodes.get(device_id)
        return device_id in self.registrations and node is not None and is_online(node)

    def online_ids(self, is_online: Callable[[AgentNode], bool]) -> list[str]:
        return [d for d in self.registrations if self.online(d, is_online)]

    def least_busy(self, is_online: Callable[[AgentNode], bool], capacity: int) -> str | None:
        """An online device with the fewest tasks, below capacity (None: all full, or none online)."""
        for level in range(capacity):
            for device_id in self._by_load.get(level, ()):
                node = self.nodes.get(device_id)
                if node is not None and is_online(node):
                    return device_id
        return None

    def reserve(self, device_id: str) -> None:
        self.reserved[device_id] = self.reserved.get(device_id, 0) + 1
        self._reindex(device_id)

    def unreserve(self, device_id: str) -> None:
        left = self.reserved.get(device_id, 0) - 1
        if left > 0:
            self.reserved[device_id] = left
        else:
            self.reserved.pop(device_id, None)
        self._reindex(device_id)

    def _reindex(self, device_id: str) -> None:
        old = self._level.pop(device_id, None)
        if old is not None:
            bucket = self._by_load[old]
            del bucket[device_id]
            if not bucket:
                del self._by_load[old]
        if device_id in self.registrations:
            level = self.load(device_id)
            self._by_load.setdefault(level, {})[device_id] = None
            self._level[device_id] = level
