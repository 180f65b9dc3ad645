"""`GET /metrics`: Prometheus' text format, the recorded metrics and the scheduler's state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pollama import metrics
from pollama.api.deps import get_scheduler

router = APIRouter()


class SchedulerGauges(Collector):
    """Queue depth and, per loaded model, busy and total slots and queued requests."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily("pollama_queue_depth", "Requests waiting for a runner")
        depth.add_metric([], self.scheduler.queue_depth)
        labels = ["model"]
        busy = GaugeMetricFamily("pollama_slots_busy", "Slots serving a request", labels=labels)
        slots = GaugeMetricFamily("pollama_slots", "Slots of each loaded model", labels=labels)
        waiting = GaugeMetricFamily(
            "pollama_requests_waiting", "Requests queued for a model", labels=labels
        )
        loaded = GaugeMetricFamily("pollama_models_loaded", "Runners loaded")
        models = self.scheduler.loaded()
        loaded.add_metric([], len(models))
        for model in models:
            name = [model.spec.name]
            busy.add_metric(name, model.running)
            slots.add_metric(name, model.spec.options.num_parallel)
            waiting.add_metric(name, model.waiting)
        return [depth, busy, slots, waiting, loaded]


@router.get("/metrics")
async def get_metrics(scheduler: Annotated[Any, Depends(get_scheduler)]) -> Response:
    """Every metric, in Prometheus' text exposition format."""
    live = CollectorRegistry()
    live.register(SchedulerGauges(scheduler))
    return Response(metrics.exposition() + generate_latest(live), media_type=CONTENT_TYPE_LATEST)
