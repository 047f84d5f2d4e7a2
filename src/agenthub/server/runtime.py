"""The runtime every protocol shares: settings, database, engine, bus, clock, the signing secret, and the
state each running protocol built from its spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agenthub.bus import Bus
from agenthub.core.clock import Clock
from agenthub.core.engine import Engine
from agenthub.server.metrics import Metrics
from agenthub.server.settings import Settings
from agenthub.storage import Database


class ConfigurationError(RuntimeError):
    """The settings do not allow a safe start."""


class ProtocolStates:
    """The state of each running protocol, by name. Typed access goes through `ProtocolSpec.state_of`,
    which knows the state's type; nothing else reads this directly."""

    def __init__(self) -> None:
        self._states: dict[str, Any] = {}
        # The specs this runtime starts, set by the runner before any is built (the console reads them).
        self.running: tuple[Any, ...] = ()

    def put(self, name: str, state: Any) -> None:
        if name in self._states:
            raise RuntimeError(f"protocol {name!r} is already started on this runtime")
        self._states[name] = state

    def get(self, name: str) -> Any:
        try:
            return self._states[name]
        except KeyError:
            raise LookupError(f"protocol {name!r} is not started on this runtime") from None

    def pop(self, name: str) -> Any:
        return self._states.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._states


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    clock: Clock
    engine: Engine
    jwt_secret: str
    states: ProtocolStates = field(default_factory=ProtocolStates)
    metrics: Metrics = field(default_factory=Metrics)  # this runtime's own registry (see server/metrics.py)
