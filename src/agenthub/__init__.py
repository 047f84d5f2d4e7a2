"""agenthub: one server and SDK for fleets of remote agents."""

__version__ = "0.1.0"
