"""What ``paretohqd serve`` counts, in Prometheus' text format at ``/metrics``: requests by
outcome, prompt and completion tokens, request latency, the queue and the running batch, and
the adapter cache's hits and misses."""

from __future__ import annotations

from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250)
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class _Live(Collector):
    """Values read when scraped: the queue, the batch, the adapter cache."""

    def __init__(self, read: Callable[[], dict[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator:
        now = self.read()
        yield GaugeMetricFamily("paretohqd_queue_depth", "requests waiting for a batch",
                                value=now["queue_depth"])
        yield GaugeMetricFamily("paretohqd_batch_rows", "answers being drawn in the batch",
                                value=now["batch_rows"])
        yield GaugeMetricFamily("paretohqd_adapters_held", "trained adapters held by the server",
                                value=now["size"])
        yield CounterMetricFamily("paretohqd_adapter_cache_hits", "trained adapters a "
                                  "request needed that were held", value=now["hits"])
        yield CounterMetricFamily("paretohqd_adapter_cache_misses", "trained adapters "
                                  "loaded", value=now["misses"])


class ServerMetrics:
    """The server's counters, in a registry of their own."""

    def __init__(self, live: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("paretohqd_requests", "chat completion requests by outcome",
                                ["status"], registry=self.registry)
        self.prompt_tokens = Counter("paretohqd_prompt_tokens", "prompt tokens read",
                                     registry=self.registry)
        self.completion_tokens = Counter("paretohqd_completion_tokens",
                                         "completion tokens drawn", registry=self.registry)
        self.latency = Histogram("paretohqd_request_seconds", "time from a request's arrival "
                                 "to its last answer token", buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.batch_rows = Histogram("paretohqd_batch_rows_per_step", "answers drawn together "
                                    "in one step of the model", buckets=ROW_BUCKETS,
                                    registry=self.registry)
        self.registry.register(_Live(live))

    def text(self) -> bytes:
        """Everything, in Prometheus' text exposition format."""
        return generate_latest(self.registry)
