"""Build the engine's inputs from a simulator output folder (``unitcost simulate --out``).

Reads ``registry.yaml`` (engine, precision, placement), ``ground_truth.json`` (instances and
their prices), ``truth/requests`` (per-request timings) and ``truth/timeline`` (per-GPU
hourly busy fraction). Only the observable parts are used: never the simulator's service
parameters or planted answers, which tests compare against instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import yaml

from pipelines.recommend.concurrency import add_concurrency
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
    observations = daily_observations(requests, _busy_by_day(timeline), configs)
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
    )


def _requests(root: Path) -> pl.DataFrame:
    frame = pl.read_parquet(root / "truth" / "requests" / "**" / "*.parquet")
    epoch_us = pl.col("arrival_ts").dt.epoch("us")
    return frame.select(
        "deployment_id",
        "replica",
        usage_date=pl.col("arrival_ts").dt.date(),
        arrival_us=epoch_us,
        first_token_us=pl.col("first_token_ts").dt.epoch("us"),
        finish_us=pl.col("finish_ts").dt.epoch("us"),
        input_tokens="input_tokens",
        output_tokens="output_tokens",
        cached_tokens="cached_tokens",
        ok=pl.col("status") == "ok",
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
