"""The audit log: every operator action (who, what, when, on what), read by the super admin.

One place records it: `install_audit` wraps the app, and every successful change made through an operator or
user route (`/super`, `/manager`, `/user/auth`, `/user/me`, `/bootstrap`; not the agents' nor the scan page's
traffic) becomes a row: the caller from its token, the route as the action, the path's id as the target.
Routes that know better say so through `note(request, ...)` (e.g. who registered, which code was made).
Using a code or a key is recorded inside the same transaction as the use (`AuditStore.add`), so a
redemption can never happen unrecorded; those routes mark the request `recorded`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agenthub.protocols.oas.operator_tables import audit_logs
from agenthub.protocols.oas.tables import managers, super_admins, users
from agenthub.protocols.oas.wire import fmt_time
from agenthub.storage.database import Database

log = logging.getLogger(__name__)

AUDITED_PREFIXES = (
    "/api/v1/super/",
    "/api/v1/manager/",
    "/api/v1/user/auth/",
    "/api/v1/user/me/",
    "/api/v1/bootstrap/",
)
READS = frozenset({"GET", "HEAD", "OPTIONS"})
# The original's names for the actions its audit page labels; other actions are named by their route.
ORIGINAL_ACTIONS = {
    "POST /super/manager-renewal-keys": "create_manager_renewal_key",
    "PATCH /super/manager-renewal-keys/{key_id}/status": "patch_manager_renewal_key_status",
    "POST /super/manager-renewal-keys/batch-revoke": "batch_revoke_renewal_keys",
    "DELETE /super/manager-renewal-keys/{key_id}": "delete_manager_renewal_key",
    "POST /super/manager-renewal-keys/batch-delete": "batch_delete_renewal_keys",
    "PATCH /super/managers/{manager_id}/lifecycle": "patch_manager_lifecycle",
    "PATCH /super/managers/{manager_id}/password": "reset_manager_password",
    "POST /super/managers/batch-lifecycle": "batch_manager_lifecycle",
    "POST /manager/auth/redeem-renewal-key": "redeem_manager_renewal_key",
}


def action_name(method: str, template: str) -> str:
    route = f"{method} {template}"
    return ORIGINAL_ACTIONS.get(route, route)


# The path parameter that names an action's target, and the kind of target it names.
TARGETS = {"user_id": "user", "manager_id": "manager", "key_id": "renewal_key", "code_id": "activation_code"}


@dataclass(frozen=True, slots=True)
class Entry:
    actor_type: str
    actor_id: int | None
    action: str
    target_type: str = ""
    target_id: str = ""
    detail: dict[str, Any] | None = None
    ip: str = ""


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    async def add(conn: AsyncConnection, entry: Entry, *, now: datetime) -> None:
        """Within the caller's transaction: the record commits (or not) with the change it describes."""
        await conn.execute(
            audit_logs.insert().values(
                actor_type=entry.actor_type,
                actor_id=entry.actor_id,
                action=entry.action[:128],
                target_type=entry.target_type,
                target_id=entry.target_id[:64],
                detail=entry.detail,
                ip=entry.ip[:64],
                created_at=now,
            )
        )

    async def record(self, entry: Entry, *, now: datetime) -> None:
        async with self.db.write() as conn:
            await self.add(conn, entry, now=now)

    async def logs(
        self,
        *,
        limit: int,
        offset: int,
        actor_type: str | None = None,
        action: str | None = None,
        keyword: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        conditions: list[Any] = []
        if actor_type:
            conditions.append(audit_logs.c.actor_type == actor_type)
        if action:
            conditions.append(audit_logs.c.action == action)
        if keyword:  # the actor's name
            conditions.append(
                sa.or_(
                    *(
                        sa.and_(
                            audit_logs.c.actor_type == kind,
                            audit_logs.c.actor_id.in_(
                                sa.select(table.c.id).where(column.contains(keyword, autoescape=True))
                            ),
                        )
                        for kind, table, column in _NAMES
                    )
                )
            )
        query = sa.select(audit_logs).where(*conditions)
        async with self.db.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
            ).scalar_one()
            rows = await conn.execute(query.order_by(audit_logs.c.id.desc()).limit(limit).offset(offset))
            items = [_to_wire(r._mapping) for r in rows]
            for kind, table, column in _NAMES:
                ids = {i["actor_id"] for i in items if i["actor_type"] == kind and i["actor_id"] is not None}
                if not ids:
                    continue
                names = {
                    r[0]: r[1]
                    for r in await conn.execute(sa.select(table.c.id, column).where(table.c.id.in_(ids)))
                }
                for item in items:
                    if item["actor_type"] == kind:
                        item["actor_name"] = names.get(item["actor_id"], "")
        return items, int(total)


# Where each kind of actor's name is.
_NAMES = (
    ("super", super_admins, super_admins.c.username),
    ("manager", managers, managers.c.username),
    ("user", users, users.c.account_no),
)


def _to_wire(m: Any) -> dict[str, Any]:
    return {
        "id": m["id"],
        "actor_type": m["actor_type"],
        "actor_id": m["actor_id"],
        "actor_name": "",
        "action": m["action"],
        "target_type": m["target_type"],
        "target_id": m["target_id"],
        "detail": m["detail"] or {},
        "ip": m["ip"],
        "created_at": fmt_time(m["created_at"]),
    }


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def note(request: Request, **fields: Any) -> None:
    """What a route knows about its action that the path and token do not say (see `Entry`)."""
    request.state.audit = {**getattr(request.state, "audit", {}), **fields}


def recorded(request: Request) -> None:
    """The route wrote its own audit record, in its own transaction."""
    request.state.audit_recorded = True


def entry_for(request: Request, status_code: int) -> Entry | None:
    path = request.url.path
    if request.method in READS or status_code >= 400 or not path.startswith(AUDITED_PREFIXES):
        return None
    state = request.state
    if getattr(state, "audit_recorded", False):
        return None
    principal = getattr(state, "principal", None)
    route = request.scope.get("route")
    template = getattr(route, "path", path).removeprefix("/api/v1")
    fields: dict[str, Any] = {
        "actor_type": principal.role if principal else "anonymous",
        "actor_id": principal.subject_id if principal else None,
        "action": action_name(request.method, template),
        "ip": client_ip(request),
    }
    for name, kind in TARGETS.items():
        if name in request.path_params:
            fields.update(target_type=kind, target_id=str(request.path_params[name]))
            break
    fields.update(getattr(state, "audit", {}))
    return Entry(**fields)


class AuditMiddleware:
    """Plain ASGI, so that everything else (the agents' hot path, reads, WebSockets) passes straight through;
    an audited change is recorded once its answer is decided, before its last byte goes out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in READS
            or not str(scope["path"]).startswith(AUDITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Recorded before the answer completes: a client that reads the log next finds the action.
                await self._record(scope, status)
            await send(message)

        await self.app(scope, receive, sending)

    @staticmethod
    async def _record(scope: Scope, status: int) -> None:
        request = Request(scope)  # the same scope the routes saw: their state, route and path parameters
        entry = entry_for(request, status)
        if entry is None:
            return
        oas = request.app.state.oas
        try:
            await oas.audit.record(entry, now=oas.now())
        except Exception:  # the change is made; a lost audit row is logged rather than turned into an error
            log.exception("could not record the audit entry %s", entry)


def install_audit(app: FastAPI) -> None:
    app.add_middleware(AuditMiddleware)
