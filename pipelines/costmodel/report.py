"""Plain-text and JSON renderings of predictions and validation results (for the CLI)."""

from __future__ import annotations

from pipelines.costmodel.accuracy import ErrorSummary
from pipelines.costmodel.cost import CostPrediction, TrafficProfile
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.validation import ValidationResult


def prediction_record(
    deployment: Deployment,
    traffic: TrafficProfile,
    prediction: CostPrediction | None,
    *,
    min_gpus: int | None,
    weights_gib: float,
    kv_cache_bytes_per_token: float,
    priced: bool,
    price_source: str,
) -> dict[str, object]:
    """One flat, JSON-ready dict: ids, memory, fit, throughput, $/1M tokens and regime.

    Throughput and cost keys are None when the LLM does not fit; cost keys are None when no
    price is known.
    """
    record: dict[str, object] = {
        "llm": deployment.llm_id,
        "gpu": deployment.gpu_id,
        "gpus": deployment.num_gpus,
        "weight_precision": deployment.weight_precision,
        "kv_cache_precision": deployment.kv_cache_precision,
        "engine": deployment.engine,
        "input_tokens": traffic.input_tokens,
        "output_tokens": traffic.output_tokens,
        "fits": prediction is not None,
        "min_gpus": min_gpus,
        "weights_gib": round(weights_gib, 3),
        "kv_cache_bytes_per_token": kv_cache_bytes_per_token,
        "max_concurrent_sequences": None,
        "tensor_parallel": None,
        "replicas": None,
        "concurrent_sequences": None,
        "output_tokens_per_s": None,
        "total_tokens_per_s": None,
        "time_per_output_token_ms": None,
        "decode_bound": None,
        "usd_per_gpu_hour": prediction.usd_per_gpu_hour if prediction and priced else None,
        "price_source": price_source,
        "usd_per_1m_input_tokens": None,
        "usd_per_1m_output_tokens": None,
        "usd_per_1m_blended_tokens": None,
        "daily_cost_usd": None,
        "gpus_for_throughput": None,
        "meets_demand": None,
        "regime": None,
    }
    if prediction is None:
        return record
    estimate = prediction.throughput
    record.update(
        max_concurrent_sequences=estimate.memory.max_concurrent_sequences * estimate.replicas,
        tensor_parallel=estimate.tensor_parallel,
        replicas=estimate.replicas,
        concurrent_sequences=round(
            estimate.concurrent_sequences_per_replica * estimate.replicas, 1
        ),
        output_tokens_per_s=round(estimate.output_tokens_per_s, 1),
        total_tokens_per_s=round(estimate.total_tokens_per_s, 1),
        time_per_output_token_ms=round(estimate.time_per_output_token_s * 1e3, 3),
        decode_bound=estimate.decode_step.bound,
        gpus_for_throughput=prediction.gpus_for_throughput,
        meets_demand=prediction.meets_demand,
        regime=prediction.regime,
    )
    if priced:
        record.update(
            usd_per_1m_input_tokens=round(prediction.usd_per_1m_input_tokens, 4),
            usd_per_1m_output_tokens=round(prediction.usd_per_1m_output_tokens, 4),
            usd_per_1m_blended_tokens=round(prediction.usd_per_1m_blended_tokens, 4),
            daily_cost_usd=round(prediction.daily_cost_usd, 2),
        )
    return record


_LABELS = (
    ("weights_gib", "weights (GiB, all GPUs)"),
    ("kv_cache_bytes_per_token", "KV cache (bytes/token)"),
    ("fits", "fits"),
    ("min_gpus", "min GPUs (memory floor)"),
    ("tensor_parallel", "tensor parallel x replicas"),
    ("max_concurrent_sequences", "max concurrent sequences"),
    ("concurrent_sequences", "concurrent sequences used"),
    ("time_per_output_token_ms", "time per output token (ms)"),
    ("decode_bound", "decode bound by"),
    ("output_tokens_per_s", "output tokens/s"),
    ("total_tokens_per_s", "total tokens/s"),
    ("usd_per_gpu_hour", "$/GPU-hour"),
    ("usd_per_1m_input_tokens", "$/1M input tokens"),
    ("usd_per_1m_output_tokens", "$/1M output tokens"),
    ("usd_per_1m_blended_tokens", "$/1M tokens (blended)"),
    ("daily_cost_usd", "$/day"),
    ("gpus_for_throughput", "GPUs the demand needs"),
    ("regime", "regime"),
)


def _cell(record: dict[str, object], key: str) -> str:
    value = record[key]
    if key == "tensor_parallel" and value is not None:
        return f"{value} x {record['replicas']}"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def format_prediction(record: dict[str, object]) -> str:
    """A two-column table of ``prediction_record`` for humans."""
    title = (
        f"{record['llm']} {record['weight_precision']} (KV {record['kv_cache_precision']}) on "
        f"{record['gpus']}x {record['gpu']} [{record['engine']}], ISL {record['input_tokens']:g} / "
        f"OSL {record['output_tokens']:g}"
    )
    width = max(len(label) for _, label in _LABELS)
    lines = [title, "-" * len(title)]
    lines += [f"{label:<{width}}  {_cell(record, key)}" for key, label in _LABELS]
    lines.append(f"{'price source':<{width}}  {record['price_source']}")
    if "sizing" in record:
        lines.append(f"{'sizing (--gpus auto)':<{width}}  {record['sizing']}")
    return "\n".join(lines)


def format_validation(results: list[ValidationResult], median_abs_error_pct: float) -> str:
    """One line per published measurement, then the median absolute % error."""
    header = (
        f"{'case':<11} {'gpu':<12} {'llm':<15} {'metric':<20} "
        f"{'measured':>10} {'predicted':>10} {'error':>8}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        case = result.measurement
        lines.append(
            f"{case.case_id:<11} {case.deployment.num_gpus}x{case.deployment.gpu_id:<10} "
            f"{case.deployment.llm_id:<15} {case.metric:<20} {case.measured:>10,.1f} "
            f"{result.predicted:>10,.1f} {result.error_pct:>+7.1f}%"
        )
    lines.append(f"median absolute error: {median_abs_error_pct:.1f} % over {len(results)} cases")
    return "\n".join(lines)


def format_accuracy(
    sections: list[tuple[str, list[ErrorSummary]]], excluded: dict[tuple[str, str], int]
) -> str:
    """Median / p90 |error| tables (one per split and grouping), then the excluded rows."""
    header = f"{'group':<36} {'cases':>5} {'median |err|':>12} {'p90 |err|':>9} {'median err':>10}"
    lines: list[str] = []
    for title, summaries in sections:
        lines += ["", title, header, "-" * len(header)]
        lines += [
            f"{s.group[:36]:<36} {s.cases:>5} {s.median_abs_error_pct:>11.1f}% "
            f"{s.p90_abs_error_pct:>8.1f}% {s.median_error_pct:>+9.1f}%"
            for s in summaries
        ]
    lines += ["", "excluded rows (not predicted):"]
    lines += [f"  {n:>4}  {source}: {reason}" for (source, reason), n in sorted(excluded.items())]
    return "\n".join(lines)
