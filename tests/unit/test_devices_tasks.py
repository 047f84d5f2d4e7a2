"""Task data validation, timeouts, device choice and status names of the devices protocol."""

from __future__ import annotations

import pytest

from agenthub.core.jobs import JobStatus
from agenthub.protocols.devices.settings import DevicesSettings
from agenthub.protocols.devices.tasks import (
    SEED_STATUS,
    TaskDataError,
    least_busy,
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


def test_least_busy() -> None:
    assert least_busy({"a": 2, "b": 1, "c": 1}, capacity=3) == "b"
    assert least_busy({"a": 3, "b": 3}, capacity=3) is None
    assert least_busy({}, capacity=3) is None


def test_status_names() -> None:
    assert SEED_STATUS[JobStatus.LEASED] == "dispatched"
    assert SEED_STATUS[JobStatus.SUCCESS] == "completed"
    assert SEED_STATUS[JobStatus.EXPIRED] == "failed"
    assert seed_device_status(online=True, task_count=3, capacity=3) == "busy"
    assert seed_device_status(online=True, task_count=2, capacity=3) == "online"
    assert seed_device_status(online=False, task_count=0, capacity=3) == "offline"
