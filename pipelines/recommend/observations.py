"""Daily observations from per-request timings plus a per-day busy and cost frame.

``requests`` has the columns of ``sql/requests.sql``: ``usage_date``, timings, token counts,
``ok``, ``observed_share`` and ``life_concurrency`` (the split's sweep); ``busy`` has one
row per (deployment_id, usage_date) with ``busy_fraction``, ``peak_hour_busy_fraction``,
``telemetry_coverage``, ``batch_observed`` (the split's sweep: requests per replica while
busy) and ``cost_usd``.
"""

from __future__ import annotations

import polars as pl

from pipelines.recommend.inputs import DailyObservation, DeploymentConfig, by_deployment

BUSY_COLUMNS = (
    "busy_fraction",
    "peak_hour_busy_fraction",
    "telemetry_coverage",
    "batch_observed",
    "cost_usd",
)


def request_days(requests: pl.DataFrame) -> pl.DataFrame:
    """Per deployment and day: volumes, latencies, load shape and the observed share."""
    ok = pl.col("ok")
    ttft_ms = (pl.col("first_token_us") - pl.col("arrival_us")) / 1000
    decode_steps = (pl.col("output_tokens") - 1).clip(lower_bound=1)
    tpot_ms = (pl.col("finish_us") - pl.col("first_token_us")) / 1000 / decode_steps
    hour = pl.col("arrival_us") // 3_600_000_000
    decoding = ok & (pl.col("output_tokens") > 1)
    stats = {
        "requests": pl.len(),
        "input_tokens": pl.col("input_tokens").sum(),
        "output_tokens": pl.col("output_tokens").sum(),
        "cached_tokens": pl.col("cached_tokens").sum(),
        "p95_concurrency": pl.col("life_concurrency").quantile(0.95),
        "mean_ttft_ms": ttft_ms.filter(ok).mean(),
        "p95_ttft_ms": ttft_ms.filter(ok).quantile(0.95),
        "mean_tpot_ms": tpot_ms.filter(decoding).mean(),
        "p95_tpot_ms": tpot_ms.filter(decoding).quantile(0.95),
        "observed_request_share": pl.col("observed_share").mean(),
        "hourly": hour.value_counts().struct.field("count"),
    }
    # deployment by deployment: the expressions' temporaries then span one deployment's
    # requests, not the whole window's (each group's rows and their order are the same)
    parts = [
        part.group_by("deployment_id", "usage_date").agg(**stats)
        for _, part in by_deployment(requests)
    ] or [requests.group_by("deployment_id", "usage_date").agg(**stats)]
    return pl.concat(parts).sort("deployment_id", "usage_date")


def daily_observations(
    requests: pl.DataFrame, busy: pl.DataFrame, configs: dict[str, DeploymentConfig]
) -> tuple[DailyObservation, ...]:
    """One observation per deployment-day that has requests, busy data, cost and a config.

    A day missing from ``busy`` is left out rather than guessed: without its cost or GPU
    time there is nothing to compare the prediction with.
    """
    if requests.is_empty():
        return ()
    return observations_of_days(request_days(requests), busy, configs)


def observations_of_days(
    request_stats: pl.DataFrame, busy: pl.DataFrame, configs: dict[str, DeploymentConfig]
) -> tuple[DailyObservation, ...]:
    """``daily_observations`` from ``request_days``' output, which a streamed read computes
    deployment by deployment (``warehouse_inputs``) without holding every request."""
    if request_stats.is_empty() or busy.is_empty():
        return ()
    days = request_stats.join(
        busy.select("deployment_id", "usage_date", *BUSY_COLUMNS),
        on=["deployment_id", "usage_date"],
        how="inner",
    )
    return tuple(
        _observation(day)
        for day in days.sort("deployment_id", "usage_date").iter_rows(named=True)
        if day["deployment_id"] in configs
    )


def _observation(day: dict) -> DailyObservation:
    hourly = day["hourly"]
    return DailyObservation(
        usage_date=day["usage_date"],
        deployment_id=day["deployment_id"],
        requests=day["requests"],
        input_tokens=day["input_tokens"],
        output_tokens=day["output_tokens"],
        cached_tokens=day["cached_tokens"],
        busy_fraction=day["busy_fraction"],
        peak_hour_busy_fraction=day["peak_hour_busy_fraction"],
        batch_when_busy=max(1.0, day["batch_observed"] or 1.0),
        # null only if no request of the day spent any time on the GPUs
        p95_concurrency=day["p95_concurrency"] or 1.0,
        peak_to_mean_load=max(hourly) / (sum(hourly) / 24),
        mean_ttft_ms=day["mean_ttft_ms"],
        p95_ttft_ms=day["p95_ttft_ms"],
        mean_tpot_ms=day["mean_tpot_ms"],
        p95_tpot_ms=day["p95_tpot_ms"],
        telemetry_coverage=day["telemetry_coverage"],
        cost_usd=day["cost_usd"],
        observed_request_share=day["observed_request_share"],
    )
