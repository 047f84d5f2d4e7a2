"""Settings, the shared runtime, background loops, and running several protocol listeners in one process."""
