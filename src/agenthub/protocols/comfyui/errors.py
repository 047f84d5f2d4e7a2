"""What can go wrong on the ComfyUI platform, in its own words. Services, tokens and the request checks raise
these; `error_format` puts them on the wire with the seed's codes, so nothing here knows about HTTP.

ComfyuiError
 ├── TokenRequired          no token given
 ├── TokenInvalid           not a JWT, bad signature, unknown key
 ├── TokenExpired           past its `exp`
 ├── TokenPayloadInvalid    claims missing or of the wrong type
 ├── TokenPayloadMismatch   the verify body names another agent, task or nonce than the token
 ├── TokenScopeInvalid      an agent token where a task token is needed
 ├── AdminRequired          an operator call without the right admin key
 ├── AgentNotFound          no such agent
 ├── AgentNotAllowed        the agent is disabled, or the token is another agent's
 ├── AgentExists            an agent id registered twice
 ├── TaskNotFound           no such task
 ├── TaskForbidden          another agent's task, or not (or no longer) pushed to this agent
 ├── TaskExpired            the task's time is up
 ├── TaskFinished           the task already ended differently
 ├── ManifestNotFound       no such manifest
 ├── ManifestForbidden      the manifest is not the task's
 ├── ManifestVersionExists  a manifest name and version created twice
 ├── DocsNotFound           the protocol document cannot be read
 └── RequestInvalid         a request the schema let through but that means nothing (a readable message)
"""

from __future__ import annotations


class ComfyuiError(Exception):
    """Base of the platform's own errors."""


class TokenRequired(ComfyuiError):
    pass


class TokenInvalid(ComfyuiError):
    pass


class TokenExpired(ComfyuiError):
    pass


class TokenPayloadInvalid(ComfyuiError):
    pass


class TokenPayloadMismatch(ComfyuiError):
    pass


class TokenScopeInvalid(ComfyuiError):
    pass


class AdminRequired(ComfyuiError):
    pass


class AgentNotFound(ComfyuiError):
    pass


class AgentNotAllowed(ComfyuiError):
    pass


class AgentExists(ComfyuiError):
    pass


class TaskNotFound(ComfyuiError):
    pass


class TaskForbidden(ComfyuiError):
    pass


class TaskExpired(ComfyuiError):
    pass


class TaskFinished(ComfyuiError):
    pass


class ManifestNotFound(ComfyuiError):
    pass


class ManifestForbidden(ComfyuiError):
    pass


class ManifestVersionExists(ComfyuiError):
    pass


class DocsNotFound(ComfyuiError):
    pass


class RequestInvalid(ComfyuiError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
