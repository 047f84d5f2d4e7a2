"""The one place that talks SQL for the engine: connection, dialects, migrations, job and node stores."""

from agenthub.storage.database import Database, normalize_url
from agenthub.storage.job_store import SqlJobStore
from agenthub.storage.node_store import SqlNodeStore

__all__ = ["Database", "SqlJobStore", "SqlNodeStore", "normalize_url"]
