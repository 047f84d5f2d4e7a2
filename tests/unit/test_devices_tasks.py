"""Task data, timeouts, device choice, the in-memory fleet and status names of the devices protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agenthub.core.jobs import Job, JobStatus
from agenthub.core.nodes import AgentNode, NodeStatus
from agenthub.protocols.devices.fleet import Fleet
from agenthub.protocols.devices.repository import Registration
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tasks import (
    SEED_STATUS,
    TaskDataError,
    json_problem,
    seed_device_status,
    timeout_for,
    validate_task,
)


def test_delist_defaults_and_action() -> None:
    data = validate_task("DELIST", {"product_ids": ["123", 456]})
    assert data["product_ids"] == ["123", "456"]
    assert data["batch_size"] == 10 and data["delay_between_items"] == 1.0 and data["retry_failed"] is True
    assert data["action"] == "delist"


def test_collect_and_upload() -> None:
    assert validate_task("COLLECT", {"target_url": "https://example.com/shop"})["max_items"] == 50
    upload = validate_task("UPLOAD", {"product_data": {"title": "商品标题", "price": 99.99}})
    assert upload["product_data"]["images"] == [] and upload["auto_publish"] is True
    assert upload["schedule_time"] is None


@pytest.mark.parametrize(
    ("task_type", "data", "code"),
    [
        ("REBOOT", {}, "INVALID_TASK_TYPE"),
        (None, {}, "INVALID_TASK_TYPE"),
        ("DELIST", {}, "INVALID_TASK_DATA"),
        ("DELIST", {"product_ids": []}, "INVALID_TASK_DATA"),
        ("DELIST", {"product_ids": "123"}, "INVALID_TASK_DATA"),
        ("DELIST", ["123"], "INVALID_TASK_DATA"),
        ("COLLECT", {"target_url": "javascript:alert(1)"}, "INVALID_TASK_DATA"),
        ("COLLECT", {"target_url": "https://x", "max_items": 0}, "INVALID_TASK_DATA"),
        ("UPLOAD", {"product_data": {"title": "t", "price": -1}}, "INVALID_TASK_DATA"),
        ("UPLOAD", {"product_data": {"price": 1}}, "INVALID_TASK_DATA"),
    ],
)
def test_bad_task_data_is_refused(task_type: object, data: object, code: str) -> None:
    with pytest.raises(TaskDataError) as caught:
        validate_task(task_type, data)
    assert caught.value.error_code == code


def test_timeouts() -> None:
    settings = DevicesSettings()
    assert timeout_for("DELIST", settings) == 300
    assert timeout_for("COLLECT", settings) == 600
    assert timeout_for("UPLOAD", settings) == 600


def test_status_names() -> None:
    assert SEED_STATUS[JobStatus.LEASED] == "dispatched"
    assert SEED_STATUS[JobStatus.SUCCESS] == "completed"
    assert SEED_STATUS[JobStatus.EXPIRED] == "failed"
    assert seed_device_status(online=True, task_count=3, capacity=3) == "busy"
    assert seed_device_status(online=True, task_count=2, capacity=3) == "online"
    assert seed_device_status(online=False, task_count=0, capacity=3) == "offline"


def test_json_problem() -> None:
    assert json_problem({"a": [1, 2.5, {"b": "c"}]}) is None
    assert json_problem({"a": float("nan")}) is not None
    assert json_problem([float("inf")]) is not None
    nested: object = 1
    for _ in range(40):
        nested = [nested]
    assert json_problem(nested) is not None and json_problem(nested, max_depth=64) is None
    with pytest.raises(TaskDataError) as caught:
        validate_task("DELIST", {"product_ids": ["1"], "ratio": float("nan")})
    assert caught.value.error_code == "INVALID_TASK_DATA"


NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _node(device_id: str, seen: datetime = NOW) -> AgentNode:
    return AgentNode("devices", device_id, NodeStatus.ONLINE, seen, NOW)


def _registration(device_id: str, sid: str | None = "sid") -> Registration:
    return Registration(device_id, device_id, "android", {}, sid, NOW)


def _job(job_id: int, device_id: str) -> Job:
    return Job(
        job_id, "devices.task", "DELIST", JobStatus.LEASED, {}, 0, NOW, 0, 4, NOW, NOW, leased_by=device_id
    )


def _online(node: AgentNode) -> bool:
    return node.is_online(NOW, timedelta(seconds=300))


def test_fleet_chooses_the_least_busy_online_device_and_reserves() -> None:
    fleet = Fleet()
    fleet.begin_load()
    fleet.finish_load(
        0.0,
        [_registration("a"), _registration("b"), _registration("gone", sid=None), _registration("quiet")],
        [_node("a"), _node("b"), _node("quiet", NOW - timedelta(seconds=301))],
        [_job(1, "a"), _job(2, "a")],
    )
    assert sorted(fleet.online_ids(_online)) == ["a", "b"]
    assert fleet.least_busy(_online, 3) == "b"
    fleet.reserve("b")
    fleet.reserve("b")
    assert fleet.load("b") == 2 and fleet.least_busy(_online, 3) in ("a", "b")
    fleet.reserve("b")
    assert fleet.least_busy(_online, 3) == "a"
    fleet.reserve("a")
    assert fleet.least_busy(_online, 3) is None  # everyone full
    fleet.unreserve("a")
    fleet.leased(3, "a")
    fleet.leased(3, "a")  # its announcement, seen after the dispatch recorded it: no double count
    assert fleet.load("a") == 3
    fleet.ended(1, "a")
    fleet.ended(1, "a")
    assert fleet.load("a") == 2
    fleet.gone("b")
    assert fleet.online_ids(_online) == ["a"]


def test_fleet_replays_what_happened_while_it_was_loading() -> None:
    fleet = Fleet()
    fleet.begin_load()
    # While the rows are read: a device registers, a task ends, another is leased.
    fleet.seen(_node("new"), _registration("new"))
    fleet.ended(1, "a")
    fleet.leased(5, "a")
    fleet.finish_load(1.0, [_registration("a")], [_node("a")], [_job(1, "a"), _job(2, "a")])
    assert sorted(fleet.online_ids(_online)) == ["a", "new"]
    assert fleet.held == {"a": {2, 5}}
    fleet.begin_load()
    fleet.abort_load()
    fleet.leased(6, "a")
    assert fleet.load("a") == 3
