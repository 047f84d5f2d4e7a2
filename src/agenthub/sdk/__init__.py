"""Agent-side clients, one subpackage per protocol: what an agent author imports."""
