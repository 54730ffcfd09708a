"""Embedded Metric Format records -> Prometheus samples.

The functions print one EMF record per request (metrics Requests, Duration, ResponseSize
with dimensions service/route/method/status) and Powertools prints one more on a cold
start (ColdStart with dimensions function_name/service). ``MetricStore`` folds those
records into Prometheus counters and histograms; it keeps raw totals (bucket counts,
sums) so its whole state can be saved beside the log cursor and restored after a restart.
"""

import bisect
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

REQUEST_LABELS = ("service", "method", "route", "status")
LATENCY_LABELS = ("service", "method", "route")
COLD_START_LABELS = ("service", "function_name")

DURATION_BUCKETS_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RESPONSE_SIZE_BUCKETS_BYTES = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000)

SECONDS_PER_UNIT = {"Seconds": 1.0, "Milliseconds": 1e-3, "Microseconds": 1e-6}
BYTES_PER_UNIT = {"Bytes": 1.0, "Kilobytes": 1024.0, "Megabytes": 1024.0**2, "Gigabytes": 1024.0**3}


@dataclass(frozen=True)
class EmfMetric:
    name: str
    unit: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class EmfRecord:
    namespace: str
    timestamp_ms: int
    dimensions: dict[str, str]
    metrics: dict[str, EmfMetric]

    def first_value(self, name: str) -> float | None:
        metric = self.metrics.get(name)
        return metric.values[0] if metric and metric.values else None


def parse_emf(message: str) -> EmfRecord | None:
    """The EMF record in a log line, or None when the line is anything else."""
    if not message.startswith("{") or '"_aws"' not in message:
        return None
    try:
        document = json.loads(message)
        directives = document["_aws"]["CloudWatchMetrics"]
        timestamp_ms = int(document["_aws"]["Timestamp"])
    except (ValueError, KeyError, TypeError):
        return None
    dimension_names: list[str] = []
    metrics: dict[str, EmfMetric] = {}
    namespace = ""
    for directive in directives:
        namespace = directive.get("Namespace", namespace)
        for dimension_set in directive.get("Dimensions", []):
            dimension_names.extend(name for name in dimension_set if name not in dimension_names)
        for definition in directive.get("Metrics", []):
            name = definition["Name"]
            raw = document.get(name)
            values = raw if isinstance(raw, list) else [raw]
            numbers = tuple(
                float(value) for value in values if isinstance(value, (int, float)) and math.isfinite(value)
            )
            metrics[name] = EmfMetric(name=name, unit=definition.get("Unit", "None"), values=numbers)
    dimensions = {name: str(document[name]) for name in dimension_names if name in document}
    return EmfRecord(namespace=namespace, timestamp_ms=timestamp_ms, dimensions=dimensions, metrics=metrics)


@dataclass(frozen=True)
class RequestInterval:
    """When one request ran (epoch seconds), as its record tells: it ends at the record's timestamp."""

    service: str
    started: float
    ended: float


def request_interval(record: EmfRecord) -> RequestInterval | None:
    duration = record.metrics.get("Duration")
    if duration is None or not duration.values or "service" not in record.dimensions:
        return None
    ended = record.timestamp_ms / 1000
    seconds = duration.values[0] * SECONDS_PER_UNIT.get(duration.unit, 1e-3)
    return RequestInterval(service=record.dimensions["service"], started=ended - seconds, ended=ended)


@dataclass
class HistogramState:
    """Per-bucket (non-cumulative) counts, the last one being +Inf, and the sum of observations."""

    bucket_counts: list[int]
    total: float = 0.0

    def observe(self, bounds: tuple[float, ...], value: float) -> None:
        self.bucket_counts[bisect.bisect_left(bounds, value)] += 1
        self.total += value

    def cumulative(self, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
        running, buckets = 0, []
        for bound, count in zip([*bounds, math.inf], self.bucket_counts, strict=False):
            running += count
            buckets.append((floatToGoString(bound), running))
        return buckets


STORE_FAILURE_METRICS = ("LimitStoreUnavailable", "SessionStoreUnavailable")


@dataclass
class MetricStore:
    """Counters and histograms built from EMF records, restorable from ``snapshot()``."""

    namespace: str = "EduPlatform"
    requests: dict[tuple[str, ...], float] = field(default_factory=dict)
    durations: dict[tuple[str, ...], HistogramState] = field(default_factory=dict)
    response_sizes: dict[tuple[str, ...], HistogramState] = field(default_factory=dict)
    cold_starts: dict[tuple[str, ...], float] = field(default_factory=dict)
    read_model_fallbacks: dict[tuple[str, ...], float] = field(default_factory=dict)
    # LimitStoreUnavailable and SessionStoreUnavailable: answers the limit store (Redis) failed to give.
    store_failures: dict[tuple[str, ...], float] = field(default_factory=dict)
    records_ingested: int = 0

    def add(self, record: EmfRecord) -> bool:
        """Fold one record in; False (and nothing counted) when it is not one of ours."""
        if record.namespace != self.namespace:
            return False
        dimensions = record.dimensions
        known = False
        if "Requests" in record.metrics:
            labels = tuple(dimensions.get(name, "") for name in REQUEST_LABELS)
            self.requests[labels] = self.requests.get(labels, 0.0) + sum(record.metrics["Requests"].values)
            known = True
        latency_labels = tuple(dimensions.get(name, "") for name in LATENCY_LABELS)
        if "Duration" in record.metrics:
            metric = record.metrics["Duration"]
            self._observe(
                self.durations,
                DURATION_BUCKETS_SECONDS,
                latency_labels,
                [value * SECONDS_PER_UNIT.get(metric.unit, 1e-3) for value in metric.values],
            )
            known = True
        if "ResponseSize" in record.metrics:
            metric = record.metrics["ResponseSize"]
            self._observe(
                self.response_sizes,
                RESPONSE_SIZE_BUCKETS_BYTES,
                latency_labels,
                [value * BYTES_PER_UNIT.get(metric.unit, 1.0) for value in metric.values],
            )
            known = True
        if "ReadModelFallbacks" in record.metrics:
            labels = tuple(dimensions.get(name, "") for name in LATENCY_LABELS)
            self.read_model_fallbacks[labels] = self.read_model_fallbacks.get(labels, 0.0) + sum(
                record.metrics["ReadModelFallbacks"].values
            )
            known = True
        for name in STORE_FAILURE_METRICS:
            if name in record.metrics:
                labels = tuple(dimensions.get(label, "") for label in LATENCY_LABELS)
                self.store_failures[labels] = self.store_failures.get(labels, 0.0) + sum(record.metrics[name].values)
                known = True
        if "ColdStart" in record.metrics:
            labels = tuple(dimensions.get(name, "") for name in COLD_START_LABELS)
            self.cold_starts[labels] = self.cold_starts.get(labels, 0.0) + sum(record.metrics["ColdStart"].values)
            known = True
        if known:
            self.records_ingested += 1
        return known

    @staticmethod
    def _observe(histograms: dict, bounds: tuple[float, ...], labels: tuple[str, ...], values: list[float]) -> None:
        state = histograms.setdefault(labels, HistogramState(bucket_counts=[0] * (len(bounds) + 1)))
        for value in values:
            state.observe(bounds, value)

    def services(self) -> set[str]:
        return {labels[0] for labels in self.requests}

    def families(self) -> Iterator[Metric]:
        yield self._counter_family(
            "http_requests_total",
            "HTTP requests handled, from the functions' EMF records",
            REQUEST_LABELS,
            self.requests,
        )
        yield self._histogram_family(
            "http_request_duration_seconds",
            "Handler time per request, from EMF Duration",
            self.durations,
            DURATION_BUCKETS_SECONDS,
        )
        yield self._histogram_family(
            "http_response_size_bytes",
            "Response body size, from EMF ResponseSize",
            self.response_sizes,
            RESPONSE_SIZE_BUCKETS_BYTES,
        )
        yield self._counter_family(
            "lambda_cold_starts_total",
            "Cold starts per function (Powertools ColdStart)",
            COLD_START_LABELS,
            self.cold_starts,
        )
        yield self._counter_family(
            "read_model_fallbacks_total",
            "Requests that asked another domain because a read model had not seen the thing yet",
            LATENCY_LABELS,
            self.read_model_fallbacks,
        )
        yield self._counter_family(
            "limit_store_failures_total",
            "Limit and session store (Redis) operations that failed: limits failed open, locks read from PostgreSQL",
            LATENCY_LABELS,
            self.store_failures,
        )

    @staticmethod
    def _counter_family(
        name: str, documentation: str, labels: tuple[str, ...], counts: dict[tuple[str, ...], float]
    ) -> CounterMetricFamily:
        family = CounterMetricFamily(name, documentation, labels=list(labels))
        for label_values, value in sorted(counts.items()):
            family.add_metric(list(label_values), value)
        return family

    @staticmethod
    def _histogram_family(
        name: str, documentation: str, histograms: dict, bounds: tuple[float, ...]
    ) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, documentation, labels=LATENCY_LABELS)
        for labels, state in sorted(histograms.items()):
            family.add_metric(list(labels), state.cumulative(bounds), sum_value=state.total)
        return family

    def snapshot(self) -> dict:
        def histograms(states: dict) -> list:
            return [[list(labels), state.bucket_counts, state.total] for labels, state in states.items()]

        return {
            "namespace": self.namespace,
            "requests": [[list(labels), value] for labels, value in self.requests.items()],
            "durations": histograms(self.durations),
            "response_sizes": histograms(self.response_sizes),
            "cold_starts": [[list(labels), value] for labels, value in self.cold_starts.items()],
            "read_model_fallbacks": [[list(labels), value] for labels, value in self.read_model_fallbacks.items()],
            "store_failures": [[list(labels), value] for labels, value in self.store_failures.items()],
            "records_ingested": self.records_ingested,
        }

    @classmethod
    def restore(cls, snapshot: dict) -> "MetricStore":
        def histograms(rows: list, bounds: tuple[float, ...]) -> dict:
            states = {}
            for labels, counts, total in rows:
                if len(counts) != len(bounds) + 1:
                    raise ValueError("saved histogram buckets differ from the current bucket layout")
                states[tuple(labels)] = HistogramState(bucket_counts=list(counts), total=total)
            return states

        return cls(
            namespace=snapshot["namespace"],
            requests={tuple(labels): value for labels, value in snapshot["requests"]},
            durations=histograms(snapshot["durations"], DURATION_BUCKETS_SECONDS),
            response_sizes=histograms(snapshot["response_sizes"], RESPONSE_SIZE_BUCKETS_BYTES),
            cold_starts={tuple(labels): value for labels, value in snapshot["cold_starts"]},
            read_model_fallbacks={tuple(labels): value for labels, value in snapshot.get("read_model_fallbacks", [])},
            store_failures={tuple(labels): value for labels, value in snapshot.get("store_failures", [])},
            records_ingested=snapshot["records_ingested"],
        )
