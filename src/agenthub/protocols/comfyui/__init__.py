"""Seed 003: the ComfyUI agent platform (scoped tokens, manifests, task events, heartbeats, alerts),
port 8099."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agenthub.server.loops import Loop
    from agenthub.server.protocol import ProtocolSpec
    from agenthub.server.runtime import Runtime


async def _on_start(runtime: Runtime) -> None:
    from agenthub.protocols.comfyui.context import open_context
    from agenthub.protocols.comfyui.repository import TASK_KIND
    from agenthub.protocols.comfyui.service import task_policy

    # Refuses to start in production with AGENT_DEBUG_TOKENS set, or without keys.
    await open_context(runtime)
    runtime.engine.register_kind(TASK_KIND, task_policy(runtime.settings.comfyui))


async def _on_stop(runtime: Runtime) -> None:
    from agenthub.protocols.comfyui.context import EXTRA_KEY, ComfyuiContext

    context = runtime.extras.pop(EXTRA_KEY, None)
    if isinstance(context, ComfyuiContext):
        await context.close()


def _loops(runtime: Runtime) -> list[Loop]:
    from agenthub.protocols.comfyui.context import context_of
    from agenthub.server.loops import Loop

    context = context_of(runtime)
    return [Loop("comfyui-push", context.settings.push_interval_seconds, context.tasks.push_due)]


def spec() -> ProtocolSpec:
    from agenthub.protocols.comfyui.app import create_app
    from agenthub.server.protocol import ProtocolSpec

    return ProtocolSpec(
        name="comfyui",
        port=lambda settings: settings.comfyui.port,
        create_app=create_app,
        loops=_loops,
        on_start=_on_start,
        on_stop=_on_stop,
    )
