"""The `agenthub` command."""
