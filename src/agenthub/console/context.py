"""Request dependencies: the console service and the logged-in operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agenthub.console.service import ConsoleService
from agenthub.console.sessions import COOKIE, Operator


async def console_of(request: Request) -> ConsoleService:
    service: ConsoleService = request.app.state.console
    return service


Console = Annotated[ConsoleService, Depends(console_of)]


def operator_of(request: Request, console: ConsoleService) -> Operator:
    """The operator whose session cookie the request carries; raises NotLoggedIn without a valid one."""
    return console.sessions.check(request.cookies.get(COOKIE), now=console.runtime.clock.now())


async def current_operator(request: Request, console: Console) -> Operator:
    # async, as every dependency here: FastAPI runs a plain `def` one in its thread pool.
    return operator_of(request, console)


CurrentOperator = Annotated[Operator, Depends(current_operator)]
