"""The device side of the distributed task system (seed 001): an async Socket.IO client.

async with DeviceClient("http://127.0.0.1:1888", device_id="android_001") as device:
    @device.task("DELIST")
    async def delist(task: Task) -> dict[str, Any]:
        await task.progress(50, "half way")
        return {"processed_count": len(task.data["product_ids"])}

    await device.run_forever()
"""

from agenthub.sdk.devices.client import DeviceClient, Task, TaskHandler

__all__ = ["DeviceClient", "Task", "TaskHandler"]
