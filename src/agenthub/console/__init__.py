"""The operator console: every node and job of every protocol, live, on its own port (default 8000)."""
