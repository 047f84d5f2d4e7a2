"""The Oas next_time rules, quiet hours, duiyi windows and task-config writes, with fixed instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agenthub.protocols.oas import schedule_rules as rules
from agenthub.protocols.oas.scheduler import due_slot
from agenthub.protocols.oas.task_config import TaskConfigError, apply_update, merged


def bj(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=rules.BEIJING).astimezone(UTC)


MONDAY_NOON = bj(2026, 3, 2, 12, 0)  # a Monday


@pytest.mark.parametrize(
    ("rule", "now", "expected"),
    [
        ("daily_reset", MONDAY_NOON, bj(2026, 3, 3, 0, 1)),
        ("daily_reset", bj(2026, 3, 2, 23, 59), bj(2026, 3, 3, 0, 1)),
        ("weekly_monday", MONDAY_NOON, bj(2026, 3, 9, 0, 1)),
        ("weekly_monday", bj(2026, 3, 8, 23, 0), bj(2026, 3, 9, 0, 1)),  # a Sunday
        ("interval_6h", MONDAY_NOON, MONDAY_NOON + timedelta(hours=6)),
        ("interval_8h", MONDAY_NOON, MONDAY_NOON + timedelta(hours=8)),
        ("interval_2h_window", bj(2026, 3, 2, 12, 30), bj(2026, 3, 2, 14, 0)),
        ("interval_2h_window", bj(2026, 3, 2, 19, 59), bj(2026, 3, 2, 21, 0)),
        ("interval_2h_window", bj(2026, 3, 2, 20, 0), bj(2026, 3, 3, 10, 0)),  # 22:00 is outside
        ("interval_2h_window", bj(2026, 3, 2, 3, 0), bj(2026, 3, 2, 10, 0)),  # 05:00 is before 10:00
        ("coop_window", MONDAY_NOON, bj(2026, 3, 2, 18, 0)),
        ("coop_window", bj(2026, 3, 2, 18, 0), bj(2026, 3, 2, 21, 0)),
        ("coop_window", bj(2026, 3, 2, 21, 30), bj(2026, 3, 3, 18, 0)),
        ("weekly_7d", MONDAY_NOON, MONDAY_NOON + timedelta(days=7)),
        ("on_demand", MONDAY_NOON, None),
    ],
)
def test_next_time_rules_in_beijing_time(rule: str, now: datetime, expected: datetime | None) -> None:
    assert rules.next_time(rule, now) == expected


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.next_time("hourly", MONDAY_NOON)


def test_failure_waits_fail_delay_minutes() -> None:
    assert rules.after_failure(MONDAY_NOON, 30) == MONDAY_NOON + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("now", "quiet"),
    [
        (bj(2026, 3, 2, 0, 0), True),
        (bj(2026, 3, 2, 5, 59), True),
        (bj(2026, 3, 2, 6, 0), False),
        (bj(2026, 3, 2, 23, 59), False),
    ],
)
def test_quiet_hours(now: datetime, quiet: bool) -> None:
    assert rules.is_quiet(now) is quiet


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (bj(2026, 3, 2, 9, 59), None),
        (bj(2026, 3, 2, 10, 0), "10:00"),
        (bj(2026, 3, 2, 13, 59), "12:00"),
        (bj(2026, 3, 2, 23, 30), "22:00"),
    ],
)
def test_duiyi_window_is_the_latest_started(now: datetime, window: str | None) -> None:
    assert rules.duiyi_window(now) == window


def test_merged_config_covers_the_pool_with_template_defaults() -> None:
    config = merged("duiyi", {"duiyi_jingcai": {"enabled": False}})
    assert list(config) == ["duiyi_jingcai"]
    assert config["duiyi_jingcai"] == {
        "enabled": False,
        "next_time": None,
        "fail_delay": 30,
        "next_time_rule": "interval_2h_window",
        "priority": 60,
    }


def test_update_validates_pool_fields_and_rules() -> None:
    stored = apply_update(
        "daily",
        {},
        {"signin": {"enabled": True, "next_time": "2026-03-02T04:00:00Z", "payload": {"x": 1}}},
        now=MONDAY_NOON,
    )
    assert stored == {"signin": {"enabled": True, "next_time": "2026-03-02T04:00:00Z", "payload": {"x": 1}}}
    stored = apply_update("daily", stored, {"signin": {"fail_delay": 10}}, now=MONDAY_NOON)
    assert stored["signin"]["fail_delay"] == 10 and stored["signin"]["enabled"] is True
    with pytest.raises(TaskConfigError, match="不在 daily 用户的任务池中"):
        apply_update("daily", {}, {"duiyi_jingcai": {"enabled": True}}, now=MONDAY_NOON)
    with pytest.raises(TaskConfigError, match="不支持的任务类型"):
        apply_update("daily", {}, {"fishing": {"enabled": True}}, now=MONDAY_NOON)
    with pytest.raises(TaskConfigError, match="next_time_rule"):
        apply_update("daily", {}, {"signin": {"next_time_rule": "hourly"}}, now=MONDAY_NOON)
    with pytest.raises(TaskConfigError):
        apply_update("daily", {}, {"signin": {"colour": "red"}}, now=MONDAY_NOON)
    with pytest.raises(TaskConfigError):
        apply_update("daily", {}, {"signin": {"fail_delay": 0}}, now=MONDAY_NOON)


def test_due_slot() -> None:
    now = MONDAY_NOON
    assert due_slot({"next_time": None, "next_time_rule": "daily_reset"}, now) == "first"
    assert due_slot({"next_time": None, "next_time_rule": "on_demand"}, now) is None
    assert due_slot({"next_time": "2026-03-02T03:00:00Z"}, now) == "2026-03-02T03:00:00Z"
    assert due_slot({"next_time": "2026-03-02T05:00:00Z"}, now) is None


def test_writing_null_next_time_means_due_at_the_write() -> None:
    stored = apply_update("daily", {}, {"signin": {"next_time": None}}, now=MONDAY_NOON)
    assert stored["signin"]["next_time"] == "2026-03-02T04:00:00Z"
    stored = apply_update("shuaka", {}, {"init": {"next_time": None}}, now=MONDAY_NOON)
    assert stored["init"]["next_time"] is None
