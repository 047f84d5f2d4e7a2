"""What the bot has seen, kept in memory like the original: blocks by position, and containers (chests,
furnaces) found among them, with the contents last read through the chest/furnace tools."""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Pos = tuple[int, int, int]
AIR = "air"
CHESTS = frozenset({"chest", "trapped_chest", "barrel"})
FURNACES = frozenset({"furnace", "blast_furnace", "smoker"})


def container_type(block: str) -> str | None:
    if block in CHESTS:
        return "chest"
    if block in FURNACES:
        return "furnace"
    return None


def position(p: Pos) -> dict[str, int]:
    return {"x": p[0], "y": p[1], "z": p[2]}


@dataclass(slots=True)
class CachedBlock:
    type: str
    name: str
    can_see: bool
    first_seen: datetime
    last_updated: datetime
    update_count: int = 1

    def wire(self, pos: Pos, distance: float = 0.0) -> dict[str, Any]:
        return {
            "position": position(pos),
            "type": self.type,
            "name": self.name,
            "last_updated": self.last_updated.isoformat().replace("+00:00", "Z"),
            "update_count": self.update_count,
            "distance": round(distance, 2),
        }


class BlockCache:
    def __init__(self) -> None:
        self.blocks: dict[Pos, CachedBlock] = {}

    def see(self, pos: Pos, block_type: str, name: str, can_see: bool, now: datetime) -> None:
        cached = self.blocks.get(pos)
        if cached is None:
            self.blocks[pos] = CachedBlock(block_type, name, can_see, now, now)
            return
        cached.type, cached.name, cached.can_see = block_type, name, can_see
        cached.last_updated = now
        cached.update_count += 1

    def see_area(self, blocks: list[dict[str, Any]], box: tuple[Pos, Pos]) -> None:
        """Records an area query: every returned block, and air at every position of the box it left out."""
        now = datetime.now(UTC)
        seen: set[Pos] = set()
        for b in blocks:
            pos = (int(b["x"]), int(b["y"]), int(b["z"]))
            seen.add(pos)
            self.see(pos, str(b["name"]), str(b.get("displayName") or b["name"]), bool(b.get("canSee")), now)
        (x0, y0, z0), (x1, y1, z1) = box
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                for z in range(z0, z1 + 1):
                    if (x, y, z) not in seen:
                        self.see((x, y, z), AIR, AIR, False, now)

    def solid(self) -> dict[Pos, CachedBlock]:
        return {p: b for p, b in self.blocks.items() if b.type != AIR}

    def region(self, x: float, z: float, radius: int) -> list[dict[str, Any]]:
        found = [
            (math.hypot(p[0] - x, p[2] - z), p, b)
            for p, b in self.solid().items()
            if math.hypot(p[0] - x, p[2] - z) <= radius
        ]
        found.sort(key=lambda item: (item[0], item[1]))
        return [b.wire(p, d) for d, p, b in found]

    def search(self, term: str, limit: int) -> list[dict[str, Any]]:
        term = term.lower()
        hits = [
            b.wire(p)
            for p, b in sorted(self.solid().items())
            if term in b.type.lower() or term in b.name.lower()
        ]
        return hits[:limit]

    def types(self) -> list[dict[str, Any]]:
        counts: Counter[str] = Counter()
        names: dict[str, set[str]] = {}
        for b in self.solid().values():
            counts[b.type] += 1
            names.setdefault(b.type, set()).add(b.name)
        return [{"type": t, "count": c, "names": sorted(names[t])} for t, c in counts.most_common()]

    def nearby(self, center: tuple[float, float, float], within: float, limit: int) -> list[dict[str, Any]]:
        found = []
        for p, b in self.solid().items():
            d = math.dist((p[0], p[1], p[2]), center)
            if d <= within:
                found.append((d, p, b))
        found.sort(key=lambda item: (item[0], item[1]))
        return [
            {"name": b.type, "position": position(p), "distance": round(d, 2)} for d, p, b in found[:limit]
        ]

    def memory_mb(self) -> float:
        per_block = sys.getsizeof(CachedBlock("stone", "Stone", False, datetime.now(UTC), datetime.now(UTC)))
        return round(len(self.blocks) * (per_block + 120) / 1_048_576, 4)

    def clear(self) -> int:
        count = len(self.blocks)
        self.blocks.clear()
        return count


@dataclass(slots=True)
class Container:
    type: str
    block: str
    inventory: dict[str, int] = field(default_factory=dict)
    verified: bool = True
    furnace_slots: dict[str, Any] | None = None

    def wire(self, pos: Pos) -> dict[str, Any]:
        body: dict[str, Any] = {
            "position": position(pos),
            "type": self.type,
            "inventory": dict(self.inventory),
            "verified": self.verified,
        }
        if self.furnace_slots is not None:
            body["furnace_slots"] = self.furnace_slots
        return body


class ContainerCache:
    def __init__(self) -> None:
        self.containers: dict[Pos, Container] = {}

    def see_blocks(self, blocks: list[dict[str, Any]]) -> None:
        for b in blocks:
            kind = container_type(str(b["name"]))
            if kind is None:
                continue
            pos = (int(b["x"]), int(b["y"]), int(b["z"]))
            known = self.containers.get(pos)
            if known is None or known.block != b["name"]:
                self.containers[pos] = Container(kind, str(b["name"]))
            else:
                known.verified = True

    def forget_missing(self, blocks: list[dict[str, Any]], box: tuple[Pos, Pos]) -> None:
        """A cached container inside a freshly scanned box that the scan no longer shows is gone."""
        present = {(int(b["x"]), int(b["y"]), int(b["z"])) for b in blocks if container_type(str(b["name"]))}
        (x0, y0, z0), (x1, y1, z1) = box
        for pos in list(self.containers):
            inside = x0 <= pos[0] <= x1 and y0 <= pos[1] <= y1 and z0 <= pos[2] <= z1
            if inside and pos not in present:
                self.containers[pos].verified = False

    def within(self, kind: str, center: tuple[float, float, float], radius: float) -> list[dict[str, Any]]:
        return [
            c.wire(p)
            for p, c in sorted(self.containers.items())
            if (kind == "all" or c.type == kind) and math.dist(p, center) <= radius
        ]

    def stats(self) -> dict[str, Any]:
        values = list(self.containers.values())
        return {
            "total_containers": len(values),
            "chest_count": sum(1 for c in values if c.type == "chest"),
            "furnace_count": sum(1 for c in values if c.type == "furnace"),
            "total_items": sum(sum(c.inventory.values()) for c in values),
            "cache_info": {"verified": sum(1 for c in values if c.verified)},
        }
