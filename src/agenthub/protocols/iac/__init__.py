"""The IaC agent platform (seed 004): task data, resumable log chunks, status, state versions, and the C&C
WebSocket that pushes Terraform tasks to agents. Declared once in `spec.py`."""
