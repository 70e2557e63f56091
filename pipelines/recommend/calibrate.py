"""Tier-1 calibration (COSTMODEL.md §5): decode MBU and prefill MFU fitted from request logs.

Per request, Databricks' formula on its own timings:

    MBU_i = (W_read + B_i · ctx_i · KV_bytes_per_token) / (TPOT_i · BW)     per GPU
    MFU_i = prefill FLOPs(uncached ISL) / (TTFT_i · P)                      per GPU

with B_i the mean number of requests on its replica's GPUs while it decoded
(``decode_concurrency``, from the split's own sweep: ``int_requests__replica_sweep``) and
ctx_i = ISL + OSL/2. A group's MFU is the median over its requests (TTFT carries queueing,
a one-sided outlier); its MBU the 5-95 % trimmed mean (an MoE's bytes per step jump with
B_i, so the median of a multi-modal spread is unstable; TPOT has no queueing in it).
Groups are (GPU, engine, weight precision, tensor-parallel degree): TP communication is
folded into the fitted MBU (as in §6), so it differs by TP.
``DCGM_FI_PROF_DRAM_ACTIVE`` would be a cross-check; the simulator emits none.

From the warehouse, the fits read each request's implied MBU and MFU (``implied_requests``,
computed deployment by deployment as the requests stream in) of a sample: at most
``SAMPLE_REQUESTS_PER_DAY`` requests of each deployment-day, those with the smallest
``sample_key`` (a hash of the request's identity, so the pick does not depend on the window
or on how a backfill was cut). A week of a 1,024-GPU fleet is ~130 M requests: held whole
(~90 B each) they would not fit in memory; the sample's implied values are ~28 B each and at
most 10,000 per deployment-day. The daily observations (volumes, latencies, concurrency)
count every request.

Two uses. ``calibrate`` fits on a whole window: what recommendations about the future read.
``calibrate_days`` scores each day out of sample: a day's efficiency is fitted on the
``window_days`` before it only, so the daily job and a backfill give a day the same fit
(it depends on the data of those days, never on how a run was cut), and the comparison of
modelled with actual cost (``fct_efficiency_daily``) tests the model on data it was not
fitted on. Too little history: the prior, and the row says so.
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
from pipelines.recommend.inputs import DeploymentConfig, by_deployment

CalibrationKey = tuple[str, str, str, int]
SAMPLE_REQUESTS_PER_DAY = 10_000
# what the fits read of each request (sql/requests.sql); the rest is for the observations
SAMPLE_COLUMNS = (
    "deployment_id",
    "usage_date",
    "arrival_us",
    "first_token_us",
    "finish_us",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "ok",
    "decode_concurrency",
)
_UNIT = Efficiency(mbu=1.0, mfu=1.0)
_BATCH_GRID = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512], float)


def calibration_key(config: DeploymentConfig) -> CalibrationKey:
    return (config.gpu_id, config.engine, config.weight_precision, config.tensor_parallel)


@dataclass(frozen=True)
class FittedEfficiency:
    """The efficiency predictions use for one group, and where it came from.

    ``source`` is ``calibrated`` (enough requests and days) or ``prior`` (Tier 0);
    ``scope`` says whose requests a calibrated fit came from: the ``deployment``'s own, or
    its ``hardware_group``'s (same GPU, engine, weight precision and TP; another LLM's
    timings, so a rougher fit), ``prior`` otherwise.
    """

    key: CalibrationKey
    efficiency: Efficiency
    source: str
    requests_used: int
    days_used: int
    scope: str = "prior"


def calibration_sample(
    requests: pl.DataFrame, per_day: int = SAMPLE_REQUESTS_PER_DAY
) -> pl.DataFrame:
    """The requests the fits read: of each deployment-day, the ``per_day`` with the smallest
    ``sample_key`` (all of a day with fewer), in their order, with ``SAMPLE_COLUMNS`` only."""
    rank = pl.col("sample_key").rank("ordinal").over("deployment_id", "usage_date")
    return requests.filter(rank <= per_day).select(SAMPLE_COLUMNS)


def implied_efficiency(requests: pl.DataFrame, config: DeploymentConfig) -> pl.DataFrame:
    """Per-request implied ``mbu`` and ``mfu`` for one deployment's requests (ok ones only).

    ``requests`` needs the columns of ``sql/requests.sql`` (``decode_concurrency`` among
    them; null only for requests without a decode, which give no MBU).
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
    """Fitted efficiencies per deployment and per group.

    A deployment with enough data of its own uses its own fit (different LLMs on the same
    hardware reach different MBU, e.g. MoE vs dense); otherwise its group's; otherwise
    the prior.
    """

    groups: dict[CalibrationKey, FittedEfficiency]
    deployments: dict[str, FittedEfficiency] = field(default_factory=dict)

    def for_config(self, config: DeploymentConfig) -> FittedEfficiency:
        if config.deployment_id in self.deployments:
            return replace(self.deployments[config.deployment_id], scope="deployment")
        key = calibration_key(config)
        if key in self.groups:
            return replace(self.groups[key], scope="hardware_group")
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
        Per-request timings with concurrency, or their ``implied_requests`` (what
        ``warehouse_inputs`` gives); None: priors everywhere.
    configs
        Deployment configs by id; requests of unknown deployments are ignored.
    min_requests, min_days
        A deployment or group is calibrated only with this many usable requests over
        this many distinct days; otherwise predictions fall back (group, then prior).
    """
    if requests is None or requests.is_empty() or not configs:
        return Calibration({})
    per_request = _implied(requests, configs)
    keys = {_key_text(c): c for c in configs.values()}
    fits = {
        "key": _fits(per_request, "key", lambda k: keys[k], min_requests, min_days),
        "deployment_id": _fits(
            per_request, "deployment_id", lambda d: configs[d], min_requests, min_days
        ),
    }
    groups = {calibration_key(keys[k]): f for k, f in fits["key"].items()}
    return Calibration(groups, fits["deployment_id"])


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


def _key_text(config: DeploymentConfig) -> str:
    return "|".join(map(str, calibration_key(config)))


def implied_requests(requests: pl.DataFrame, configs: dict[str, DeploymentConfig]) -> pl.DataFrame:
    """Per-request implied ``mbu`` and ``mfu`` of the configured deployments' usable requests:
    ``deployment_id`` and ``key`` (its calibration group) as categoricals, ``usage_date``.
    ``calibrate`` and ``calibrate_days`` take these in place of the requests themselves."""
    return _per_request(requests, configs)


def _implied(requests: pl.DataFrame, configs: dict[str, DeploymentConfig]) -> pl.DataFrame:
    return requests if "mbu" in requests.columns else _per_request(requests, configs)


def _per_request(requests: pl.DataFrame, configs: dict[str, DeploymentConfig]) -> pl.DataFrame:
    # Ids as categoricals, each deployment's NaNs dropped before the parts are joined (not
    # rechunked): at 18 M requests a day, string ids on every row and a copy of the whole
    # frame per step were most of the engine's memory.
    parts = [
        implied_efficiency(part, configs[dep_id])
        .with_columns(
            pl.col("deployment_id").cast(pl.Categorical),
            key=pl.lit(_key_text(configs[dep_id])).cast(pl.Categorical),
        )
        .drop_nans()
        .drop_nulls()
        for dep_id, part in by_deployment(requests)
        if dep_id in configs
    ]
    if not parts:  # no request of a configured deployment
        return implied_efficiency(requests.clear(), next(iter(configs.values()))).with_columns(
            pl.col("deployment_id").cast(pl.Categorical), key=pl.lit("").cast(pl.Categorical)
        )
    return pl.concat(parts, rechunk=False)


def calibrate_days(
    requests: pl.DataFrame | None,
    configs: dict[str, DeploymentConfig],
    days: list[tuple[str, dt.date]],
    window_days: int = 7,
    min_requests: int = 300,
    min_days: int = 1,
) -> dict[tuple[str, dt.date], FittedEfficiency]:
    """The efficiency each (deployment, day) is scored with, fitted out of sample.

    Parameters
    ----------
    requests
        Per-request timings with concurrency covering at least ``window_days`` before the
        first day scored (the asset reads that lookback); None: priors everywhere.
    configs
        Deployment configs by id.
    days
        The (deployment_id, usage_date) pairs to score.
    window_days
        Fit on the requests of ``[day - window_days, day)``: earlier days only.
    min_requests, min_days
        As in ``calibrate``: below them the deployment's group, then the prior.

    Returns
    -------
    dict
        (deployment_id, usage_date) -> the fit used, its ``source`` ``calibrated`` or
        ``prior`` and the requests and days it was fitted on.
    """
    out: dict[tuple[str, dt.date], FittedEfficiency] = {}
    per_request = None
    if requests is not None and not requests.is_empty() and configs:
        per_request = _implied(requests, configs)
    keys = {_key_text(c): c for c in configs.values()}
    for day in sorted({d for _, d in days}):
        history = Calibration({})
        if per_request is not None:
            since = day - dt.timedelta(days=window_days)
            window = per_request.filter(pl.col("usage_date").is_between(since, day, "left"))
            if not window.is_empty():
                groups = _fits(window, "key", lambda k: keys[k], min_requests, min_days)
                own = _fits(window, "deployment_id", lambda d: configs[d], min_requests, min_days)
                history = Calibration({calibration_key(keys[k]): f for k, f in groups.items()}, own)
        for dep_id, d in days:
            if d == day and dep_id in configs:
                out[(dep_id, day)] = history.for_config(configs[dep_id])
    return out
