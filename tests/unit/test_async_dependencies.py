"""Every FastAPI dependency of every route is `async def`: FastAPI runs a plain `def` dependency in its thread
pool, a thread hop per request that cost the agents' hot path measurably (issue "Throughput")."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

import agenthub


def routers() -> Iterator[tuple[str, APIRouter]]:
    for module_info in pkgutil.walk_packages(agenthub.__path__, "agenthub."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, APIRouter):
                yield f"{module_info.name}.{name}", value


def sync_calls(dependant: Any, seen: set[int]) -> Iterator[str]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and id(call) not in seen:
            seen.add(id(call))
            if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
                yield getattr(call, "__qualname__", repr(call))
        yield from sync_calls(sub, seen)


def test_no_route_depends_on_a_plain_function() -> None:
    found = list(routers())
    assert len(found) > 20  # the walk saw the protocols' routers
    offenders = {
        f"{where} {route.path}: {call}"
        for where, router in found
        for route in router.routes
        if isinstance(route, APIRoute)
        for call in sync_calls(route.dependant, set())
    }
    assert not offenders, sorted(offenders)
