"""Run the cost model over published measurements (COSTMODEL.md §6) and score it.

Each case predicts the quantity the source measured: system output tokens/s, prefill ms,
decode ms per token, or request latency. Row 14 is excluded: its GPU count, precision and
lengths are not visible in the source (COSTMODEL.md §6, "Row 14 caveat").
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, replace
from functools import cache

from pipelines.costmodel.catalog import DATA_DIR
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import Efficiency
from pipelines.costmodel.throughput import ThroughputEstimate, estimate_throughput

MEASUREMENTS_PATH = DATA_DIR / "measurements.csv"
METRICS = ("output_tokens_per_s", "prefill_ms", "decode_ms_per_token", "request_latency_ms")


@dataclass(frozen=True)
class Measurement:
    """One published benchmark number and the setup that produced it."""

    case_id: str
    row: int
    source: str
    source_url: str
    deployment: Deployment
    concurrency: int | None  # None: offline "max" load
    input_tokens: int
    output_tokens: int
    metric: str
    measured: float
    note: str
    publisher: str = ""  # who published it: the unit of the fit / held-out split

    @property
    def hardware_class(self) -> str:
        return self.deployment.gpu_id


@dataclass(frozen=True)
class ValidationResult:
    """A measurement, the model's prediction of it, and the signed error in percent."""

    measurement: Measurement
    predicted: float

    @property
    def error_pct(self) -> float:
        return 100.0 * (self.predicted - self.measurement.measured) / self.measurement.measured


def _measurement(row: dict[str, str]) -> Measurement:
    deployment = Deployment(
        llm_id=row["llm_id"],
        gpu_id=row["gpu_id"],
        num_gpus=int(row["num_gpus"]),
        weight_precision=row["weight_precision"],
        kv_cache_precision=row["kv_cache_precision"],
        engine=row["engine"],
        tensor_parallel=int(row["tensor_parallel"]),
    )
    if row["metric"] not in METRICS:
        raise ValueError(f"case {row['case_id']}: unknown metric {row['metric']!r}")
    return Measurement(
        case_id=row["case_id"],
        row=int(row["row"]),
        source=row["source"],
        source_url=row["source_url"],
        deployment=deployment,
        concurrency=None if row["concurrency"] == "max" else int(row["concurrency"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        metric=row["metric"],
        measured=float(row["measured"]),
        note=row["note"],
        publisher=row["publisher"],
    )


@cache
def measurements() -> tuple[Measurement, ...]:
    """The published-measurement table shipped in ``data/measurements.csv``."""
    with MEASUREMENTS_PATH.open(newline="") as fh:
        return tuple(_measurement(row) for row in csv.DictReader(fh))


def _metric_value(estimate: ThroughputEstimate, metric: str) -> float:
    if metric == "output_tokens_per_s":
        return estimate.output_tokens_per_s
    if metric == "prefill_ms":
        return estimate.prefill.total_s * 1e3
    if metric == "decode_ms_per_token":
        return estimate.time_per_output_token_s * 1e3
    return estimate.request_latency_s * 1e3


def predict_measurement(measurement: Measurement, efficiency: Efficiency | None = None) -> float:
    """The model's value of ``measurement.metric`` for that setup (optionally other priors)."""
    deployment = measurement.deployment
    if efficiency is not None:
        deployment = replace(deployment, efficiency=efficiency)
    estimate = estimate_throughput(
        deployment, measurement.input_tokens, measurement.output_tokens, measurement.concurrency
    )
    return _metric_value(estimate, measurement.metric)


def validate(
    cases: tuple[Measurement, ...] | None = None, efficiency: Efficiency | None = None
) -> list[ValidationResult]:
    """Predict every measurement and pair it with the published value.

    Examples
    --------
    >>> results = validate()
    >>> median_absolute_error_pct(results) < 25
    True
    """
    cases = measurements() if cases is None else cases
    return [ValidationResult(case, predict_measurement(case, efficiency)) for case in cases]


def median_absolute_error_pct(results: list[ValidationResult]) -> float:
    """Median of |predicted - measured| / measured, percent."""
    return statistics.median(abs(result.error_pct) for result in results)
