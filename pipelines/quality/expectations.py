"""Great Expectations suites for the raw sources, as data, and ``validate(frame, suite)``.

GX's SQL datasource is broken on DuckDB (``../shared/STACK.md`` §5.3, GX #10738), so every
suite validates pandas frames read with DuckDB (``pipelines/quality/frames.py``): the one-row
*schema frame* whose columns are the table's columns and whose values are their DuckDB types
(pandas would read DECIMAL as float; the schema frame keeps it), and a partition's rows in
bounded batches (``pipelines/quality/partition.py``).

A suite is a name and a tuple of ``Expect(kind, kwargs)``, ``kind`` the GX expectation class
(``ExpectColumnValuesToBeBetween`` ...). ``validate`` returns an ``Outcome`` whose failures
carry a few unexpected values (``MAX_SAMPLES``): raw tables hold no prompt or log text, and
only the columns a suite names are ever read. ``gx_validator`` builds a GX suite once for many
frames; ``Tally`` merges one expectation's results over them.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import uuid
import warnings
from contextlib import contextmanager
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

    def columns(self) -> list[str]:
        """The frame columns this expectation reads."""
        kw = self.kwargs
        named = [
            kw.get("column"),
            kw.get("column_A"),
            kw.get("column_B"),
            *kw.get("column_list", []),
        ]
        return [c for c in named if c]

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


_INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"})


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

    def integer_columns(self) -> frozenset[str]:
        return frozenset(c for c, t in self.types.items() if t in _INTEGER_TYPES)

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
        # host and gpu_index are the series' (raw.dcgm_series): the ingest quarantines a
        # scrape without them
        not_null=("ts", "series_id", "gpu_uuid", "source_file_id"),
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
        not_null=("ts", "series_id", "value", "source_file_id"),
        between={"value": (0, None)},
        # the ingest's duplicate key (telemetry/engine_metrics.py DUPLICATES: the stored
        # series and the sample time)
        unique=("series_id", "ts"),
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

# Row-level expectations: each row passes or fails on its own values, so a partition can be
# validated in batches and the batches' outcomes added up (unexpected counts summed, the first
# MAX_SAMPLES samples kept) to exactly the outcome on the whole partition. That holds because no
# expectation here sets ``mostly``: success is "no unexpected row" on every batch.
ROW_KINDS = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToMatchRegex",
        "ExpectColumnPairValuesAToBeGreaterThanB",
    }
)
UNIQUE_KINDS = frozenset({"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"})


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


@dataclass
class Tally:
    """One expectation's GX results merged over the frames it was validated on."""

    expect: Expect
    # Integer columns: Arrow hands pandas an integer column with NULLs as float64 (GX is
    # several times slower on pandas' nullable Int64), so their samples are made ints again.
    integers: frozenset[str] = frozenset()
    runs: int = 0
    success: bool = True
    observed: Any = None
    unexpected_count: int | None = None
    samples: list = field(default_factory=list)
    error: str | None = None

    def add(self, result) -> None:
        """Fold in one ``ExpectationValidationResult``."""
        self.runs += 1
        self.success = self.success and bool(result.success)
        details = result.result or {}
        mismatched = (details.get("details") or {}).get("mismatched")
        observed = mismatched if mismatched else details.get("observed_value")
        if observed is not None:
            self.observed = _json_safe(observed)
        if details.get("unexpected_count") is not None:
            self.unexpected_count = (self.unexpected_count or 0) + details["unexpected_count"]
        room = MAX_SAMPLES - len(self.samples)
        if room > 0:
            samples = _json_safe(list(details.get("partial_unexpected_list") or [])[:room])
            self.samples += [self._integral(s) for s in samples]
        self.error = self.error or _error(result.exception_info)

    def _integral(self, sample: Any) -> Any:
        """A sample with its integer columns' whole floats back to ints (a value, an (A, B)
        pair, or a key as a dict)."""
        if not self.integers:
            return sample
        if isinstance(sample, dict):
            return {k: _int(v) if k in self.integers else v for k, v in sample.items()}
        columns = self.expect.columns()
        if isinstance(sample, list) and len(columns) == len(sample) == 2:
            pairs = zip(columns, sample, strict=True)
            return [_int(v) if c in self.integers else v for c, v in pairs]
        if len(columns) == 1 and columns[0] in self.integers:
            return _int(sample)
        return sample

    def failure(self) -> Failure | None:
        if self.success:
            return None
        return Failure(
            expectation=self.expect.label(),
            observed=self.observed,
            unexpected_count=self.unexpected_count,
            samples=self.samples,
            error=self.error,
        )


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def outcome(name: str, rows: int, tallies: list[Tally]) -> Outcome:
    failures = [f for f in (t.failure() for t in tallies) if f is not None]
    return Outcome(name, rows, sum(t.runs > 0 for t in tallies), failures)


@contextmanager
def gx_validator(name: str, expectations: list[tuple[int, Expect]]):
    """A GX suite and validation definition built once, yielding ``run(frame)``: validate a
    pandas frame, returning ``(i, result)`` per expectation (``i`` as given). Reusing it over
    many frames (a partition's batches) pays GX's suite setup once."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context, batch = _context()
    key = f"{name}-{uuid.uuid4().hex}"
    gx_suite = gx.ExpectationSuite(name=key)
    for i, expect in expectations:
        gx_suite.add_expectation(getattr(gxe, expect.kind)(**expect.kwargs, meta={_INDEX: i}))
    gx_suite = context.suites.add(gx_suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=key, data=batch, suite=gx_suite)
    )

    def run(frame) -> list[tuple[int, Any]]:
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT)
        return [(r.expectation_config.meta[_INDEX], r) for r in result.results]

    try:
        yield run
    finally:
        context.validation_definitions.delete(key)
        context.suites.delete(key)


_INDEX = "unitcost_index"  # an expectation's position in its Suite, carried in GX's meta
# BASIC has the unexpected count and values a Failure keeps; SUMMARY adds value counts and
# row indexes nothing reads, each another pass over the frame.
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": MAX_SAMPLES}


def validate(frame, suite: Suite) -> Outcome:
    """Run ``suite`` on one pandas ``frame`` (the schema frame, or a small partition)."""
    tallies = [Tally(e) for e in suite.expectations]
    with gx_validator(suite.name, list(enumerate(suite.expectations))) as run:
        for i, result in run(frame):
            tallies[i].add(result)
    return outcome(suite.name, len(frame), tallies)


def _error(info) -> str | None:
    """The first exception message GX recorded (flat, or keyed by metric), never a traceback."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message"))[:300]
    return None
