"""Blocking data-quality checks on every raw source (logic: ``pipelines/quality``).

Per raw table, ``great_expectations``: the table's schema (columns and DuckDB types, money
DECIMAL), then, per UTC day of the run's window, that day's rows against nulls, ranges,
allowed values, natural-key uniqueness, timestamps inside the day, and volume and means
within bands of the 7 days before (GX on pandas frames read with DuckDB: STACK.md §5.3; a day
is validated in bounded batches, ``pipelines/quality/partition.py``).
Per source, ``rows_accounted_for``: every line read is stored, quarantined, a dropped exact
duplicate, outside the window or of a metric not used, file by file (``raw.ingest_ledger``).

All are blocking: a failure (ERROR) stops the dbt models downstream. Metadata holds counts,
expectation names and at most a few unexpected values, never a log line.
"""

import datetime as dt
import warnings

import dagster as dg

from pipelines.assets.billing import periods_to_ingest
from pipelines.partitions import daily_partitions, window_days
from pipelines.quality import expectations as ex
from pipelines.quality import frames
from pipelines.quality.ledger import ledger_report
from pipelines.quality.partition import validate_partition
from pipelines.resources import WarehouseResource

# Sources whose ingest records ``raw.ingest_ledger``: for them a day with rows but no ledger
# blocks like an imbalance (rows landed that nothing accounted for). A source not listed
# (none today) only WARNs on a missing ledger until its ingest records one.
REQUIRE_LEDGER = frozenset({"billing", "requests", "telemetry"})
MAX_FAILURES_SHOWN = 10

LEDGER_SOURCES = {
    "billing": dg.AssetKey(["raw", "billing_line_items"]),
    "requests": dg.AssetKey(["raw", "inference_requests"]),
    "telemetry": dg.AssetKey(["raw", "dcgm_samples"]),
}


def _partitioned_check(**kwargs):
    def wrap(fn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(
                partitions_def=daily_partitions, pool="duckdb", blocking=True, **kwargs
            )(fn)

    return wrap


def _failure_metadata(outcomes: list[tuple[str, ex.Outcome]]) -> list[dict]:
    shown = []
    for day, outcome in outcomes:
        for f in outcome.failures:
            entry = {"day": day, "suite": outcome.suite, "expectation": f.expectation}
            entry |= {"unexpected_count": f.unexpected_count, "observed": f.observed}
            entry |= {"samples": f.samples, "error": f.error}
            shown.append({k: v for k, v in entry.items() if v not in (None, [])})
    return shown[:MAX_FAILURES_SHOWN]


def run_expectations(con, key: str, window: dg.TimeWindow) -> dg.AssetCheckResult:
    """Validate the schema once and each day of ``window`` (pure reads; no writes)."""
    rules = ex.SOURCES[key]
    if not frames.table_exists(con, rules):
        return dg.AssetCheckResult(passed=False, metadata={"error": f"{rules.table} is missing"})
    outcomes = [("schema", ex.validate(frames.schema_frame(con, rules), ex.schema_suite(rules)))]
    rows_by_day = {}
    for day in window_days(window):
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1)
        outcome = validate_partition(con, rules, start, end, frames.baseline(con, rules, day))
        outcomes.append((day.isoformat(), outcome))
        rows_by_day[day.isoformat()] = outcome.rows
    failed = [o for _, o in outcomes if not o.success]
    return dg.AssetCheckResult(
        passed=not failed,
        metadata={
            "expectations_evaluated": sum(o.evaluated for _, o in outcomes),
            "expectations_failed": sum(len(o.failures) for o in failed),
            "rows_by_day": rows_by_day,
            "failures": _failure_metadata(outcomes),
        },
    )


def _gx_check(key: str):
    asset = dg.AssetKey(key.split("/"))

    @_partitioned_check(
        asset=asset,
        name="great_expectations",
        description="GX: schema, nulls, ranges, unique keys, volume and means vs the prior 7 days.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, duckdb: WarehouseResource
    ) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            return run_expectations(con, key, context.partition_time_window)

    return _check


def ledger_days(source: str, window: dg.TimeWindow) -> list[dt.date]:
    """The ledger partitions a run over ``window`` wrote: billing periods, else UTC days."""
    if source == "billing":
        return sorted(periods_to_ingest(window.start, window.end))
    return window_days(window)


def run_ledger_check(con, source: str, window: dg.TimeWindow) -> dg.AssetCheckResult:
    report = ledger_report(con, source, ledger_days(source, window))
    missing = bool(report.days_not_recorded)
    passed = report.balanced and not missing
    severity = dg.AssetCheckSeverity.ERROR
    if report.balanced and missing and source not in REQUIRE_LEDGER:
        severity = dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        metadata={
            "files": report.files,
            "lines_read": report.lines_read,
            **report.totals,
            "unbalanced_files": report.unbalanced_count,
            "table_mismatches": report.mismatch_count,
            "days_not_recorded": report.days_not_recorded,
            "unbalanced": report.unbalanced,
            "mismatches": report.table_mismatches,
        },
    )


def _ledger_check(source: str, asset: dg.AssetKey):
    @_partitioned_check(
        asset=asset,
        name="rows_accounted_for",
        description=f"Each {source} file: read = stored + quarantined + duplicates + outside "
        "+ not used.",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, duckdb: WarehouseResource
    ) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            return run_ledger_check(con, source, context.partition_time_window)

    return _check


quality_checks = [_gx_check(key) for key in ex.SOURCES] + [
    _ledger_check(source, asset) for source, asset in LEDGER_SOURCES.items()
]
