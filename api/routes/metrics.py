"""`/metrics` (Prometheus text format): runs by status, queue depth, open escalations,
open SSE streams. Read from the database at scrape time, so every process reports the
shared queue; SSE streams are this process's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api import escalations
from api.deps import Rt, Viewer
from api.runs.store import count_by_status

router = APIRouter(tags=["metrics"])


class _ApiCollector(Collector):
    def __init__(self, rt: Any) -> None:
        self.rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.rt.db.session() as session:
            by_status = count_by_status(session)
            open_escalations = escalations.count_open(session)
        runs = GaugeMetricFamily("fde_runs", "runs by status", labels=["status"])
        for status in ("pending", "running", "success", "error", "interrupted", "timeout"):
            runs.add_metric([status], by_status.get(status, 0))
        yield runs
        yield GaugeMetricFamily("fde_run_queue_depth", "runs waiting for a worker",
                                value=by_status.get("pending", 0))
        yield GaugeMetricFamily("fde_escalations_open", "escalations not yet decided",
                                value=open_escalations)
        yield GaugeMetricFamily("fde_sse_clients", "open SSE streams in this process",
                                value=self.rt.hub.clients)
        busy = self.rt.pool.busy if self.rt.pool is not None else 0
        yield GaugeMetricFamily("fde_workers_busy", "workers of this process running a run",
                                value=busy)


def _registry(rt: Any) -> CollectorRegistry:
    registry = rt.metrics_registry
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_ApiCollector(rt))
        rt.metrics_registry = registry
    return registry


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
def metrics(rt: Rt, _: Viewer) -> Response:
    return Response(generate_latest(_registry(rt)), media_type="text/plain; version=0.0.4")
