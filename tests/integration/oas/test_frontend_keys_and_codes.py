"""Renewal keys (super admin -> managers) and activation codes (manager -> users), as the original frontend
drives them: made, listed, revoked, deleted, redeemed once; refusals for used, revoked, expired and other
managers' codes; secrets stored hashed; every use in the audit log; user logout voids the token."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from agenthub.protocols.oas.operator_tables import activation_codes, renewal_keys
from agenthub.server.runtime import Runtime
from tests.integration.oas.conftest import OasWorld, parse_time


async def _super(world: OasWorld) -> dict[str, str]:
    return {"Authorization": f"Bearer {await world.super_token()}"}


async def _new_key(world: OasWorld, **fields: Any) -> dict[str, Any]:
    r = await world.http.post(
        "/api/v1/super/manager-renewal-keys",
        json={"duration_days": 30, "manager_type": "all", **fields},
        headers=await _super(world),
    )
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    assert key["data"]["code"] == key["code"]  # both shapes
    return key


async def _register_manager(world: OasWorld, username: str = "selfmade") -> dict[str, str]:
    r = await world.http.post(
        "/api/v1/manager/auth/register", json={"username": username, "password": "secret123"}
    )
    assert r.status_code == 201, r.text
    login = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": username, "password": "secret123"}
    )
    assert login.status_code == 200 and login.json()["expired"] is True
    return {"Authorization": f"Bearer {login.json()['token']}"}


async def test_a_self_registered_manager_redeems_a_renewal_key_once(
    world: OasWorld, runtime: Runtime
) -> None:
    key = await _new_key(world)
    code = key["code"]
    assert code.startswith("MK-") and len(code) >= 20
    headers = await _register_manager(world)
    me = (await world.http.get("/api/v1/manager/auth/me", headers=headers)).json()
    assert me["expired"] is True and me["username"] == "selfmade"
    assert (await world.http.get("/api/v1/manager/users", headers=headers)).status_code == 403

    r = await world.http.post("/api/v1/manager/auth/redeem-renewal-key", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["expired"] is False
    assert parse_time(r.json()["expires_at"]) == world.clock.now() + timedelta(days=30)
    assert (await world.http.get("/api/v1/manager/users", headers=headers)).status_code == 200
    me = (await world.http.get("/api/v1/manager/auth/me", headers=headers)).json()
    assert me["expired"] is False and me["id"] == me["data"]["id"]

    again = await world.http.post(
        "/api/v1/manager/auth/redeem-renewal-key", json={"code": code}, headers=headers
    )
    assert (again.status_code, again.json()) == (400, {"detail": "续费密钥已被使用"})
    unknown = await world.http.post(
        "/api/v1/manager/auth/redeem-renewal-key", json={"code": "MK-not-a-real-key"}, headers=headers
    )
    assert (unknown.status_code, unknown.json()) == (400, {"detail": "续费密钥无效"})

    listed = (await world.http.get("/api/v1/super/manager-renewal-keys", headers=await _super(world))).json()
    assert listed["total"] == 1 and listed["summary"]["used"] == 1
    row = listed["items"][0]
    assert row["status"] == "used" and row["used_by_manager_id"] == me["id"]
    assert row["code"] != code and code.startswith(row["code"].rstrip("…"))  # only a hint after creation

    async with runtime.db.read() as conn:  # stored hashed: the code itself is nowhere in the table
        stored = (await conn.execute(sa.select(renewal_keys))).one()._mapping
    assert code not in {str(v) for v in stored.values()}

    logs = (await world.http.get("/api/v1/super/audit-logs", headers=await _super(world))).json()["items"]
    redeemed = [e for e in logs if e["action"] == "redeem_manager_renewal_key"]
    assert len(redeemed) == 1 and redeemed[0]["actor_type"] == "manager"
    assert redeemed[0]["target_type"] == "renewal_key" and redeemed[0]["target_id"] == str(row["id"])
    assert redeemed[0]["actor_name"] == "selfmade" and code not in str(redeemed[0])
    assert any(
        e["action"] == "create_manager_renewal_key" and e["detail"]["duration_days"] == 30 for e in logs
    )
    assert any(e["action"] == "POST /manager/auth/register" for e in logs)


async def test_revoked_and_expired_keys_are_refused_and_keys_are_managed(world: OasWorld) -> None:
    admin = await _super(world)
    headers = await _register_manager(world)
    revoked = await _new_key(world)
    expiring = await _new_key(world, valid_days=1)
    spare = await _new_key(world, count=2)
    assert len(spare["items"]) == 2

    r = await world.http.patch(
        f"/api/v1/super/manager-renewal-keys/{revoked['id']}/status",
        json={"status": "revoked"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = await world.http.post(
        "/api/v1/manager/auth/redeem-renewal-key", json={"code": revoked["code"]}, headers=headers
    )
    assert (r.status_code, r.json()) == (400, {"detail": "续费密钥已被撤销"})

    world.clock.advance(days=2)
    world._super = None  # operator tokens live 12 h: log in again
    admin = await _super(world)
    login = await world.http.post(
        "/api/v1/manager/auth/login", json={"username": "selfmade", "password": "secret123"}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    r = await world.http.post(
        "/api/v1/manager/auth/redeem-renewal-key", json={"code": expiring["code"]}, headers=headers
    )
    assert (r.status_code, r.json()) == (400, {"detail": "续费密钥已过期"})
    listed = (
        await world.http.get(
            "/api/v1/super/manager-renewal-keys", params={"status": "expired"}, headers=admin
        )
    ).json()
    assert [k["id"] for k in listed["items"]] == [expiring["id"]]

    ids = [k["id"] for k in spare["items"]]
    r = await world.http.post(
        "/api/v1/super/manager-renewal-keys/batch-revoke", json={"key_ids": ids}, headers=admin
    )
    assert r.status_code == 200 and sorted(r.json()["ids"]) == sorted(ids)
    r = await world.http.delete(f"/api/v1/super/manager-renewal-keys/{revoked['id']}", headers=admin)
    assert r.status_code == 200
    r = await world.http.delete(f"/api/v1/super/manager-renewal-keys/{revoked['id']}", headers=admin)
    assert r.status_code == 404
    r = await world.http.post(
        "/api/v1/super/manager-renewal-keys/batch-delete", json={"ids": ids}, headers=admin
    )
    assert r.json()["deleted"] == 2
    left = (await world.http.get("/api/v1/super/manager-renewal-keys", headers=admin)).json()
    # Deleted as the original deletes: still listed, marked, never redeemable.
    assert left["summary"]["deleted"] == 3 and left["summary"]["total"] == 4
    r = await world.http.post(
        "/api/v1/manager/auth/redeem-renewal-key", json={"code": spare["items"][0]["code"]}, headers=headers
    )
    assert (r.status_code, r.json()) == (400, {"detail": "续费密钥已被删除"})
    found = await world.http.get(
        "/api/v1/super/manager-renewal-keys", params={"keyword": expiring["code"]}, headers=admin
    )
    assert [k["id"] for k in found.json()["items"]] == [expiring["id"]]
    # Keys are the super admin's business alone.
    assert (await world.http.get("/api/v1/super/manager-renewal-keys", headers=headers)).status_code == 403


async def _new_codes(world: OasWorld, manager: dict[str, Any], **fields: Any) -> dict[str, Any]:
    r = await world.http.post(
        "/api/v1/manager/activation-codes",
        json={"duration_days": 30, "user_type": "daily", **fields},
        headers=manager["headers"],
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_activation_codes_register_and_renew_users_of_their_manager_only(
    world: OasWorld, runtime: Runtime
) -> None:
    a = await world.manager("mgr_a")
    b = await world.manager("mgr_b")
    a_codes = await _new_codes(world, a, count=3, user_type="duiyi")
    b_code = await _new_codes(world, b)
    first, second, third = a_codes["items"]
    assert first["code"].startswith("AC-")

    # B sees and touches only its own codes.
    b_list = (await world.http.get("/api/v1/manager/activation-codes", headers=b["headers"])).json()
    assert [c["id"] for c in b_list["items"]] == [b_code["id"]]
    r = await world.http.patch(
        f"/api/v1/manager/activation-codes/{first['id']}/status",
        json={"status": "revoked"},
        headers=b["headers"],
    )
    assert r.status_code == 404
    r = await world.http.post(
        "/api/v1/manager/activation-codes/batch-revoke",
        json={"code_ids": [b_code["id"], first["id"]]},
        headers=b["headers"],
    )
    assert r.status_code == 404
    assert (
        await world.http.delete(f"/api/v1/manager/activation-codes/{first['id']}", headers=b["headers"])
    ).status_code == 404
    b_list = (await world.http.get("/api/v1/manager/activation-codes", headers=b["headers"])).json()
    assert b_list["items"][0]["status"] == "unused"  # the refused batch changed nothing

    r = await world.http.post("/api/v1/user/auth/register-by-code", json={"code": first["code"]})
    assert r.status_code == 201, r.text
    registered = r.json()
    assert registered["user_type"] == "duiyi" and registered["manager_id"] == a["id"]
    assert parse_time(registered["expires_at"]) == world.clock.now() + timedelta(days=30)
    again = await world.http.post("/api/v1/user/auth/register-by-code", json={"code": first["code"]})
    assert (again.status_code, again.json()) == (400, {"detail": "激活码已被使用"})

    login = await world.http.post("/api/v1/user/auth/login", json={"account_no": registered["account_no"]})
    assert login.status_code == 200
    user_headers = {"Authorization": f"Bearer {login.json()['token']}"}

    # Renewing with a code of another manager is refused, and that code stays usable.
    r = await world.http.post(
        "/api/v1/user/auth/redeem-code", json={"code": b_code["code"]}, headers=user_headers
    )
    assert (r.status_code, r.json()) == (400, {"detail": "激活码不属于你的管理员"})
    b_list = (await world.http.get("/api/v1/manager/activation-codes", headers=b["headers"])).json()
    assert b_list["items"][0]["status"] == "unused"

    r = await world.http.post(
        "/api/v1/user/auth/redeem-code", json={"code": second["code"]}, headers=user_headers
    )
    assert r.status_code == 200, r.text
    assert parse_time(r.json()["expires_at"]) == world.clock.now() + timedelta(days=60)

    r = await world.http.post(
        "/api/v1/manager/activation-codes/batch-revoke",
        json={"code_ids": [third["id"]]},
        headers=a["headers"],
    )
    assert r.json()["revoked"] == 1
    r = await world.http.post(
        "/api/v1/user/auth/redeem-code", json={"code": third["code"]}, headers=user_headers
    )
    assert (r.status_code, r.json()) == (400, {"detail": "激活码已被撤销"})

    a_list = (await world.http.get("/api/v1/manager/activation-codes", headers=a["headers"])).json()
    assert a_list["summary"] == {"total": 3, "unused": 0, "used": 2, "revoked": 1, "deleted": 0}
    used_by = {c["id"]: c["used_by_account_no"] for c in a_list["items"]}
    assert used_by[first["id"]] == registered["account_no"]
    r = await world.http.post(
        "/api/v1/manager/activation-codes/batch-delete",
        json={"code_ids": [third["id"]]},
        headers=a["headers"],
    )
    assert r.json()["deleted"] == 1

    async with runtime.db.read() as conn:
        stored = [dict(r._mapping) for r in await conn.execute(sa.select(activation_codes))]
    plain = {first["code"], second["code"], b_code["code"]}
    assert not plain & {str(v) for row in stored for v in row.values()}

    logs = (await world.http.get("/api/v1/super/audit-logs", headers=await _super(world))).json()["items"]
    uses = {(e["action"], e["target_id"]) for e in logs if e["target_type"] == "activation_code"}
    assert ("POST /user/auth/register-by-code", str(first["id"])) in uses
    assert ("POST /user/auth/redeem-code", str(second["id"])) in uses


async def test_user_logout_voids_the_token(world: OasWorld) -> None:
    manager = await world.manager()
    user = await world.user(manager, duration_days=30)
    login = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert (await world.http.get("/api/v1/user/me/profile", headers=headers)).status_code == 200
    r = await world.http.post("/api/v1/user/auth/logout", headers=headers)
    assert r.status_code == 200
    r = await world.http.get("/api/v1/user/me/profile", headers=headers)
    assert (r.status_code, r.json()) == (401, {"detail": "认证令牌已失效"})
    fresh = await world.http.post("/api/v1/user/auth/login", json={"account_no": user["account_no"]})
    fresh_headers = {"Authorization": f"Bearer {fresh.json()['token']}"}
    assert (await world.http.get("/api/v1/user/me/profile", headers=fresh_headers)).status_code == 200


async def test_one_code_redeemed_twice_at_once_makes_one_user(world: OasWorld) -> None:
    manager = await world.manager()
    code = (await _new_codes(world, manager))["code"]
    racing = await asyncio.gather(
        *(world.http.post("/api/v1/user/auth/register-by-code", json={"code": code}) for _ in range(4))
    )
    assert sorted(r.status_code for r in racing) == [201, 400, 400, 400]
    users = (await world.http.get("/api/v1/manager/users", headers=manager["headers"])).json()
    assert users["total"] == 1


async def test_an_activation_code_is_redeemable_for_its_valid_days_only(world: OasWorld) -> None:
    manager = await world.manager()
    lasting = await _new_codes(world, manager)
    expiring = await _new_codes(world, manager, valid_days=1)
    assert parse_time(expiring["valid_until"]) == world.clock.now() + timedelta(days=1)
    assert lasting["valid_until"] is None and lasting["data"]["code"] == lasting["code"]

    world.clock.advance(days=2)
    r = await world.http.post("/api/v1/user/auth/register-by-code", json={"code": expiring["code"]})
    assert (r.status_code, r.json()) == (400, {"detail": "激活码已过期"})
    r = await world.http.post("/api/v1/user/auth/register-by-code", json={"code": lasting["code"]})
    assert r.status_code == 201, r.text
