"""Telemetry: one UTC day of DCGM GPU samples, vLLM engine metrics and their quarantine.

The logic is ``pipelines/ingest/telemetry`` (no dagster there). Each day's rows replace that
day's ``[d, d+1)`` window, and each file the day read gets its ``raw.ingest_ledger`` row (what
every sample became, ``telemetry.counts``), all in one transaction per day: re-running a
partition gives identical tables, and a crash leaves the day as it was.
"""

from collections import Counter

import dagster as dg

from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import load_day
from pipelines.ingest.telemetry.tables import SOURCE, clear_day, ensure_tables
from pipelines.partitions import daily_partitions, window_days
from pipelines.quality.ledger import write_ingest
from pipelines.resources import UnitcostConfigResource, WarehouseResource

OWNERS = ["team:unitcost"]
DCGM_KEY = dg.AssetKey(["raw", "dcgm_samples"])
ENGINE_KEY = dg.AssetKey(["raw", "engine_metric_samples"])
SERIES_KEY = dg.AssetKey(["raw", "engine_series"])
DCGM_SERIES_KEY = dg.AssetKey(["raw", "dcgm_series"])
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine_telemetry"])
_SPEC = {"group_name": "telemetry", "kinds": {"duckdb", "polars"}, "owners": OWNERS}

CHECKS = [
    dg.AssetCheckSpec(
        "utilisation_in_range",
        asset=DCGM_KEY,
        blocking=True,
        description="GPU_UTIL within 0-100 % and PROF_* ratios within 0-1; coverage in metadata.",
    ),
    dg.AssetCheckSpec(
        "gpu_models_known",
        asset=DCGM_KEY,
        description="Every DCGM modelName is in the GPU alias table (WARN lists unknown names "
        "as read, with their GPU count).",
    ),
]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DCGM_KEY,
            description="One row per GPU (or MIG slice) scrape: DCGM fields, NULL when absent.",
            **_SPEC,
        ),
        dg.AssetSpec(
            DCGM_SERIES_KEY,
            description="One row per GPU (or MIG slice) label set: host, index, model, MIG "
            "profile and workload, keyed by series_id.",
            **_SPEC,
        ),
        dg.AssetSpec(
            ENGINE_KEY,
            description="One row per vLLM metric series sample (counters as read; histogram "
            "_sum/_count, not buckets).",
            **_SPEC,
        ),
        dg.AssetSpec(
            SERIES_KEY,
            description="One row per vLLM series: its labels and metric, keyed by series_id.",
            **_SPEC,
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            description="One row per rejected telemetry sample: file, line, field, reason.",
            **_SPEC,
        ),
    ],
    check_specs=CHECKS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def telemetry_tables(
    context: dg.AssetExecutionContext, unitcost: UnitcostConfigResource, duckdb: WarehouseResource
):
    """Load telemetry day by day; each day's rows, quarantine and ledger replace that day's."""
    settings = unitcost.settings()
    location = settings.source_location(SOURCE)
    files = list_files(location, settings.s3) if location is not None else []
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    with duckdb.get_connection() as con:
        for day in window_days(context.partition_time_window):
            con.execute("begin transaction")
            try:
                # In the day's transaction: a run killed here leaves no empty tables behind
                # (the previous state is "no telemetry tables" on a new warehouse).
                ensure_tables(con)
                ledger = []
                if location is None:
                    clear_day(con, day)  # a day without a source still clears its rows
                else:
                    loaded = load_day(con, files, day, settings.s3)
                    ledger = loaded.counts.ledger_rows(SOURCE, day)
                    counts.update(
                        input_samples=loaded.input_samples,
                        dcgm=loaded.dcgm_rows,
                        engine=loaded.engine_rows,
                        quarantine=loaded.quarantine_rows,
                    )
                    reasons.update(loaded.by_field)
                # A day without a source or files still clears its ledger rows.
                write_ingest(con, ledger, source=SOURCE, days=[day])
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
        checks = _check_results(con, context.partition_time_window)
        series, dcgm_series = con.execute(
            "select (select count(*) from raw.engine_series), "
            "(select count(*) from raw.dcgm_series)"
        ).fetchone()
    common = {"source_files": len(files), "input_samples": counts["input_samples"]}
    for key, n, extra in (
        (DCGM_KEY, counts["dcgm"], {}),
        (ENGINE_KEY, counts["engine"], {}),
        (DCGM_SERIES_KEY, dcgm_series, {}),  # all series, of every day
        (SERIES_KEY, series, {}),
        (QUARANTINE_KEY, counts["quarantine"], {"by_field": dict(reasons)}),
    ):
        yield dg.MaterializeResult(
            asset_key=key, metadata={**common, **extra, "dagster/row_count": n}
        )
    yield from checks


_OUT_OF_RANGE = """
select count(*) from raw.dcgm_samples
where ts >= ? and ts < ? and (
    gpu_util_pct not between 0 and 100
    or gr_engine_active not between 0 and 1 or sm_active not between 0 and 1
    or sm_occupancy not between 0 and 1 or tensor_active not between 0 and 1
    or dram_active not between 0 and 1)
"""
# Coverage: samples seen / samples expected at each GPU's median scrape interval.
_COVERAGE = """
with gaps as (
    select gpu_uuid, gpu_instance_id,
        epoch(ts) - epoch(lag(ts) over (
            partition by gpu_uuid, gpu_instance_id order by ts
        )) as gap_s
    from raw.dcgm_samples where ts >= ? and ts < ?
),
per_gpu as (
    select gpu_uuid, gpu_instance_id, count(*) as samples, median(gap_s) as interval_s
    from gaps group by all
)
select count(*), coalesce(sum(samples), 0), sum(samples * interval_s) from per_gpu
"""


_UNKNOWN_MODELS = """
select gpu_model_name, count(distinct gpu_uuid) as gpus
from raw.dcgm_samples join raw.dcgm_series using (series_id, gpu_uuid)
where ts >= ? and ts < ? and gpu_type = 'unknown'
group by all order by gpus desc, gpu_model_name nulls last
"""


def unknown_gpu_models(con, window: dg.TimeWindow) -> list[dict]:
    """Raw modelName strings the alias table does not know (NULL: no label), by GPU count."""
    rows = con.execute(_UNKNOWN_MODELS, [window.start, window.end]).fetchall()
    return [{"model_name": name, "gpus": gpus} for name, gpus in rows]


def _check_results(con, window: dg.TimeWindow) -> list[dg.AssetCheckResult]:
    params = [window.start, window.end]
    bad = con.execute(_OUT_OF_RANGE, params).fetchone()[0]
    gpus, samples, seen_s = con.execute(_COVERAGE, params).fetchone()
    window_s = (window.end - window.start).total_seconds()
    coverage = round(seen_s / (gpus * window_s), 4) if gpus and seen_s else None
    unknown = unknown_gpu_models(con, window)
    return [
        dg.AssetCheckResult(
            check_name="utilisation_in_range",
            asset_key=DCGM_KEY,
            passed=bad == 0,
            metadata={
                "out_of_range_rows": bad,
                "gpus": gpus,
                "gpu_samples": int(samples),
                "sample_coverage": coverage,
            },
        ),
        dg.AssetCheckResult(
            check_name="gpu_models_known",
            asset_key=DCGM_KEY,
            passed=not unknown,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "unknown_gpus": sum(u["gpus"] for u in unknown),
                "unknown_model_names": unknown,
            },
        ),
    ]
