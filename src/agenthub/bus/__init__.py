"""Live events between the engine and connected clients: in-process, or over Redis between replicas."""

from agenthub.bus.base import Bus, Subscription
from agenthub.bus.memory import MemoryBus
from agenthub.bus.redis import RedisBus

__all__ = ["Bus", "MemoryBus", "RedisBus", "Subscription"]
