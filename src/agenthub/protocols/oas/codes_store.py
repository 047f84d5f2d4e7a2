"""Renewal keys (made by the super admin, redeemed by a manager to extend its account) and activation codes
(made by a manager, redeemed by a user to register or to extend its account).

Each is a CSPRNG secret shown once, at creation; only its SHA-256 is stored. A code is claimed with one
conditional UPDATE (unused, not revoked, not past `valid_until`), so two redemptions racing for one code
cannot both win; the change it buys and its audit record commit in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from agenthub.protocols.oas.audit import AuditStore, Entry
from agenthub.protocols.oas.operator_tables import activation_codes, renewal_keys
from agenthub.protocols.oas.tables import managers, users
from agenthub.protocols.oas.wire import fmt_time
from agenthub.storage.database import Database

Kind = Literal["renewal_key", "activation_code"]
TABLES = {"renewal_key": renewal_keys, "activation_code": activation_codes}
PREFIXES = {"renewal_key": "MK-", "activation_code": "AC-"}


class CodeRefused(Exception):
    """The code is unknown, used, revoked or past its validity (the message says which)."""


def new_code(kind: Kind) -> str:
    return PREFIXES[kind] + secrets.token_urlsafe(18)  # 144 random bits


def digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def hint(code: str) -> str:
    return code[:7] + "…"


def code_status(row: Any, now: datetime) -> str:
    if row["status"] == "unused" and row["valid_until"] is not None and row["valid_until"] <= now:
        return "expired"
    return str(row["status"])


def to_wire(kind: Kind, m: Any, now: datetime) -> dict[str, Any]:
    body = {
        "id": m["id"],
        "code": m["code_hint"],  # the secret itself is shown once, at creation
        "code_hint": m["code_hint"],
        "status": code_status(m, now),
        "duration_days": m["duration_days"],
        "used_at": fmt_time(m["used_at"]),
        "valid_until": fmt_time(m["valid_until"]),
        "created_at": fmt_time(m["created_at"]),
    }
    if kind == "renewal_key":
        body.update(manager_type=m["manager_type"], used_by_manager_id=m["used_by_manager_id"])
    else:
        body.update(
            manager_id=m["manager_id"], user_type=m["user_type"], used_by_user_id=m["used_by_user_id"]
        )
    return body


class CodesStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, kind: Kind, count: int, *, now: datetime, audit: Entry, valid_days: int | None, **values: Any
    ) -> dict[str, Any]:
        """`count` new codes, each audited, redeemable for `valid_days` (None: until used or revoked).

        The answer's `data`: the first code's row, and every row as `items`, each with the code in the
        clear (shown this once)."""
        table = TABLES[kind]
        values["valid_until"] = now + timedelta(days=valid_days) if valid_days else None
        items = []
        for _ in range(count):
            code = new_code(kind)
            stmt = table.insert().values(
                code_hash=digest(code), code_hint=hint(code), status="unused", created_at=now, **values
            )
            async with self.db.write() as conn:
                row = (await conn.execute(stmt.returning(*table.c))).one()
                entry = replace(audit, target_type=kind, target_id=str(row.id))
                await AuditStore.add(conn, entry, now=now)
            items.append({**to_wire(kind, row._mapping, now), "code": code})
        return {**items[0], "items": items, "total": len(items)}

    async def page(
        self,
        kind: Kind,
        *,
        now: datetime,
        limit: int,
        offset: int,
        manager_id: int | None = None,
        status: str | None = None,
        keyword: str | None = None,
        user_type: str | None = None,
    ) -> tuple[list[dict[str, Any]], int, dict[str, int]]:
        table = TABLES[kind]
        owned: list[Any] = [table.c.manager_id == manager_id] if manager_id is not None else []
        conditions = list(owned)
        if keyword:  # the whole code (matched by its digest) or a part of its hint
            conditions.append(
                sa.or_(
                    table.c.code_hash == digest(keyword), table.c.code_hint.contains(keyword, autoescape=True)
                )
            )
        if user_type and kind == "activation_code":
            conditions.append(table.c.user_type == user_type)
        live = sa.or_(table.c.valid_until.is_(None), table.c.valid_until > now)
        if status == "expired":
            conditions += [table.c.status == "unused", sa.not_(live)]
        elif status == "unused":
            conditions += [table.c.status == "unused", live]
        elif status:
            conditions.append(table.c.status == status)
        query = sa.select(table).where(*conditions)
        summary_q = sa.select(
            sa.func.count(),
            sa.func.count().filter(sa.and_(table.c.status == "unused", live)),
            sa.func.count().filter(table.c.status == "used"),
            sa.func.count().filter(table.c.status == "revoked"),
            sa.func.count().filter(table.c.status == "deleted"),
        ).where(*owned)
        async with self.db.read() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
            ).scalar_one()
            rows = await conn.execute(query.order_by(table.c.id.desc()).limit(limit).offset(offset))
            items = [to_wire(kind, r._mapping, now) for r in rows]
            await _add_users_of(conn, kind, items)
            all_n, unused, used, revoked, deleted = (await conn.execute(summary_q)).one()
        summary = {"total": all_n, "unused": unused, "used": used, "revoked": revoked, "deleted": deleted}
        return items, int(total), summary

    async def revoke(self, kind: Kind, ids: list[int], *, manager_id: int | None = None) -> list[int]:
        """Revokes the unused codes among `ids` (of `manager_id`'s, when given); the ids it revoked."""
        table = TABLES[kind]
        stmt = table.update().where(table.c.id.in_(ids), table.c.status == "unused").values(status="revoked")
        if manager_id is not None:
            stmt = stmt.where(table.c.manager_id == manager_id)
        async with self.db.write() as conn:
            return [r.id for r in await conn.execute(stmt.returning(table.c.id))]

    async def delete(self, kind: Kind, ids: list[int], *, manager_id: int | None = None) -> list[int]:
        """Marks the codes deleted (as the original does: they stay listed, and can never be redeemed)."""
        table = TABLES[kind]
        stmt = table.update().where(table.c.id.in_(ids), table.c.status != "deleted").values(status="deleted")
        if manager_id is not None:
            stmt = stmt.where(table.c.manager_id == manager_id)
        async with self.db.write() as conn:
            return [r.id for r in await conn.execute(stmt.returning(table.c.id))]

    async def owned_ids(self, kind: Kind, ids: list[int], *, manager_id: int | None) -> set[int]:
        table = TABLES[kind]
        query = sa.select(table.c.id).where(table.c.id.in_(ids))
        if manager_id is not None:
            query = query.where(table.c.manager_id == manager_id)
        async with self.db.read() as conn:
            return set((await conn.execute(query)).scalars())

    async def redeem(
        self,
        kind: Kind,
        code: str,
        *,
        now: datetime,
        audit: Entry,
        apply: Callable[[AsyncConnection, Any], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        """Claims the code and applies what it buys (`apply(conn, code_row)` -> audit details and answer),
        all in one transaction with the audit record."""
        table = TABLES[kind]
        claim = (
            table.update()
            .where(
                table.c.code_hash == digest(code),
                table.c.status == "unused",
                sa.or_(table.c.valid_until.is_(None), table.c.valid_until > now),
            )
            .values(status="used", used_at=now)
            .returning(*table.c)
        )
        async with self.db.write() as conn:
            row = (await conn.execute(claim)).first()
            if row is None:
                found = (
                    await conn.execute(sa.select(table).where(table.c.code_hash == digest(code)))
                ).first()
                raise CodeRefused(_refusal(kind, found, now))
            result = await apply(conn, row._mapping)
            used_by = {"renewal_key": "used_by_manager_id", "activation_code": "used_by_user_id"}[kind]
            await conn.execute(
                table.update().where(table.c.id == row.id).values({used_by: result["used_by"]})
            )
            entry = replace(
                audit,
                target_type=kind,
                target_id=str(row.id),
                detail={**(audit.detail or {}), **result.get("detail", {})},
            )
            await AuditStore.add(conn, entry, now=now)
        return result


async def _add_users_of(conn: AsyncConnection, kind: Kind, items: list[dict[str, Any]]) -> None:
    """Who used each code, by name, as the original's lists show it."""
    if kind == "renewal_key":
        ids = {i["used_by_manager_id"] for i in items if i["used_by_manager_id"] is not None}
        query = sa.select(managers.c.id, managers.c.username).where(managers.c.id.in_(ids))
        key, name = "used_by_manager_id", "used_by_manager_username"
    else:
        ids = {i["used_by_user_id"] for i in items if i["used_by_user_id"] is not None}
        query = sa.select(users.c.id, users.c.account_no).where(users.c.id.in_(ids))
        key, name = "used_by_user_id", "used_by_account_no"
    names = {row[0]: row[1] for row in await conn.execute(query)} if ids else {}
    for item in items:
        item[name] = names.get(item[key], "")


def _refusal(kind: Kind, row: Any, now: datetime) -> str:
    noun = "续费密钥" if kind == "renewal_key" else "激活码"
    if row is None:
        return f"{noun}无效"
    status = code_status(row._mapping, now)
    return {
        "used": f"{noun}已被使用",
        "revoked": f"{noun}已被撤销",
        "deleted": f"{noun}已被删除",
        "expired": f"{noun}已过期",
    }.get(status, f"{noun}无效")
