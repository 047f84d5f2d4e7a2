"""Errors the engine raises. Protocols map them to their own wire formats.

EngineError
 ├── JobNotFound          the job does not exist (or is not visible to the caller)
 ├── LeaseMismatch        the caller does not hold the job's current lease
 ├── InvalidTransition    the job's state does not allow the operation
 ├── Conflict             a uniqueness rule was broken (duplicate key)
 ├── InvalidValue         a value no database column can hold (an integer beyond 64 bits, a NUL character)
 └── StorageUnavailable   the database could not be reached
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises."""


class JobNotFound(EngineError):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class LeaseMismatch(EngineError):
    def __init__(self, job_id: int, node_id: str) -> None:
        super().__init__(f"node {node_id!r} does not hold the lease of job {job_id}")
        self.job_id = job_id
        self.node_id = node_id


class InvalidTransition(EngineError):
    def __init__(self, job_id: int, status: str, operation: str) -> None:
        super().__init__(f"job {job_id} is {status}; cannot {operation}")
        self.job_id = job_id
        self.status = status
        self.operation = operation


class Conflict(EngineError):
    """A write broke a uniqueness rule."""


class InvalidValue(EngineError):
    """A value that cannot be stored the same way on every database: refused before it reaches one."""


class StorageUnavailable(EngineError):
    """The database could not be reached."""


# Every core error a protocol's error table must map (see agenthub.server.errors).
CORE_ERRORS: tuple[type[EngineError], ...] = (
    JobNotFound,
    LeaseMismatch,
    InvalidTransition,
    Conflict,
    InvalidValue,
    StorageUnavailable,
)
