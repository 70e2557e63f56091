"""Great Expectations suites for the raw sources, as data, and ``validate(frame, suite)``.

GX's SQL datasource is broken on DuckDB (``../shared/STACK.md`` §5.3, GX #10738), so every
suite validates a pandas frame read with DuckDB (``pipelines/quality/frames.py``): one
partition's rows, or the one-row *schema frame* whose columns are the table's columns and whose
values are their DuckDB types (pandas would read DECIMAL as float; the schema frame keeps it).

A suite is a name and a tuple of ``Expect(kind, kwargs)``, ``kind`` the GX expectation class
(``ExpectColumnValuesToBeBetween`` ...). ``validate`` returns an ``Outcome`` whose failures
carry a few unexpected values (``MAX_SAMPLES``): raw tables hold no prompt or log text, and
only the columns a suite names are ever read.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

from pipelines.ingest.billing.columns import LINE_ITEM_COLUMNS
from pipelines.ingest.requests.schema import RAW_REQUESTS
from pipelines.ingest.telemetry.fields import DCGM_SCHEMA, ENGINE_SCHEMA

MAX_SAMPLES = 5
# Volume and distribution against the 7 days before the partition: the day's row count and
# the mean of each ``mean_columns`` within these factors of the trailing days' median.
TRAILING_DAYS = 7
MIN_BASELINE_DAYS = 3  # fewer earlier days with data: no volume expectations (a new source)
ROW_COUNT_BAND = (0.5, 2.0)
MEAN_BAND = (0.5, 2.0)


@dataclass(frozen=True)
class Expect:
    kind: str  # a class in great_expectations.expectations
    kwargs: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        target = self.kwargs.get("column") or self.kwargs.get("column_list")
        target = target or [self.kwargs[k] for k in ("column_A", "column_B") if k in self.kwargs]
        return f"{self.kind}({', '.join(target) if isinstance(target, list) else target or ''})"


@dataclass(frozen=True)
class Suite:
    name: str
    expectations: tuple[Expect, ...]


@dataclass(frozen=True)
class Failure:
    expectation: str  # Expect.label()
    observed: Any = None  # observed_value of aggregate expectations
    unexpected_count: int | None = None
    samples: list = field(default_factory=list)  # at most MAX_SAMPLES unexpected values
    error: str | None = None  # the expectation could not be evaluated (e.g. missing column)


@dataclass(frozen=True)
class Outcome:
    suite: str
    rows: int
    evaluated: int
    failures: list[Failure]

    @property
    def success(self) -> bool:
        return not self.failures


# --- the raw sources ---------------------------------------------------------------------


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP WITH TIME ZONE" if dtype.time_zone else "TIMESTAMP"
    names = {
        pl.String: "VARCHAR",
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.Float64: "DOUBLE",
        pl.Boolean: "BOOLEAN",
        pl.Date: "DATE",
    }
    return names[dtype.base_type()]


def _sql_types(columns: dict[str, str]) -> dict[str, str]:
    return {c: "TIMESTAMP WITH TIME ZONE" if t == "TIMESTAMPTZ" else t for c, t in columns.items()}


@dataclass(frozen=True)
class SourceRules:
    """What one raw table promises. ``ts`` selects a partition's rows (``[start, end)``)."""

    table: str  # schema.table
    ts: str
    types: dict[str, str]  # column -> DuckDB type, from the ingest's own contract
    not_null: tuple[str, ...]
    between: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    in_set: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unique: tuple[str, ...] = ()  # the natural key
    mean_columns: tuple[str, ...] = ()  # distributions compared with the trailing days
    ordered: tuple[tuple[str, str], ...] = ()  # (a, b): a >= b where both are set
    regex: dict[str, str] = field(default_factory=dict)

    def columns(self) -> list[str]:
        """The columns a partition frame needs (nothing else is read)."""
        named = [*self.not_null, *self.between, *self.in_set, *self.unique, *self.mean_columns]
        named += [c for pair in self.ordered for c in pair] + list(self.regex)
        return list(dict.fromkeys([self.ts, *named]))


_DCGM_RATIOS = ["gr_engine_active", "sm_active", "sm_occupancy", "tensor_active", "dram_active"]
_DCGM_PCTS = ["gpu_util_pct", "mem_copy_util_pct", "enc_util_pct", "dec_util_pct"]

SOURCES: dict[str, SourceRules] = {
    "raw/billing_line_items": SourceRules(
        table="raw.billing_line_items",
        ts="charge_period_start",
        types=_sql_types(LINE_ITEM_COLUMNS),
        not_null=(
            "billing_source",
            "billing_account_id",
            "billing_period",
            "billing_currency",
            "charge_period_start",
            "charge_period_end",
            "charge_category",
            "billed_cost",
            "effective_cost",
            "source_file",
            "source_line",
            "delivery_id",
        ),
        regex={"billing_currency": r"^[A-Z]{3}$"},
        unique=("delivery_id", "source_file", "source_line"),
        ordered=(("charge_period_end", "charge_period_start"),),
    ),
    "raw/inference_requests": SourceRules(
        table="raw.inference_requests",
        ts="arrival_ts",
        types={c: _duckdb_type(t) for c, t in RAW_REQUESTS.items()},
        not_null=("request_source", "request_id", "arrival_ts", "status", "source_file_id"),
        between={
            "input_tokens": (0, None),
            "output_tokens": (0, None),
            "cached_tokens": (0, None),
            "ttft_ms": (0, None),
            "e2e_ms": (0, None),
        },
        in_set={"status": ("ok", "error", "unknown")},
        unique=("request_source", "request_id"),
        mean_columns=("input_tokens", "output_tokens"),
        ordered=(("input_tokens", "cached_tokens"),),
    ),
    "raw/dcgm_samples": SourceRules(
        table="raw.dcgm_samples",
        ts="ts",
        types={c: _duckdb_type(t) for c, t in DCGM_SCHEMA.items()},
        not_null=("ts", "host", "gpu_index", "gpu_uuid", "source_file_id"),
        between={
            **{c: (0, 100) for c in _DCGM_PCTS},
            **{c: (0, 1) for c in _DCGM_RATIOS},
            "power_w": (0, None),
            "fb_used_mib": (0, None),
        },
        unique=("gpu_uuid", "gpu_instance_id", "ts"),
        mean_columns=("gpu_util_pct",),
    ),
    "raw/engine_metric_samples": SourceRules(
        table="raw.engine_metric_samples",
        ts="ts",
        types={c: _duckdb_type(t) for c, t in ENGINE_SCHEMA.items()},
        not_null=("ts", "host", "metric", "value", "source_file_id"),
        between={"value": (0, None)},
        # the ingest's series key (telemetry/engine_metrics.py SERIES), sample time included
        unique=("host", "instance", "namespace", "pod", "model_name", "engine", "metric", "le")
        + ("ts",),
    ),
}

TS_EPOCH = "ts_epoch_s"  # the partition frame's timestamp column, seconds since the epoch


@dataclass(frozen=True)
class Baseline:
    """The trailing days' daily row counts and column means (days with rows only)."""

    row_counts: tuple[int, ...]
    means: dict[str, tuple[float, ...]] = field(default_factory=dict)


def schema_suite(rules: SourceRules) -> Suite:
    """Columns present with their declared DuckDB types (validated on the schema frame)."""
    expectations = [
        Expect("ExpectTableColumnsToMatchSet", {"column_set": list(rules.types)}),
        *(
            Expect("ExpectColumnValuesToBeInSet", {"column": c, "value_set": [t]})
            for c, t in rules.types.items()
        ),
    ]
    return Suite(f"{rules.table}.schema", tuple(expectations))


def partition_suite(
    rules: SourceRules, start: dt.datetime, end: dt.datetime, baseline: Baseline | None = None
) -> Suite:
    """Nulls, ranges, sets, natural-key uniqueness, timestamps inside ``[start, end)`` and,
    with a baseline of at least MIN_BASELINE_DAYS, volume and distribution."""
    out = [Expect("ExpectColumnValuesToNotBeNull", {"column": c}) for c in rules.not_null]
    out += [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": TS_EPOCH, "min_value": start.timestamp(), "max_value": end.timestamp()}
            | {"strict_max": True},
        )
    ]
    for column, (low, high) in rules.between.items():
        out.append(
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": column, "min_value": low, "max_value": high},
            )
        )
    out += [
        Expect("ExpectColumnValuesToBeInSet", {"column": c, "value_set": list(v)})
        for c, v in rules.in_set.items()
    ]
    out += [
        Expect("ExpectColumnValuesToMatchRegex", {"column": c, "regex": r})
        for c, r in rules.regex.items()
    ]
    out += [
        Expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": a,
                "column_B": b,
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        )
        for a, b in rules.ordered
    ]
    if len(rules.unique) == 1:
        out.append(Expect("ExpectColumnValuesToBeUnique", {"column": rules.unique[0]}))
    elif rules.unique:
        out.append(
            Expect(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": list(rules.unique), "ignore_row_if": "never"},
            )
        )
    out += volume_expectations(rules, baseline)
    return Suite(f"{rules.table}.partition", tuple(out))


def volume_expectations(rules: SourceRules, baseline: Baseline | None) -> list[Expect]:
    """Row count and means within their bands of the trailing days' medians."""
    if baseline is None or len(baseline.row_counts) < MIN_BASELINE_DAYS:
        return []
    median = statistics.median(baseline.row_counts)
    low, high = ROW_COUNT_BAND
    out = [
        Expect(
            "ExpectTableRowCountToBeBetween",
            {"min_value": math.floor(median * low), "max_value": math.ceil(median * high)},
        )
    ]
    for column in rules.mean_columns:
        means = baseline.means.get(column, ())
        if len(means) < MIN_BASELINE_DAYS:
            continue
        m = statistics.median(means)
        lo, hi = sorted((m * MEAN_BAND[0], m * MEAN_BAND[1]))
        out.append(
            Expect(
                "ExpectColumnMeanToBeBetween", {"column": column, "min_value": lo, "max_value": hi}
            )
        )
    return out


# --- running a suite -------------------------------------------------------------------------


@cache
def _context():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(name="unitcost_frames")
        .add_dataframe_asset(name="frame")
        .add_batch_definition_whole_dataframe("whole")
    )
    return context, batch


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _json_safe(item())
    return str(value)


def validate(frame, suite: Suite) -> Outcome:
    """Run ``suite`` on a pandas ``frame`` through GX's ephemeral context."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context, batch = _context()
    run_id = f"{suite.name}-{id(frame)}-{dt.datetime.now(dt.UTC).timestamp()}"
    gx_suite = gx.ExpectationSuite(name=run_id)
    for expect in suite.expectations:
        gx_suite.add_expectation(getattr(gxe, expect.kind)(**expect.kwargs))
    gx_suite = context.suites.add(gx_suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=run_id, data=batch, suite=gx_suite)
    )
    try:
        result = definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    finally:
        context.validation_definitions.delete(run_id)
        context.suites.delete(run_id)
    unmatched = list(suite.expectations)
    failures = []
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        key = _config_key(config.type, config.kwargs)
        expect = next((e for e in unmatched if _config_key(e.kind, e.kwargs) == key), None)
        if expect is not None:
            unmatched.remove(expect)
        label = expect.label() if expect else str(config.type)
        details = r.result or {}
        observed = details.get("observed_value")
        mismatched = (details.get("details") or {}).get("mismatched")
        failures.append(
            Failure(
                expectation=label,
                observed=_json_safe(mismatched if mismatched else observed),
                unexpected_count=details.get("unexpected_count"),
                samples=_json_safe(
                    list(details.get("partial_unexpected_list") or [])[:MAX_SAMPLES]
                ),
                error=_error(r.exception_info),
            )
        )
    return Outcome(suite.name, len(frame), len(result.results), failures)


def _config_key(kind: str, kwargs: dict) -> tuple:
    keys = ("column", "column_list", "column_A", "column_B")
    return kind.lower().replace("_", ""), tuple(str(kwargs.get(k)) for k in keys)


def _error(info) -> str | None:
    """The first exception message GX recorded (flat, or keyed by metric), never a traceback."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message"))[:300]
    return None
