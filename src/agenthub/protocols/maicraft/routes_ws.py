"""The seven WebSockets: /ws/logs, /ws/game/player|world|marker, /ws/tasks, /ws/token-usage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, WebSocket

from agenthub.protocols.maicraft.deps import CurrentBot
from agenthub.protocols.maicraft.envelope import now_ms
from agenthub.protocols.maicraft.errors import MaicraftError, OperationFailed, ValidationFailed
from agenthub.protocols.maicraft.feeds import GameFeed, LogFilter
from agenthub.protocols.maicraft.logring import LEVELS
from agenthub.protocols.maicraft.records import usage_summary
from agenthub.protocols.maicraft.state import BotState
from agenthub.protocols.maicraft.ws_common import (
    SUBSCRIPTION_ERROR,
    Heartbeat,
    SocketError,
    Subscriber,
    error_message,
    interval_of,
    serve_socket,
)

router = APIRouter()


def _heartbeat(bot: BotState, mode: str = "interval", welcome_config: bool = True) -> Heartbeat:
    s = bot.settings
    return Heartbeat(s.ws_heartbeat_seconds, s.ws_timeout_seconds, mode, welcome_config)  # type: ignore[arg-type]


# -- /ws/logs -------------------------------------------------------------------------------------------


@router.websocket("/ws/logs")
async def logs_socket(ws: WebSocket, bot: CurrentBot) -> None:
    async def subscribe(sub: Subscriber, message: dict[str, Any]) -> None:
        levels, modules = message.get("levels"), message.get("modules")
        if levels is not None and (
            not isinstance(levels, list) or not all(isinstance(v, str) for v in levels)
        ):
            raise SocketError(SUBSCRIPTION_ERROR, "levels 必须是字符串列表")
        if modules is not None and (
            not isinstance(modules, list) or not all(isinstance(v, str) for v in modules)
        ):
            raise SocketError(SUBSCRIPTION_ERROR, "modules 必须是字符串列表")
        chosen = frozenset(v.upper() for v in levels) if levels else None
        if chosen is not None and not chosen <= set(LEVELS):
            raise SocketError(SUBSCRIPTION_ERROR, f"未知日志级别: {', '.join(sorted(chosen - set(LEVELS)))}")
        bot.log_feed.subs[sub] = LogFilter(chosen, tuple(modules) if modules else None)
        sub.offer(
            {
                "type": "subscribed",
                "message": "日志订阅已设置",
                "subscription": {"levels": sorted(chosen) if chosen else None, "modules": modules or None},
                "timestamp": now_ms(),
            }
        )

    async def unsubscribe(sub: Subscriber, _message: dict[str, Any]) -> None:
        bot.log_feed.subs.pop(sub, None)
        sub.offer({"type": "unsubscribed", "message": "已取消日志订阅", "timestamp": now_ms()})

    def closed(sub: Subscriber) -> None:
        bot.log_feed.subs.pop(sub, None)
        bot.log_clients.discard(sub)

    await serve_socket(
        ws,
        heartbeat=_heartbeat(bot, "periodic"),
        handlers={"subscribe": subscribe, "unsubscribe": unsubscribe},
        queue_size=bot.settings.ws_queue_size,
        welcome="已连接到日志服务",
        on_open=bot.log_clients.add,
        on_close=closed,
    )


# -- /ws/game/<kind> ------------------------------------------------------------------------------------


async def _game_socket(ws: WebSocket, bot: BotState, feed: GameFeed) -> None:
    async def subscribe(sub: Subscriber, message: dict[str, Any]) -> None:
        interval = interval_of(message, default=1000, low=100, high=30000)
        sub.offer(
            {
                "type": "subscribed",
                "message": f"已订阅 {feed.kind} 数据",
                "subscription": {"type": feed.kind, "update_interval": interval},
                "timestamp": now_ms(),
            }
        )
        try:
            sub.offer(feed.message())  # data at once, then at the interval
        except MaicraftError as exc:
            sub.offer(error_message(exc.code, exc.message))
        feed.subscribe(sub, interval)

    async def unsubscribe(sub: Subscriber, _message: dict[str, Any]) -> None:
        feed.unsubscribe(sub)
        sub.offer({"type": "unsubscribed", "message": f"已取消订阅 {feed.kind} 数据", "timestamp": now_ms()})

    await serve_socket(
        ws,
        heartbeat=_heartbeat(bot),
        handlers={"subscribe": subscribe, "unsubscribe": unsubscribe},
        queue_size=bot.settings.ws_queue_size,
        welcome=f"已连接到 {feed.kind} 数据服务",
        on_close=feed.unsubscribe,
    )


@router.websocket("/ws/game/player")
async def player_socket(ws: WebSocket, bot: CurrentBot) -> None:
    await _game_socket(ws, bot, bot.player_feed)


@router.websocket("/ws/game/world")
async def world_socket(ws: WebSocket, bot: CurrentBot) -> None:
    await _game_socket(ws, bot, bot.world_feed)


@router.websocket("/ws/game/marker")
async def marker_socket(ws: WebSocket, bot: CurrentBot) -> None:
    await _game_socket(ws, bot, bot.marker_feed)


# -- /ws/tasks ------------------------------------------------------------------------------------------


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if value is None:
        return ""
    return str(value)


async def _task_op(operation: str, action: Any) -> Any:
    try:
        return await action
    except ValidationFailed:
        raise
    except MaicraftError as exc:
        raise OperationFailed(f"{operation}失败: {exc.message}") from exc


@router.websocket("/ws/tasks")
async def tasks_socket(ws: WebSocket, bot: CurrentBot) -> None:
    def reply(sub: Subscriber, kind: str, message: str, data: dict[str, Any]) -> None:
        sub.offer({"type": kind, "message": message, "data": data, "timestamp": now_ms()})

    def task_id(message: dict[str, Any]) -> str:
        value = _text(message, "task_id").strip()
        if not value:
            raise ValidationFailed("任务ID不能为空")
        return value

    async def subscribe(sub: Subscriber, message: dict[str, Any]) -> None:
        interval = interval_of(message, default=5000, low=1000, high=30000)
        bot.tasks_feed.add(sub)
        sub.offer(
            {
                "type": "subscribed",
                "message": "已订阅任务数据更新",
                "subscription": {"type": "tasks", "update_interval": interval},
                "timestamp": now_ms(),
            }
        )
        sub.offer({"type": "tasks_update", "timestamp": now_ms(), "data": await bot.task_overview()})

    async def unsubscribe(sub: Subscriber, _message: dict[str, Any]) -> None:
        bot.tasks_feed.remove(sub)
        sub.offer({"type": "unsubscribed", "message": "已取消订阅任务数据", "timestamp": now_ms()})

    async def get_tasks(sub: Subscriber, _message: dict[str, Any]) -> None:
        reply(sub, "tasks_list", "任务列表获取成功", await _task_op("获取任务列表", bot.task_overview()))

    async def add_task(sub: Subscriber, message: dict[str, Any]) -> None:
        task = await _task_op(
            "添加任务", bot.add_task(_text(message, "details"), _text(message, "done_criteria"))
        )
        data = task.wire()
        data["task_id"] = data.pop("id")
        reply(sub, "task_added", "任务添加成功", data)
        await bot.push_tasks(exclude=sub)

    async def update_task(sub: Subscriber, message: dict[str, Any]) -> None:
        tid, progress = task_id(message), _text(message, "progress")
        await _task_op("更新任务", bot.repo.update_task(tid, progress))
        reply(sub, "task_updated", "任务更新成功", {"task_id": tid, "progress": progress})
        await bot.push_tasks(exclude=sub)

    async def delete_task(sub: Subscriber, message: dict[str, Any]) -> None:
        tid = task_id(message)
        await _task_op("删除任务", bot.repo.delete_task(tid))
        reply(sub, "task_deleted", "任务删除成功", {"task_id": tid})
        await bot.push_tasks(exclude=sub)

    async def mark_done(sub: Subscriber, message: dict[str, Any]) -> None:
        tid = task_id(message)
        await _task_op("标记任务完成", bot.repo.mark_done(tid))
        reply(sub, "task_marked_done", "任务标记完成成功", {"task_id": tid})
        await bot.push_tasks(exclude=sub)

    await serve_socket(
        ws,
        heartbeat=_heartbeat(bot),
        handlers={
            "subscribe": subscribe,
            "unsubscribe": unsubscribe,
            "get_tasks": get_tasks,
            "add_task": add_task,
            "update_task": update_task,
            "delete_task": delete_task,
            "mark_done": mark_done,
        },
        queue_size=bot.settings.ws_queue_size,
        welcome="已连接到任务服务",
        on_close=bot.tasks_feed.remove,
    )


# -- /ws/token-usage ------------------------------------------------------------------------------------


@router.websocket("/ws/token-usage")
async def token_socket(ws: WebSocket, bot: CurrentBot) -> None:
    async def subscribe(sub: Subscriber, message: dict[str, Any]) -> None:
        interval = interval_of(message, default=0, low=0, high=2**31 - 1)
        model_filter = message.get("model_filter")
        if model_filter is not None and not isinstance(model_filter, str):
            raise SocketError(SUBSCRIPTION_ERROR, "model_filter 必须是字符串或null")
        bot.token_feed.add(sub, model_filter)
        sub.offer(
            {
                "type": "subscribed",
                "message": "已订阅Token使用量更新",
                "subscription": {
                    "type": "token_usage",
                    "update_interval": interval,
                    "model_filter": model_filter,
                },
                "timestamp": now_ms(),
            }
        )

    async def unsubscribe(sub: Subscriber, _message: dict[str, Any]) -> None:
        bot.token_feed.remove(sub)
        sub.offer({"type": "unsubscribed", "message": "已取消订阅Token使用量", "timestamp": now_ms()})

    async def get_usage(sub: Subscriber, message: dict[str, Any]) -> None:
        usages = await bot.repo.usages()
        name = message.get("model_name")
        wanted = message.get("model_filter")
        if isinstance(name, str) and name:
            match = next((u for u in usages if u.model_name == name), None)
            data: dict[str, Any] = {"model_name": name, "usage": match.wire() if match else None}
        else:
            chosen = [
                u
                for u in usages
                if u.total_calls > 0 and (not isinstance(wanted, str) or not wanted or wanted in u.model_name)
            ]
            data = {"models": {u.model_name: u.wire() for u in chosen}, "summary": usage_summary(usages)}
        sub.offer({"type": "token_usage_update", "timestamp": now_ms(), "data": data})

    await serve_socket(
        ws,
        heartbeat=_heartbeat(bot, "silence", welcome_config=False),
        handlers={"subscribe": subscribe, "unsubscribe": unsubscribe, "get_usage": get_usage},
        queue_size=bot.settings.ws_queue_size,
        welcome="已连接到Token使用量服务",
        on_close=bot.token_feed.remove,
    )
