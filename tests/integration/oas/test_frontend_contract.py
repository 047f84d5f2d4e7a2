"""The original web frontend's contract, route by route, in the order its pages call them (super admin ->
manager -> user -> scan tab): every key the frontend reads (docs: ../shared/notes/oas-original-frontend.md)
is at the top level of the answer, where the frontend looks; the documented `data` shape stays beside it."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.integration.oas.conftest import Agent, OasWorld
from tests.integration.oas.scan_support import ScanUser, agent_call, scan_poll

PNG = base64.b64encode(b"\x89PNG fake qrcode").decode()


def top(r: httpx.Response, *keys: str, status: int = 200) -> dict[str, Any]:
    """The body, after checking the status and that each key is at the top level (and, when the answer
    also has `data`, that `data` holds the same value)."""
    assert r.status_code == status, (r.request.method, r.request.url.path, r.status_code, r.text)
    body: dict[str, Any] = r.json()
    missing = [k for k in keys if k not in body]
    assert not missing, (r.request.url.path, missing, sorted(body))
    if isinstance(body.get("data"), dict):
        assert all(body["data"][k] == body[k] for k in keys if k in body["data"])
    return body


def has(mapping: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in mapping]
    assert not missing, (missing, sorted(mapping))


async def test_the_original_frontend_pages_in_order(world: OasWorld) -> None:
    http = world.http

    # -- super admin: login page, then 秘钥中心 / 管理员管理 / 操作日志 (mounted together)
    top(await http.get("/health"), "status")  # rootRequest; not called by any page
    assert top(await http.get("/api/v1/scheduler/status"), "enabled")["enabled"] is False  # off in tests
    status = top(await http.get("/api/v1/bootstrap/status"), "initialized")
    assert status["initialized"] is True
    r = await http.post("/api/v1/bootstrap/init", json={"username": "again", "password": "again123"})
    assert r.status_code == 409 and "detail" in r.json()
    login = top(
        await http.post("/api/v1/super/auth/login", json={"username": "root", "password": "rootpass123"}),
        "token",
    )
    admin = {"Authorization": f"Bearer {login['token']}"}

    created = top(
        await http.post(
            "/api/v1/super/manager-renewal-keys",
            json={"duration_days": 30, "manager_type": "all"},
            headers=admin,
        ),
        "code",
        "duration_days",
        "manager_type",
        status=201,
    )
    keys = top(
        await http.get("/api/v1/super/manager-renewal-keys", headers=admin), "items", "total", "summary"
    )
    has(keys["summary"], "total", "unused", "used", "revoked", "deleted")
    has(keys["items"][0], "id", "code", "duration_days", "manager_type", "status", "used_at", "created_at")
    managers = top(await http.get("/api/v1/super/managers", headers=admin), "items", "total", "summary")
    has(managers["summary"], "total", "active", "expired", "expiring_7d")
    top(await http.get("/api/v1/super/audit-logs", headers=admin), "items", "total")

    # -- login page: 管理员 公共注册, then 管理员登录
    r = await http.post(
        "/api/v1/manager/auth/register", json={"username": "webmgr", "password": "webpass123"}
    )
    assert r.status_code == 201
    mlogin = top(
        await http.post("/api/v1/manager/auth/login", json={"username": "webmgr", "password": "webpass123"}),
        "token",
    )
    mh = {"Authorization": f"Bearer {mlogin['token']}"}

    # -- manager: the profile card, redeem the key, alias
    me = top(
        await http.get("/api/v1/manager/auth/me", headers=mh),
        "id",
        "username",
        "alias",
        "expires_at",
        "expired",
    )
    assert me["expired"] is True
    top(
        await http.post("/api/v1/manager/auth/redeem-renewal-key", json={"code": created["code"]}, headers=mh)
    )
    assert top(await http.get("/api/v1/manager/auth/me", headers=mh), "expired")["expired"] is False
    assert (
        top(await http.put("/api/v1/manager/me/alias", json={"alias": "网页管理员"}, headers=mh), "alias")[
            "alias"
        ]
        == "网页管理员"
    )

    # 管理员管理 now shows the manager with its user counts (after the users below are made, checked again).
    row = next(
        m
        for m in top(await http.get("/api/v1/super/managers", headers=admin), "items")["items"]
        if m["id"] == me["id"]
    )
    has(row, "id", "username", "alias", "expires_at", "total_users", "active_users", "expired_users")

    # 总览
    overview = top(
        await http.get("/api/v1/manager/overview", headers=mh), "user_stats", "job_stats", "generated_at"
    )
    has(overview["user_stats"], "total", "active", "expired")
    has(overview["job_stats"], "pending", "leased", "running", "success", "failed")

    # 激活码管理
    code = top(
        await http.post(
            "/api/v1/manager/activation-codes", json={"duration_days": 30, "user_type": "daily"}, headers=mh
        ),
        "code",
        "user_type",
        status=201,
    )
    codes = top(await http.get("/api/v1/manager/activation-codes", headers=mh), "items", "total", "summary")
    has(codes["summary"], "total", "unused", "used", "revoked", "deleted")
    has(
        codes["items"][0],
        "id",
        "code",
        "user_type",
        "duration_days",
        "status",
        "used_by_account_no",
        "used_at",
        "created_at",
    )

    # 账号管理: 创建用户, the list, the task editor's templates
    quick = top(
        await http.post(
            "/api/v1/manager/users/quick-create", json={"user_type": "daily", "duration_days": 30}, headers=mh
        ),
        "account_no",
        "login_id",
        "user_type",
        status=201,
    )
    users = top(await http.get("/api/v1/manager/users", headers=mh), "items", "total", "summary")
    has(users["summary"], "total", "active", "expired", "disabled", "daily", "duiyi", "shuaka")
    has(users["items"][0], "id", "account_no", "login_id", "user_type", "status", "expires_at")
    templates = top(
        await http.get("/api/v1/task-templates", params={"user_type": "daily"}),
        "order",
        "default_config",
        "supported_user_types",
    )
    assert set(templates["data"]) >= {"pools", "templates"}  # the seed's shape stays
    assert templates["order"] and set(templates["order"]) == set(templates["default_config"])
    has(
        templates["default_config"][templates["order"][0]],
        "enabled",
        "priority",
        "next_time_rule",
        "fail_delay",
    )

    # 账号详情 dialog
    uid = quick["id"]
    tasks = top(await http.get(f"/api/v1/manager/users/{uid}/tasks", headers=mh), "task_config", "user_type")
    top(
        await http.put(
            f"/api/v1/manager/users/{uid}/tasks",
            json={"task_config": {"signin": {"enabled": False}}},
            headers=mh,
        ),
        "task_config",
        "user_type",
    )
    assert set(tasks["task_config"]) == set(templates["order"])
    top(await http.get(f"/api/v1/manager/users/{uid}/assets", headers=mh), "assets")
    top(
        await http.put(f"/api/v1/manager/users/{uid}/assets", json={"assets": {"gold": 1}}, headers=mh),
        "assets",
    )
    top(await http.patch(f"/api/v1/manager/users/{uid}/lifecycle", json={"extend_days": 1}, headers=mh))
    for path, body in (
        ("batch-lifecycle", {"user_ids": [uid], "extend_days": 1}),
        ("batch-assets", {"user_ids": [uid], "assets": {"level": 2}}),
    ):
        top(await http.post(f"/api/v1/manager/users/{path}", json=body, headers=mh))

    # 任务池 (a job the manager queued for the user)
    r = await http.post("/api/v1/manager/jobs", json={"user_id": uid, "task_type": "signin"}, headers=mh)
    assert r.status_code == 201
    pool = top(await http.get("/api/v1/manager/task-pool", headers=mh), "items", "total", "summary")
    has(pool["summary"], "pending", "leased", "running")
    has(
        pool["items"][0],
        "login_id", "user_type", "task_type", "status", "priority", "scheduled_at",
        "leased_by_node", "attempts", "max_attempts",
    )  # fmt: skip
    assert pool["items"][0]["login_id"] == quick["login_id"]

    # 执行日志, 对弈竞猜
    top(await http.get(f"/api/v1/manager/users/{uid}/logs", headers=mh), "items", "total")
    top(await http.delete(f"/api/v1/manager/users/{uid}/logs", headers=mh))
    duiyi = (await http.get("/api/v1/manager/duiyi-answers", headers=mh)).json()
    has(duiyi["data"], "date", "answers")

    # -- login page: 激活码注册, then 账号登录
    registered = top(
        await http.post("/api/v1/user/auth/register-by-code", json={"code": code["code"]}),
        "token",
        "account_no",
        status=201,
    )
    ulogin = top(
        await http.post("/api/v1/user/auth/login", json={"account_no": registered["account_no"]}),
        "token",
        "account_no",
    )
    uh = {"Authorization": f"Bearer {ulogin['token']}"}

    # -- user: 账号信息 / 续费 / 我的资产 / 任务配置 / 执行日志 / 通知管理 / 自助扫码
    profile = top(
        await http.get("/api/v1/user/me/profile", headers=uh),
        "account_no", "login_id", "user_type", "status", "archive_status", "expires_at",
        "server", "username", "manager_id", "manager_alias", "notify_config",
    )  # fmt: skip
    assert profile["manager_alias"] == "网页管理员"
    renewal = top(
        await http.post(
            "/api/v1/manager/activation-codes", json={"duration_days": 7, "user_type": "daily"}, headers=mh
        ),
        "code",
        status=201,
    )
    top(
        await http.post("/api/v1/user/auth/redeem-code", json={"code": renewal["code"]}, headers=uh),
        "expires_at",
    )
    top(await http.get("/api/v1/user/me/assets", headers=uh), "assets")
    top(await http.get("/api/v1/user/me/tasks", headers=uh), "user_type", "task_config")
    top(await http.get("/api/v1/user/me/logs", headers=uh), "items", "total")
    saved = top(
        await http.put(
            "/api/v1/user/me/profile",
            json={"notify_config": {"wechat_enabled": True, "wechat_miao_code": "abc123"}},
            headers=uh,
        ),
        "notify_config",
    )
    assert saved["notify_config"]["wechat_enabled"] is True

    # 自助扫码: the tab takes login_id from the profile, opens the WebSocket, shows each screenshot, sends the
    # choices; the agent does the rest.
    agent_login = await http.post(
        "/api/v1/agent/auth/login",
        json={"username": "webmgr", "password": "webpass123", "node_id": "WEB-NODE-1"},
    )
    agent_body = agent_login.json()
    agent = Agent(token=agent_body["token"], node_id="WEB-NODE-1", manager_id=agent_body["manager_id"])
    scan = ScanUser(http, ulogin["token"], {"login_id": profile["login_id"]})
    idle = (await http.get("/api/v1/user/scan/status", headers=uh)).json()["data"]
    assert idle["active"] is False and "cooldown_remaining_sec" in idle
    await scan.connect()
    try:
        r = await scan.post("create", login_id=profile["login_id"])
        assert r.status_code == 201
        scan_id = r.json()["data"]["scan_job_id"]
        polled = await scan_poll(world, agent)
        assert polled["jobs"][0]["login_id"] == profile["login_id"]
        await agent_call(world, agent, scan_id, "start", lease_seconds=120)
        assert (await scan.next_message())["phase"] == "launching"
        await agent_call(
            world, agent, scan_id, "phase", phase="qrcode_ready", screenshot=PNG, screenshot_key="qrcode"
        )
        shown = await scan.next_message()
        assert (shown["type"], shown["screenshot"]) == ("phase_change", PNG)
        assert (await scan.post("heartbeat", scan_job_id=scan_id)).status_code == 200
        await agent_call(world, agent, scan_id, "phase", phase="choose_system")
        asked = await scan.next_message()
        assert (asked["type"], asked["choice_type"]) == ("need_choice", "system")
        status_now = (await http.get("/api/v1/user/scan/status", headers=uh)).json()["data"]
        assert status_now["phase"] == "choose_system" and status_now["screenshots"] == {"qrcode": PNG}
        r = await scan.post("choice", scan_job_id=scan_id, choice_type="system", value="ios")
        assert r.status_code == 200
        choice = (await agent_call(world, agent, scan_id, "choice")).json()["data"]
        assert (choice["has_choice"], choice["value"]) == (True, "ios")
        await agent_call(world, agent, scan_id, "complete", message="扫码完成")
        done = await scan.next_message()
        assert done["type"] == "completed"
        finished = (await http.get("/api/v1/user/scan/status", headers=uh)).json()["data"]
        assert finished["active"] is False
    finally:
        await scan.close()

    # 退出登录: the token stops working.
    top(await http.post("/api/v1/user/auth/logout", headers=uh))
    assert (await http.get("/api/v1/user/me/profile", headers=uh)).status_code == 401

    # Back on the super admin's pages: the counts and the log reflect what happened.
    row = next(
        m
        for m in (await http.get("/api/v1/super/managers", headers=admin)).json()["items"]
        if m["id"] == me["id"]
    )
    assert (row["total_users"], row["active_users"]) == (2, 2)
    actions = {
        e["action"]
        for e in (
            await http.get("/api/v1/super/audit-logs", params={"page_size": 200}, headers=admin)
        ).json()["items"]
    }
    assert {
        "create_manager_renewal_key",
        "redeem_manager_renewal_key",
        "POST /user/auth/register-by-code",
    } <= actions
