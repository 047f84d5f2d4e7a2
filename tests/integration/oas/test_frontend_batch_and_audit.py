"""Batch operations on users and managers (all or nothing: a batch naming another manager's user changes
nothing), the single-user asset write and log purge, and the audit log of operator actions."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.oas.conftest import OasWorld, parse_time


async def test_batch_user_operations_touch_only_the_managers_own_users(world: OasWorld) -> None:
    a = await world.manager("mgr_a")
    b = await world.manager("mgr_b")
    mine = [await world.user(a, duration_days=10) for _ in range(2)]
    theirs = await world.user(b, duration_days=10)
    ids = [u["id"] for u in mine]

    r = await world.http.post(
        "/api/v1/manager/users/batch-lifecycle",
        json={"user_ids": [*ids, theirs["id"]], "extend_days": 5},
        headers=a["headers"],
    )
    assert r.status_code == 404 and str(theirs["id"]) in r.json()["detail"]
    r = await world.http.post(
        "/api/v1/manager/users/batch-delete", json={"user_ids": [theirs["id"]]}, headers=a["headers"]
    )
    assert r.status_code == 404
    r = await world.http.post(
        "/api/v1/manager/users/batch-assets",
        json={"user_ids": [theirs["id"]], "assets": {"gold": 1}},
        headers=a["headers"],
    )
    assert r.status_code == 404
    listed = (await world.http.get("/api/v1/manager/users", headers=a["headers"])).json()
    assert all(parse_time(u["expires_at"]) == world.clock.now() + timedelta(days=10) for u in listed["items"])

    r = await world.http.post(
        "/api/v1/manager/users/batch-lifecycle",
        json={"user_ids": ids, "extend_days": 5, "status": "disabled"},
        headers=a["headers"],
    )
    assert r.status_code == 200 and r.json()["updated"] == 2
    listed = (await world.http.get("/api/v1/manager/users", headers=a["headers"])).json()
    assert {u["status"] for u in listed["items"]} == {"disabled"}
    assert all(parse_time(u["expires_at"]) == world.clock.now() + timedelta(days=15) for u in listed["items"])
    # A disabled user's login is refused at once.
    r = await world.http.post("/api/v1/user/auth/login", json={"account_no": mine[0]["account_no"]})
    assert r.status_code == 403

    r = await world.http.post(
        "/api/v1/manager/users/batch-assets",
        json={"user_ids": ids, "assets": {"gold": 7}},
        headers=a["headers"],
    )
    assert r.status_code == 200
    r = await world.http.put(
        f"/api/v1/manager/users/{ids[0]}/assets",
        json={"assets": {"gold": 9, "level": 3}},
        headers=a["headers"],
    )
    assert r.status_code == 200 and r.json()["assets"] == {"gold": 9, "level": 3}
    assert (
        await world.http.put(
            f"/api/v1/manager/users/{theirs['id']}/assets", json={"assets": {}}, headers=a["headers"]
        )
    ).status_code == 404
    assets = (await world.http.get(f"/api/v1/manager/users/{ids[1]}/assets", headers=a["headers"])).json()
    assert assets["assets"] == {"gold": 7}

    r = await world.http.post(
        "/api/v1/manager/users/batch-delete", json={"user_ids": ids}, headers=a["headers"]
    )
    assert r.status_code == 200 and r.json()["deleted"] == 2
    assert (await world.http.get("/api/v1/manager/users", headers=a["headers"])).json()["total"] == 0
    assert (await world.http.get("/api/v1/manager/users", headers=b["headers"])).json()["total"] == 1


async def test_a_manager_purges_a_users_logs(world: OasWorld) -> None:
    a = await world.manager("mgr_a")
    b = await world.manager("mgr_b")
    user = await world.user(a)
    agent = await world.agent(a)
    r = await world.http.post(
        f"/api/v1/agent/users/{user['id']}/logs",
        json={"logs": [{"type": "signin", "level": "INFO", "message": "ok", "ts": "2026-03-02T04:00:00Z"}]},
        headers=agent.headers,
    )
    assert r.status_code == 200
    path = f"/api/v1/manager/users/{user['id']}/logs"
    assert (await world.http.get(path, headers=a["headers"])).json()["total"] == 1
    assert (await world.http.delete(path, headers=b["headers"])).status_code == 404
    r = await world.http.delete(path, headers=a["headers"])
    assert r.status_code == 200 and r.json()["deleted"] == 1
    assert (await world.http.get(path, headers=a["headers"])).json()["total"] == 0


async def test_super_batch_lifecycle_and_the_audit_log(world: OasWorld) -> None:
    admin = {"Authorization": f"Bearer {await world.super_token()}"}
    a = await world.manager("mgr_a", expires_in=timedelta(days=1))
    b = await world.manager("mgr_b", expires_in=timedelta(days=1))
    r = await world.http.post(
        "/api/v1/super/managers/batch-lifecycle",
        json={"manager_ids": [a["id"], 99999], "extend_days": 10},
        headers=admin,
    )
    assert r.status_code == 404
    r = await world.http.post(
        "/api/v1/super/managers/batch-lifecycle",
        json={"manager_ids": [a["id"], b["id"]], "extend_days": 10},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["updated"] == 2
    listed = (await world.http.get("/api/v1/super/managers", headers=admin)).json()
    assert all(parse_time(m["expires_at"]) == world.clock.now() + timedelta(days=11) for m in listed["items"])
    r = await world.http.patch(
        f"/api/v1/super/managers/{a['id']}/lifecycle", json={"extend_days": 1}, headers=admin
    )
    assert r.status_code == 200
    await world.http.put("/api/v1/manager/me/alias", json={"alias": "阿A"}, headers=a["headers"])

    logs = (await world.http.get("/api/v1/super/audit-logs", params={"page_size": 200}, headers=admin)).json()
    by_action = {(e["action"], e["actor_type"], e["target_type"], e["target_id"]) for e in logs["items"]}
    assert ("patch_manager_lifecycle", "super", "manager", str(a["id"])) in by_action
    assert ("PUT /manager/me/alias", "manager", "", "") in by_action
    assert ("POST /super/managers", "super", "", "") in by_action
    assert ("POST /manager/auth/login", "manager", "", "") in by_action  # who logged in, not "anonymous"
    batch = next(e for e in logs["items"] if e["action"] == "batch_manager_lifecycle")
    assert batch["detail"]["manager_ids"] == sorted([a["id"], b["id"]]) and batch["detail"]["updated"] == 2
    assert batch["actor_name"] == "root"
    mine = (
        await world.http.get("/api/v1/super/audit-logs", params={"keyword": "mgr_a"}, headers=admin)
    ).json()
    assert mine["total"] >= 1 and {e["actor_name"] for e in mine["items"]} == {"mgr_a"}
    assert all(e["created_at"] and "ip" in e for e in logs["items"])
    # Refused changes and reads are not actions; only the successful batch was recorded.
    assert sum(1 for e in logs["items"] if e["action"] == "batch_manager_lifecycle") == 1
    assert not any(e["action"].startswith("GET ") for e in logs["items"])
    assert (await world.http.get("/api/v1/super/audit-logs", headers=a["headers"])).status_code == 403
