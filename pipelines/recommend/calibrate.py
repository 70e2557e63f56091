"""Tier-1 calibration (COSTMODEL.md §5): decode MBU and prefill MFU fitted from request logs.

Per request, Databricks' formula on its own timings:

    MBU_i = (W_read + B_i · ctx_i · KV_bytes_per_token) / (TPOT_i · BW)     per GPU
    MFU_i = prefill FLOPs(uncached ISL) / (TTFT_i · P)                      per GPU

with B_i the requests in flight on its replica while it decoded (``concurrency``) and
ctx_i = ISL + OSL/2. A group's MFU is the median over its requests (TTFT carries queueing,
a one-sided outlier); its MBU the 5-95 % trimmed mean (an MoE's bytes per step jump with
B_i, so the median of a multi-modal spread is unstable; TPOT has no queueing in it).
Groups are (GPU, engine, weight precision, tensor-parallel degree): TP communication is
folded into the fitted MBU (as in §6), so it differs by TP.
``DCGM_FI_PROF_DRAM_ACTIVE`` would be a cross-check; the simulator emits none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from pipelines.costmodel.architecture import forward_flops
from pipelines.costmodel.engines import Efficiency, efficiency_prior
from pipelines.costmodel.memory import kv_cache_bytes_per_token
from pipelines.costmodel.roofline import decode_step_time
from pipelines.recommend.inputs import DeploymentConfig

CalibrationKey = tuple[str, str, str, int]
_UNIT = Efficiency(mbu=1.0, mfu=1.0)
_BATCH_GRID = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512], float)


def calibration_key(config: DeploymentConfig) -> CalibrationKey:
    return (config.gpu_id, config.engine, config.weight_precision, config.tensor_parallel)


@dataclass(frozen=True)
class FittedEfficiency:
    """The efficiency predictions use for one group, and where it came from.

    ``source`` is ``calibrated`` (enough requests and days) or ``prior`` (Tier 0).
    """

    key: CalibrationKey
    efficiency: Efficiency
    source: str
    requests_used: int
    days_used: int


def implied_efficiency(requests: pl.DataFrame, config: DeploymentConfig) -> pl.DataFrame:
    """Per-request implied ``mbu`` and ``mfu`` for one deployment's requests (ok ones only).

    ``requests`` needs the columns of ``fleet_inputs`` plus ``decode_concurrency``.
    """
    dep = config.deployment(_UNIT)
    tp, gpu = config.tensor_parallel, dep.gpu
    ok = requests.filter(pl.col("ok"))
    isl = ok["input_tokens"].to_numpy().astype(float)
    osl = ok["output_tokens"].to_numpy().astype(float)
    uncached = np.maximum(isl - ok["cached_tokens"].to_numpy(), 1.0)
    batch = ok["decode_concurrency"].to_numpy()
    kv = kv_cache_bytes_per_token(dep.arch, config.kv_cache_precision, tp)
    # weight bytes read per step depend on the batch only for MoE (experts touched, §2.5)
    weights_s = [decode_step_time(dep, b, 0.0, kv).memory_s for b in _BATCH_GRID]
    ideal_s = np.interp(batch, _BATCH_GRID, weights_s) + batch * (isl + osl / 2) * kv / (
        gpu.memory_bandwidth_bytes_per_s
    )
    steps = np.maximum(osl - 1, 1)
    tpot_s = (ok["finish_us"].to_numpy() - ok["first_token_us"].to_numpy()) / 1e6 / steps
    ttft_s = (ok["first_token_us"].to_numpy() - ok["arrival_us"].to_numpy()) / 1e6
    peak = gpu.peak_flops_per_s(dep.precision.compute_dtype)
    flops = forward_flops(dep.arch, uncached, uncached / 2) / tp
    with np.errstate(divide="ignore", invalid="ignore"):
        mbu = np.where((osl >= 2) & (tpot_s > 0), ideal_s / tpot_s, np.nan)
        mfu = np.where(ttft_s > 0, flops / ttft_s / peak, np.nan)
    return ok.select("deployment_id", "usage_date").with_columns(
        mbu=pl.Series(mbu), mfu=pl.Series(mfu)
    )


@dataclass(frozen=True)
class Calibration:
    """Fitted efficiencies per deployment and per group, achieved ones per deployment-day.

    A deployment with enough data of its own uses its own fit (different LLMs on the same
    hardware reach different MBU, e.g. MoE vs dense); otherwise its group's; otherwise
    the prior.
    """

    groups: dict[CalibrationKey, FittedEfficiency]
    achieved: dict[tuple[str, dt.date], Efficiency]
    deployments: dict[str, FittedEfficiency] = field(default_factory=dict)

    def for_config(self, config: DeploymentConfig) -> FittedEfficiency:
        if config.deployment_id in self.deployments:
            return self.deployments[config.deployment_id]
        key = calibration_key(config)
        if key in self.groups:
            return self.groups[key]
        prior = efficiency_prior(config.cost_model_engine, config.gpu_id)
        return FittedEfficiency(key, prior, "prior", 0, 0)


def _efficiency(mbu: float, mfu: float, prior: Efficiency) -> Efficiency:
    # communication and step overhead are already inside the fitted values
    clip = lambda x: float(min(max(x, 1e-3), 1.0))  # noqa: E731
    return replace(
        prior, mbu=clip(mbu), mfu=clip(mfu), allreduce_latency_s=0.0, step_overhead_s=0.0
    )


def _trimmed_mean(column: str, cut: float = 0.05) -> pl.Expr:
    col = pl.col(column)
    inside = col.is_between(col.quantile(cut), col.quantile(1 - cut))
    return col.filter(inside).mean()


def calibrate(
    requests: pl.DataFrame | None,
    configs: dict[str, DeploymentConfig],
    min_requests: int = 300,
    min_days: int = 1,
) -> Calibration:
    """Fit MBU / MFU per deployment and per group from request timings (else the prior).

    Parameters
    ----------
    requests
        Per-request timings with concurrency (``fleet_inputs``); None: priors everywhere.
    configs
        Deployment configs by id; requests of unknown deployments are ignored.
    min_requests, min_days
        A deployment or group is calibrated only with this many usable requests over
        this many distinct days; otherwise predictions fall back (group, then prior).
    """
    if requests is None or requests.is_empty() or not configs:
        return Calibration({}, {})
    parts = [
        implied_efficiency(requests.filter(pl.col("deployment_id") == dep_id), config).with_columns(
            key=pl.lit("|".join(map(str, calibration_key(config))))
        )
        for dep_id, config in configs.items()
    ]
    per_request = pl.concat(parts).drop_nans().drop_nulls()
    keys = {"|".join(map(str, calibration_key(c))): c for c in configs.values()}
    fits = {
        "key": _fits(per_request, "key", lambda k: keys[k], min_requests, min_days),
        "deployment_id": _fits(
            per_request, "deployment_id", lambda d: configs[d], min_requests, min_days
        ),
    }
    groups = {calibration_key(keys[k]): f for k, f in fits["key"].items()}
    achieved = {
        (r["deployment_id"], r["usage_date"]): _efficiency(
            r["mbu"], r["mfu"], efficiency_prior("*", "*")
        )
        for r in per_request.group_by("deployment_id", "usage_date")
        .agg(mbu=_trimmed_mean("mbu"), mfu=pl.col("mfu").median())
        .iter_rows(named=True)
    }
    return Calibration(groups, achieved, fits["deployment_id"])


def _fits(per_request: pl.DataFrame, by: str, config_of, min_requests: int, min_days: int):
    out = {}
    aggregated = per_request.group_by(by).agg(
        mbu=_trimmed_mean("mbu"),
        mfu=pl.col("mfu").median(),
        n=pl.len(),
        days=pl.col("usage_date").n_unique(),
    )
    for row in aggregated.iter_rows(named=True):
        if row["n"] >= min_requests and row["days"] >= min_days:
            config = config_of(row[by])
            prior = efficiency_prior(config.cost_model_engine, config.gpu_id)
            eff = _efficiency(row["mbu"], row["mfu"], prior)
            key = calibration_key(config)
            out[row[by]] = FittedEfficiency(key, eff, "calibrated", row["n"], row["days"])
    return out
