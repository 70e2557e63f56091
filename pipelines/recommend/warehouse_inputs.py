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
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from pipelines.recommend.commitments import coverage_from_frame
from pipelines.recommend.inputs import DeploymentConfig, FleetInputs, IdleInstance
from pipelines.recommend.observations import daily_observations
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
    if stream:  # batch by batch into Arrow: DuckDB never holds the whole result as well
        return pl.from_arrow(result.to_arrow_reader(_BATCH_ROWS).read_all())
    return result.pl()


def _requests(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``sql/requests.sql`` with half of DuckDB's memory limit while it runs.

    The frame it fills lives outside that limit (1.6 GiB for a 1,024-GPU day) while DuckDB
    sorts the same rows inside it: with the whole limit for the sort, the step's peak was
    the limit plus the frame and its copy. DuckDB spills what does not fit.
    """
    limit = memory_limit_bytes()
    if limit is None:
        return _query(con, "requests", start, end, stream=True)
    con.execute(f"set memory_limit = '{limit // 2}B'")
    try:
        return _query(con, "requests", start, end, stream=True)
    finally:
        con.execute(f"set memory_limit = '{limit}B'")


def load_warehouse_inputs(
    con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, provider: str = "aws"
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
    # last: no other query runs while the requests frame is held (it is outside DuckDB's limit)
    requests = _requests(con, start, end)
    observations = daily_observations(requests, days, configs)
    return FleetInputs(
        configs,
        observations,
        idle,
        requests if requests.height else None,
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
