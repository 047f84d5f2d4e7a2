"""One answer shape for the operator and user routes, read by two kinds of client.

The original oasbackend answers with the payload at the top level (`{"items", "total", "summary"}`) and
its web frontend reads those keys; the seed and our documented clients read `{"data": {...}}`.
`OasResponse` (the app's default response class) serves both: a body `{"data": {...}}` goes out with the
payload's keys also at the top level (keys already at the top level win). Agent and scan routes keep the
seed's exact shapes (`SeedResponse`): the seed fixes them and every client of theirs reads `data`.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def both_shapes(content: Any) -> Any:
    if isinstance(content, dict) and isinstance(content.get("data"), dict):
        return {**content["data"], **content}
    return content


class OasResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return super().render(both_shapes(content))


SeedResponse = JSONResponse
