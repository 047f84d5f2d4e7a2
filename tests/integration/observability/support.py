"""Reading `/metrics` the way Prometheus does: the text format, parsed by prometheus_client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from agenthub.server.metrics import metrics_app
from agenthub.server.runtime import Runtime

Samples = dict[str, list[tuple[dict[str, str], float]]]


async def scrape(runtime: Runtime) -> Samples:
    """GET /metrics of the runtime; every sample by name, with its labels."""
    transport = httpx.ASGITransport(app=metrics_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include these (0 when there is none, as Prometheus reads it)."""
    found = [v for got, v in samples.get(name, []) if all(got.get(k) == w for k, w in labels.items())]
    assert len(found) <= 1, f"{name} {labels}: {len(found)} samples"
    return found[0] if found else 0.0
