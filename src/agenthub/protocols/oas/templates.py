"""The 27 task types of seed 000 section 7, their templates (defaults) and the pools per user type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

USER_TYPES = ("daily", "duiyi", "shuaka")


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    name: str
    enabled: bool
    priority: int
    next_time_rule: str
    fail_delay: int = 30  # minutes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TEMPLATES: dict[str, TaskTemplate] = {
    "signin": TaskTemplate("每日签到", True, 50, "daily_reset"),
    "explore": TaskTemplate("探索突破", True, 30, "interval_6h"),
    "xuanshang": TaskTemplate("悬赏封印", True, 40, "daily_reset"),
    "digui": TaskTemplate("地鬼", True, 35, "daily_reset"),
    "climb_tower": TaskTemplate("业原火", False, 20, "interval_8h"),
    "miwen": TaskTemplate("秘闻副本", False, 20, "weekly_monday"),
    "yuhun": TaskTemplate("御魂", False, 20, "interval_8h"),
    "delegate_help": TaskTemplate("委派/助战", True, 30, "interval_2h_window"),
    "collect_login_gift": TaskTemplate("领取登录礼包", True, 45, "daily_reset"),
    "collect_mail": TaskTemplate("领取邮件", True, 45, "daily_reset"),
    "liao_shop": TaskTemplate("寮商店", False, 25, "daily_reset"),
    "liao_coin": TaskTemplate("寮金币", True, 25, "daily_reset"),
    "add_friend": TaskTemplate("添加好友", False, 10, "daily_reset"),
    "weekly_shop": TaskTemplate("每周商店", True, 25, "weekly_monday"),
    "collect_achievement": TaskTemplate("领取成就", False, 15, "weekly_7d"),
    "summon_gift": TaskTemplate("召唤礼包", True, 25, "daily_reset"),
    "weekly_share": TaskTemplate("每周分享", True, 15, "weekly_monday"),
    "collect_fanhe_jiuhu": TaskTemplate("领取饭盒酒壶", True, 30, "interval_8h"),
    "duiyi_jingcai": TaskTemplate("对弈竞猜", True, 60, "interval_2h_window"),
    "init": TaskTemplate("初始化", True, 90, "on_demand"),
    "init_collect_reward": TaskTemplate("初始化-领取奖励", True, 85, "on_demand"),
    "init_rent_shikigami": TaskTemplate("初始化-租借式神", True, 84, "on_demand"),
    "init_newbie_quest": TaskTemplate("初始化-新手任务", True, 83, "on_demand"),
    "init_exp_dungeon": TaskTemplate("初始化-经验副本", True, 82, "on_demand"),
    "init_collect_jinnang": TaskTemplate("初始化-领取锦囊", True, 81, "on_demand"),
    "init_shikigami_train": TaskTemplate("初始化-式神培养", True, 80, "on_demand"),
    "init_fanhe_upgrade": TaskTemplate("初始化-饭盒升级", True, 79, "on_demand"),
}

TASK_TYPES = tuple(TEMPLATES)

_COMMON = ("signin", "collect_login_gift", "collect_mail")
POOLS: dict[str, tuple[str, ...]] = {
    "daily": tuple(t for t in TASK_TYPES if t != "duiyi_jingcai" and not t.startswith("init")),
    "duiyi": ("duiyi_jingcai",),
    "shuaka": tuple(t for t in TASK_TYPES if t.startswith("init")) + _COMMON,
}


def catalogue(user_type: str | None = None) -> dict[str, Any]:
    """The body of GET /api/v1/task-templates, for one user type or all."""
    pools = {user_type: POOLS[user_type]} if user_type else POOLS
    names = {name for pool in pools.values() for name in pool}
    templates = {name: TEMPLATES[name].as_dict() for name in TASK_TYPES if name in names}
    return {
        "pools": {kind: list(pool) for kind, pool in pools.items()},
        "templates": templates,
        # What the original frontend reads: the task types in display order, each one's defaults, the types.
        "order": [name for name in TASK_TYPES if name in names],
        "default_config": {name: _default_config(t) for name, t in templates.items()},
        "supported_user_types": list(pools),
    }


def _default_config(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "enabled": template["enabled"],
        "priority": template["priority"],
        "next_time_rule": template["next_time_rule"],
        "fail_delay": template["fail_delay"],
        "next_time": None,
    }
