"""Seed 003: the ComfyUI agent platform (scoped tokens, manifests, task events, heartbeats, alerts),
port 8099. Declared in `spec`."""
