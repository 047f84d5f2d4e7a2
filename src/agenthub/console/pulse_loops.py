"""The console's background loops: counting finished jobs from the bus, and sampling queue depths."""

from __future__ import annotations

from agenthub.console.service import ConsoleService
from agenthub.server.loops import Loop


def loops(console: ConsoleService) -> list[Loop]:
    async def count_finished() -> None:
        async with console.runtime.bus.subscribe(*console.channels()) as subscription:
            async for _channel, message in subscription:
                console.pulse.job_event(console.protocol_of_job(message["kind"]), message["status"])

    return [
        Loop("console-throughput", 1.0, count_finished),  # runs until cancelled; restarts after an error
        Loop("console-sample", console.settings.sample_seconds, console.sample),
    ]
