"""Seed 001: the distributed task system (devices over Socket.IO, tasks dispatched over HTTP), port 1888.
Declared in `spec`."""
