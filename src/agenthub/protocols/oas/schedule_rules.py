"""When Oas tasks run: the next_time rules, the quiet hours and the duiyi windows, all in Beijing time.

Pure functions of an instant; every input and output instant is timezone-aware (UTC in storage).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
RULES = (
    "daily_reset",
    "weekly_monday",
    "interval_6h",
    "interval_8h",
    "interval_2h_window",
    "coop_window",
    "weekly_7d",
    "on_demand",
)
QUIET_UNTIL = time(6, 0)  # nothing is created from 00:00 to 05:59 Beijing time
DUIYI_WINDOWS = ("10:00", "12:00", "14:00", "16:00", "18:00", "20:00", "22:00")
DUIYI_ANSWERS = ("左", "右")
RESET = time(0, 1)
WINDOW_OPENS, WINDOW_CLOSES = 10, 22
COOP_HOURS = (18, 21)


def beijing(instant: datetime) -> datetime:
    return instant.astimezone(BEIJING)


def beijing_day(instant: datetime) -> date:
    return beijing(instant).date()


def is_quiet(instant: datetime) -> bool:
    return beijing(instant).time() < QUIET_UNTIL


def next_time(rule: str, now: datetime) -> datetime | None:
    """When a task runs next after one that ended at `now`; None for on_demand (never by itself)."""
    local = beijing(now)
    if rule == "daily_reset":
        return _at(local.date() + timedelta(days=1), RESET)
    if rule == "weekly_monday":
        return _at(local.date() + timedelta(days=7 - local.weekday()), RESET)
    if rule == "interval_6h":
        return now + timedelta(hours=6)
    if rule == "interval_8h":
        return now + timedelta(hours=8)
    if rule == "interval_2h_window":
        return _two_hour_window(local)
    if rule == "coop_window":
        return _coop_window(local)
    if rule == "weekly_7d":
        return now + timedelta(days=7)
    if rule == "on_demand":
        return None
    raise ValueError(f"unknown next_time rule: {rule}")


def after_failure(now: datetime, fail_delay_minutes: int) -> datetime:
    return now + timedelta(minutes=fail_delay_minutes)


def duiyi_window(instant: datetime) -> str | None:
    """The latest duiyi window that has started on the instant's Beijing day (None before 10:00)."""
    current = beijing(instant).strftime("%H:%M")
    started = [w for w in DUIYI_WINDOWS if w <= current]
    return started[-1] if started else None


def _two_hour_window(local: datetime) -> datetime:
    candidate = (local + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    if WINDOW_OPENS <= candidate.hour < WINDOW_CLOSES:
        return candidate.astimezone(UTC)
    day = candidate.date() if candidate.hour < WINDOW_OPENS else candidate.date() + timedelta(days=1)
    return _at(day, time(WINDOW_OPENS))


def _coop_window(local: datetime) -> datetime:
    for day_offset in (0, 1):
        day = local.date() + timedelta(days=day_offset)
        for hour in COOP_HOURS:
            candidate = datetime.combine(day, time(hour), BEIJING)
            if candidate > local:
                return candidate.astimezone(UTC)
    raise AssertionError("unreachable: a coop window is always within a day")


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, BEIJING).astimezone(UTC)
