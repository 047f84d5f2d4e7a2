"""Seed 000: the Oas2.0 cloud backend (agent jobs, scan jobs, operators), port 7000. Declared in `spec`."""
