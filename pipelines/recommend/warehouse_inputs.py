"""Build the engine's inputs from the warehouse (dbt tables) for a UTC day window.

Reads ``marts.dim_deployments`` (configs), ``marts.fct_cost_allocation_daily`` (the price
paid and each day's cost, allocation basis: allocated + idle, USD),
``intermediate.int_requests__replica_sweep`` (per-request GPU phases and the requests on
their replica's GPUs, from the split's own sweep), ``intermediate.int_requests__gpu_time_hourly``
(the observed batch), ``intermediate.int_telemetry__gpu_hourly`` with
``staging.stg_registry__selectors`` (busy time of each deployment's GPUs),
``intermediate.int_allocation__gpu_hours`` (instances no deployment holds),
``intermediate.int_billing__commitment_coverage`` (which commitment paid for what),
``marts.fct_saturation_hourly`` (vLLM's queue and preemptions, the saturation guard) and
``intermediate.int_prefix_cache__hourly`` with ``marts.fct_prefix_cache_daily`` (vLLM's
prefix-cache counters per hour and the day's prefill price). Money is
USD: every bill counts, each line converted at its billing period's rate
(``intermediate.int_billing__usd_rates``, 1 for USD) in DECIMAL. The queries are in
``sql/``; days are summarised by ``observations``. No dagster here: the asset passes the
connection in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pipelines.recommend.calibrate import (
    SAMPLE_REQUESTS_PER_DAY,
    calibration_sample,
    implied_requests,
)
from pipelines.recommend.commitments import coverage_from_frame
from pipelines.recommend.engine import unsupported
from pipelines.recommend.inputs import DeploymentConfig, FleetInputs, IdleInstance, by_deployment
from pipelines.recommend.observations import observations_of_days, request_days
from pipelines.recommend.prefix_cache import PrefixCacheHour
from pipelines.recommend.saturation import SaturationHour
from pipelines.warehouse import memory_limit_bytes

SQL_DIR = Path(__file__).parent / "sql"
_BATCH_ROWS = 1_000_000


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _query(
    con: duckdb.DuckDBPyConnection, name: str, start: dt.date, end: dt.date, stream: bool = False
):
    midnight = dt.time(tzinfo=dt.UTC)
    window = {
        "start": start,
        "end": end,
        "start_ts": dt.datetime.combine(start, midnight),
        "end_ts": dt.datetime.combine(end, midnight),
    }
    sql = _sql(name)
    # DuckDB rejects named parameters a statement does not use (comments do not count).
    used = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", sql)))
    result = con.execute(sql, {k: v for k, v in window.items() if k in used})
    if stream:  # batch by batch: DuckDB never holds the whole result as well
        return _batches(result.to_arrow_reader(_BATCH_ROWS))
    return result.pl()


def _batches(reader) -> Iterator[pl.DataFrame]:
    """The reader's record batches as frames; one frame with its columns and no rows if the
    result is empty (so the readers still see the schema)."""
    schema_only = True
    for batch in reader:
        schema_only = False
        yield pl.from_arrow(batch)
    if schema_only:
        yield pl.from_arrow(reader.schema.empty_table())


def _requests(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    configs: dict[str, DeploymentConfig],
    sample_per_day: int,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``sql/requests.sql`` read deployment by deployment: (every deployment-day's request
    statistics, ``observations.request_days``; the implied efficiencies of each
    deployment-day's calibration sample, ``calibrate.implied_requests``, or None).

    Only one deployment's requests are held at a time (the query orders by deployment), so
    the window's size does not bound what fits: a week of a 1,024-GPU fleet is ~130 M
    requests, ~12 GiB as one frame. DuckDB gets half its memory limit for the query's sort
    (it spills the rest), the frames held outside it the other half.
    """
    limit = memory_limit_bytes()
    if limit is not None:
        con.execute(f"set memory_limit = '{limit // 2}B'")
    try:
        stats, implied = [], []
        for part in _deployments(_query(con, "requests", start, end, stream=True)):
            stats.append(request_days(part))
            for dep_id, requests in by_deployment(part):
                # a deployment the cost model cannot describe is skipped, with its reason, by
                # the engine (engine.unsupported); its requests still count in the observations
                if dep_id in configs and unsupported(configs[dep_id]) is None:
                    sample = calibration_sample(requests, sample_per_day)
                    implied.append(implied_requests(sample, {dep_id: configs[dep_id]}))
    finally:
        if limit is not None:
            con.execute(f"set memory_limit = '{limit}B'")
    return pl.concat(stats), pl.concat(implied, rechunk=False) if implied else None


def _deployments(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Frames of whole deployments (one or more each) from batches of rows ordered by
    deployment: the last deployment's rows wait for the next batch, which may continue it.
    One frame with no rows if there are none."""
    held: pl.DataFrame | None = None
    for batch in batches:
        held = batch if held is None else pl.concat([held, batch])
        if held.is_empty():
            continue
        ids = held["deployment_id"]
        last = ids.ne_missing(ids[-1]).arg_true()  # rows not of the last deployment
        if last.len():
            cut = last[-1] + 1
            yield held.slice(0, cut)
            held = held.slice(cut)
    if held is not None:
        yield held


def load_warehouse_inputs(
    con: duckdb.DuckDBPyConnection,
    start: dt.date,
    end: dt.date,
    provider: str = "aws",
    calibration_sample_per_day: int = SAMPLE_REQUESTS_PER_DAY,
) -> FleetInputs:
    """Configs, daily observations, idle instances and request timings for ``[start, end)``.

    Parameters
    ----------
    con
        An open warehouse connection in UTC (``pipelines.warehouse.connect`` opens them so);
        the queries cast timestamps to UTC days.
    start, end
        The half-open window of UTC days.
    provider
        Cloud whose price list prices other GPU types (``DeploymentConfig.provider``).
    calibration_sample_per_day
        Requests of each deployment-day whose implied efficiencies calibration reads
        (``FleetInputs.requests``; ``calibrate.calibration_sample``); the observations
        count every request.

    Examples
    --------
    >>> with connect("var/unitcost.duckdb", read_only=True) as con:  # doctest: +SKIP
    ...     inputs = load_warehouse_inputs(con, dt.date(2026, 11, 1), dt.date(2026, 11, 8))
    """
    zone = con.execute("select current_setting('TimeZone')").fetchone()[0]
    if zone != "UTC":
        raise ValueError(f"the warehouse connection must be in UTC, not {zone}")
    configs = _configs(_query(con, "configs", start, end), provider)
    days = _query(con, "days", start, end)
    idle = _idle_instances(_query(con, "idle", start, end))
    commitments = coverage_from_frame(_query(con, "commitments", start, end))
    saturation = tuple(
        SaturationHour(**r) for r in _query(con, "saturation", start, end).iter_rows(named=True)
    )
    cache_hours = _prefix_cache_hours(_query(con, "prefix_cache", start, end))
    # last: no other query runs while the requests frames are held (outside DuckDB's limit)
    request_stats, implied = _requests(con, start, end, configs, calibration_sample_per_day)
    observations = observations_of_days(request_stats, days, configs)
    return FleetInputs(
        configs,
        observations,
        idle,
        implied,
        commitments,
        saturation=saturation,
        prefix_cache_hours=cache_hours,
    )


def _configs(frame: pl.DataFrame, provider: str) -> dict[str, DeploymentConfig]:
    return {
        r["deployment_id"]: DeploymentConfig(
            deployment_id=r["deployment_id"],
            llm_id=r["llm_id"],
            gpu_id=r["gpu_type"],
            num_gpus=r["gpu_count"],
            tensor_parallel=r["tensor_parallel"],
            weight_precision=r["weight_precision"],
            kv_cache_precision=r["kv_cache_precision"],
            engine=r["engine"],
            usd_per_gpu_hour=r["usd_per_gpu_hour"],
            provider=provider,
            api_eligible=bool(r["api_eligible"]),
            api_substitutes=tuple(r["api_substitute_llm_ids"] or ()),
        )
        for r in frame.iter_rows(named=True)
    }


def _idle_instances(frame: pl.DataFrame) -> tuple[IdleInstance, ...]:
    return tuple(
        IdleInstance(
            instance_id=r["instance_id"],
            instance_type=r["instance_type"],
            gpu_id=r["gpu_id"],
            gpu_count=r["gpu_count"],
            usd_per_day=r["usd_per_day"],
            days_observed=r["days_observed"],
        )
        for r in frame.iter_rows(named=True)
    )


def _prefix_cache_hours(frame: pl.DataFrame) -> tuple[PrefixCacheHour, ...]:
    return tuple(
        PrefixCacheHour(
            deployment_id=r["deployment_id"],
            usage_date=r["usage_date"],
            hour_start=r["hour_start"],
            queried_tokens=int(r["queried_tokens"]),
            hit_tokens=int(r["hit_tokens"] or 0),
            usd_per_1m_computed_input_tokens=r["usd_per_1m_computed_input_tokens"],
        )
        for r in frame.iter_rows(named=True)
    )
