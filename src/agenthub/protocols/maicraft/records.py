"""What the repository hands back: locations, to-do tasks, token usage, and their wire shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Location:
    name: str
    info: str
    x: int
    y: int
    z: int
    visit_count: int
    created_at: datetime

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "info": self.info,
            "position": {"x": self.x, "y": self.y, "z": self.z},
            "created_time": int(self.created_at.timestamp() * 1000),
            "visit_count": self.visit_count,
        }


@dataclass(frozen=True, slots=True)
class Task:
    task_id: int
    details: str
    done_criteria: str
    progress: str
    done: bool

    def wire(self) -> dict[str, Any]:
        return {
            "id": str(self.task_id),
            "details": self.details,
            "done_criteria": self.done_criteria,
            "progress": self.progress,
            "done": self.done,
        }


@dataclass(frozen=True, slots=True)
class TokenUsage:
    model_name: str
    total_prompt_tokens: int
    total_completion_tokens: int
    total_calls: int
    total_cost: float
    first_call_time: float
    last_call_time: float
    last_updated: float

    def wire(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "total_prompt_tokens": self.total_prompt_tokens,
            "total_completion_tokens": self.total_completion_tokens,
            "total_tokens": self.total_prompt_tokens + self.total_completion_tokens,
            "total_calls": self.total_calls,
            "total_cost": round(self.total_cost, 6),
            "first_call_time": self.first_call_time,
            "last_call_time": self.last_call_time,
            "last_updated": self.last_updated,
        }


def usage_summary(usages: list[TokenUsage]) -> dict[str, Any]:
    prompt = sum(u.total_prompt_tokens for u in usages)
    completion = sum(u.total_completion_tokens for u in usages)
    return {
        "total_cost": round(sum(u.total_cost for u in usages), 6),
        "total_prompt_tokens": prompt,
        "total_completion_tokens": completion,
        "total_tokens": prompt + completion,
        "total_calls": sum(u.total_calls for u in usages),
        "model_count": len(usages),
    }


def tasks_overview(tasks: list[Task], goal: str) -> dict[str, Any]:
    completed = sum(1 for t in tasks if t.done)
    return {
        "tasks": [t.wire() for t in tasks],
        "total": len(tasks),
        "completed": completed,
        "pending": len(tasks) - completed,
        "goal": goal,
        "is_done": bool(tasks) and completed == len(tasks),
    }
