"""The manager's daily operations: duiyi_jingcai answers per Beijing day and window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agenthub.protocols.oas import schedule_rules as rules
from agenthub.protocols.oas.context import Oas
from agenthub.protocols.oas.errors import OasError
from agenthub.protocols.oas.security import CurrentManager
from agenthub.protocols.oas.user_configs import DuiyiAnswersIn

DATE = Query(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


router = APIRouter(prefix="/api/v1/manager")


@router.get("/duiyi-answers")
async def answers(manager: CurrentManager, oas: Oas, date: str | None = DATE) -> dict[str, Any]:
    day = date or rules.beijing_day(oas.now()).isoformat()
    stored = await oas.duiyi.answers(manager_id=manager.subject_id, day=day)
    return {"data": _view(oas, day, stored)}


@router.put("/duiyi-answers")
async def put_answers(body: DuiyiAnswersIn, manager: CurrentManager, oas: Oas) -> dict[str, Any]:
    day = body.date or rules.beijing_day(oas.now()).isoformat()
    for window, answer in body.answers.items():
        if window not in rules.DUIYI_WINDOWS:
            raise OasError(400, f"无效的时间窗口: {window}")
        if answer not in rules.DUIYI_ANSWERS:
            raise OasError(400, f"答案只能是 左 或 右: {window}={answer}")
    stored = await oas.duiyi.answers(manager_id=manager.subject_id, day=day)
    merged = {**stored, **body.answers}
    await oas.duiyi.set_answers(manager_id=manager.subject_id, day=day, answers=merged, now=oas.now())
    return {"data": _view(oas, day, merged)}


def _view(oas: Oas, day: str, answers: dict[str, str]) -> dict[str, Any]:
    return {
        "date": day,
        "answers": answers,
        "windows": list(rules.DUIYI_WINDOWS),
        "current_window": rules.duiyi_window(oas.now()),
    }
