"""Request dependencies: the console service and the logged-in operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agenthub.console.service import ConsoleService
from agenthub.console.sessions import COOKIE, Operator


def console_of(request: Request) -> ConsoleService:
    service: ConsoleService = request.app.state.console
    return service


Console = Annotated[ConsoleService, Depends(console_of)]


def current_operator(request: Request, console: Console) -> Operator:
    return console.sessions.check(request.cookies.get(COOKIE), now=console.runtime.clock.now())


CurrentOperator = Annotated[Operator, Depends(current_operator)]
