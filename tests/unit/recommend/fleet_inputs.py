"""Test helper: the engine's inputs straight from a simulator folder (``unitcost simulate``).

Reads ``registry.yaml`` (engine, precision, placement), ``ground_truth.json`` (instances and
their prices), ``truth/requests`` (per-request timings) and ``truth/timeline`` (per-GPU
hourly busy fraction), so the engine's rules can be unit-tested on a simulated fleet in
seconds, without the ingest and dbt. It lives in the tests because it reads the
simulator's ground truth, which no production code may do (the warehouse path,
``pipelines/recommend/warehouse_inputs.py``, is what runs). Only the observable parts are
used: never the simulator's service parameters or planted answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import yaml
from concurrency_oracle import add_concurrency

from pipelines.recommend.inputs import DeploymentConfig, FleetInputs, IdleInstance
from pipelines.recommend.observations import daily_observations


def load_fleet_inputs(folder: str | Path, provider: str = "aws") -> FleetInputs:
    """Configs, daily observations, idle instances and request timings of a simulated fleet.

    Examples
    --------
    >>> inputs = load_fleet_inputs("var/sim")  # doctest: +SKIP
    """
    root = Path(folder)
    truth = json.loads((root / "ground_truth.json").read_text())
    registry = yaml.safe_load((root / "registry.yaml").read_text())
    by_host = {i["host"]: i for i in truth["instances"].values()}
    requests = add_concurrency(_requests(root))
    timeline = pl.read_parquet(root / "truth" / "timeline" / "**" / "*.parquet")
    configs = {}
    for entry in registry["deployments"]:
        if entry["id"] in set(requests["deployment_id"].unique()):
            configs[entry["id"]] = _config(entry, by_host, provider)
    tp = {c.deployment_id: c.tensor_parallel for c in configs.values()}
    days = _busy_by_day(timeline).join(
        _batch_observed(requests, timeline, tp), on=["deployment_id", "usage_date"], how="left"
    )
    observations = daily_observations(requests, days, configs)
    return FleetInputs(configs, observations, _idle_instances(timeline), requests)


def _config(entry: dict, by_host: dict, provider: str) -> DeploymentConfig:
    hosts = entry["match"]["hosts"]
    paid = sum(
        float(by_host[h["host"]]["hourly_price_usd"])
        / by_host[h["host"]]["gpu_count"]
        * len(h["gpu_indexes"])
        for h in hosts
    )
    gpus = entry["gpu"]["count"]
    return DeploymentConfig(
        deployment_id=entry["id"],
        llm_id=entry["llm"],
        gpu_id=entry["gpu"]["type"],
        num_gpus=gpus,
        tensor_parallel=entry["tensor_parallel"],
        weight_precision=entry["precision"]["weights"],
        kv_cache_precision=entry["precision"]["kv_cache"],
        engine=entry["engine"]["name"],
        usd_per_gpu_hour=paid / gpus,
        provider=provider,
        api_eligible=entry.get("api", {}).get("eligible", False),
        api_substitutes=tuple(entry.get("api", {}).get("substitutes", ())),
    )


def _requests(root: Path) -> pl.DataFrame:
    """As ``sql/requests.sql`` gives them (plus each request's replica and prefill start,
    for the concurrency oracle): prefill from its start after any queue wait (what the
    engine's prefill histogram tells the warehouse path), every hour observed."""
    frame = pl.read_parquet(root / "truth" / "requests" / "**" / "*.parquet")
    epoch_us = pl.col("arrival_ts").dt.epoch("us")
    return frame.select(
        "deployment_id",
        pl.col("replica").cast(pl.String),
        usage_date=pl.col("arrival_ts").dt.date(),
        arrival_us=epoch_us,
        prefill_start_us=pl.col("scheduled_ts").dt.epoch("us"),
        first_token_us=pl.col("first_token_ts").dt.epoch("us"),
        finish_us=pl.col("finish_ts").dt.epoch("us"),
        input_tokens="input_tokens",
        output_tokens="output_tokens",
        cached_tokens="cached_tokens",
        ok=pl.col("status") == "ok",
        observed_share=pl.lit(1.0),
    )


def _batch_observed(requests: pl.DataFrame, timeline: pl.DataFrame, tp: dict) -> pl.DataFrame:
    """Per deployment-day: requests on the GPUs × time / busy replica-time (Little's law, as
    the split's sweep measures it), busy replica-time from the timeline's GPU busy time."""
    on_gpu = requests.group_by("deployment_id", "usage_date").agg(
        in_flight_s=((pl.col("finish_us") - pl.col("prefill_start_us")) / 1e6).sum()
    )
    busy = (
        timeline.explode("gpu_deployment_ids", "gpu_busy_fraction")
        .drop_nulls("gpu_deployment_ids")
        .group_by(deployment_id="gpu_deployment_ids", usage_date=pl.col("hour_start").dt.date())
        .agg(busy_gpu_s=(pl.col("gpu_busy_fraction") * 3600).sum())
    )
    tp_of = pl.col("deployment_id").replace_strict(tp, default=1, return_dtype=pl.Float64)
    return on_gpu.join(busy, on=["deployment_id", "usage_date"]).select(
        "deployment_id",
        "usage_date",
        batch_observed=pl.col("in_flight_s") / (pl.col("busy_gpu_s") / tp_of),
    )


def _busy_by_day(timeline: pl.DataFrame) -> pl.DataFrame:
    """Per deployment and day: mean and peak-hour busy fraction, cost, share of hours seen."""
    per_gpu = (
        timeline.with_columns(
            usage_date=pl.col("hour_start").dt.date(),
            usd_per_gpu_hour=pl.col("hourly_price_usd").cast(pl.Float64) / pl.col("gpu_count"),
        )
        .explode("gpu_deployment_ids", "gpu_busy_fraction")
        .drop_nulls("gpu_deployment_ids")
    )
    # Sorted: group_by returns groups in any order, and float means over them would then
    # differ run to run in the last bit.
    hourly = (
        per_gpu.group_by("gpu_deployment_ids", "usage_date", "hour_start")
        .agg(busy=pl.col("gpu_busy_fraction").mean(), cost=pl.col("usd_per_gpu_hour").sum())
        .sort("gpu_deployment_ids", "hour_start")
    )
    return hourly.group_by(deployment_id="gpu_deployment_ids", usage_date="usage_date").agg(
        busy_fraction=pl.col("busy").mean(),
        peak_hour_busy_fraction=pl.col("busy").max(),
        cost_usd=pl.col("cost").sum(),
        telemetry_coverage=(pl.len() / 24).clip(upper_bound=1.0),
    )


def _idle_instances(timeline: pl.DataFrame) -> tuple[IdleInstance, ...]:
    per = timeline.group_by("instance_id", "instance_type", "gpu_type", "gpu_count").agg(
        allocated=pl.col("gpus_allocated").max(),
        usd_per_hour=pl.col("hourly_price_usd").cast(pl.Float64).mean(),
        days=pl.col("hour_start").dt.date().n_unique(),
    )
    return tuple(
        IdleInstance(
            r["instance_id"],
            r["instance_type"],
            r["gpu_type"],
            r["gpu_count"],
            r["usd_per_hour"] * 24,
            r["days"],
        )
        for r in per.filter(pl.col("allocated") == 0).sort("instance_id").iter_rows(named=True)
    )
