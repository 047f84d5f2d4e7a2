"""A small, deterministic fuzzer driven by a protocol's own OpenAPI schema: for every operation it sends
requests with hostile path, query and body values (integers beyond 64 bits, NUL characters, NaN, deep
nesting, wrong types, invalid JSON, huge strings) and checks that the server never answers 5xx and always
answers errors in the protocol's own format. Seeded, and bounded by a count per operation."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

HOSTILE_SCALARS: list[Any] = [
    9223372036854775808,
    -9223372036854775809,
    2**200,
    -1,
    0,
    "a\x00b",
    "\x00",
    "",
    "x" * 5000,
    "' OR 1=1 --",
    "../../etc/passwd",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 测试 \u202e",
    True,
    None,
    1.5,
    1e308,
    [],
    {},
]
HOSTILE_PATH = [
    "9223372036854775808",
    "99999999999999999999",
    "-1",
    "0",
    "%00",
    "a%00b",
    "%F0%9F%98%80",
    "x" * 300,
]
RAW_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000,
]


@dataclass
class FuzzRequest:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None

    def describe(self) -> str:
        body = (self.content or b"")[:120]
        return f"{self.method} {self.path} params={self.params} body={body!r}"


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in sorted(schema.get("paths", {}).items()):
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def _resolve(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema.get("components", {}).get("schemas", {}).get(name, {})
    return node


def _body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation.get("requestBody", {}).get("content", {})
    body = _resolve(schema, content.get("application/json", {}).get("schema", {}))
    return dict(body.get("properties", {})) if isinstance(body, dict) else {}


def _plausible(prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(str(kind), "x")


def hostile_requests(schema: dict[str, Any], *, seed: int, per_operation: int) -> Iterator[FuzzRequest]:
    rng = random.Random(seed)
    for method, path, operation in operations(schema):
        names = re.findall(r"{([^}]+)}", path)
        query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        fields = _body_fields(schema, operation)
        for i in range(per_operation):
            concrete = path
            for name in names:
                value = rng.choice(HOSTILE_PATH) if rng.random() < 0.7 else "1"
                concrete = concrete.replace("{" + name + "}", value if "%" in value else quote(value))
            params = {name: str(rng.choice(HOSTILE_SCALARS)) for name in query if rng.random() < 0.6}
            content: bytes | None = None
            if method in ("POST", "PUT", "PATCH"):
                if i % 4 == 3:
                    content = rng.choice(RAW_BODIES)
                else:
                    body = {name: _plausible(_resolve(schema, prop)) for name, prop in fields.items()}
                    for name in fields:
                        if rng.random() < 0.5:
                            body[name] = rng.choice(HOSTILE_SCALARS)
                    content = json.dumps(body, allow_nan=True).encode()
            yield FuzzRequest(method, concrete, params, content)


async def fuzz(
    http: httpx.AsyncClient,
    schema: dict[str, Any],
    *,
    check_error: Callable[[httpx.Response], None],
    seed: int = 20261124,
    per_operation: int = 12,
    skip: Callable[[str, str], bool] = lambda method, path: False,
    allowed_5xx: frozenset[int] | set[int] = frozenset(),
) -> int:
    """Sends the requests; raises AssertionError naming the first request answered 5xx or off-format."""
    sent = 0
    for request in hostile_requests(schema, seed=seed, per_operation=per_operation):
        if skip(request.method, request.path):
            continue
        response = await http.request(
            request.method,
            request.path,
            params=request.params,
            content=request.content,
            headers={"content-type": "application/json"} if request.content is not None else {},
        )
        sent += 1
        assert response.status_code < 500 or response.status_code in allowed_5xx, (
            f"{response.status_code} for {request.describe()}: {response.text}"
        )
        if response.status_code >= 400:
            try:
                check_error(response)
            except AssertionError as exc:
                raise AssertionError(f"off-format error for {request.describe()}: {exc}") from exc
    return sent
