"""The one answer shape of the Oas operator and user routes: the payload under `data` and at the top level."""

from __future__ import annotations

import json

from agenthub.protocols.oas.envelope import OasResponse, both_shapes


def test_the_payload_keys_also_go_to_the_top_level() -> None:
    body = {"data": {"items": [1], "total": 1}}
    assert both_shapes(body) == {"items": [1], "total": 1, "data": {"items": [1], "total": 1}}


def test_keys_already_at_the_top_level_win() -> None:
    assert both_shapes({"token": "t", "data": {"token": "other", "x": 1}})["token"] == "t"


def test_other_bodies_pass_unchanged() -> None:
    for body in ({"token": "t"}, {"data": [1, 2]}, [1], {"detail": "错误"}, None):
        assert both_shapes(body) == body


def test_the_response_class_renders_both() -> None:
    rendered = json.loads(OasResponse({"data": {"account_no": "A1"}}, status_code=201).body)
    assert rendered == {"account_no": "A1", "data": {"account_no": "A1"}}
