"""One UTC day of request logs: the rows of ``raw.inference_requests`` and their quarantine.

Days are by arrival. A log file named with a date (``…/date=2026-11-02/…`` or any
``YYYY-MM-DD`` in its path) holds requests logged that day — at completion, so arrivals from
that day or the one before; day D therefore reads the files dated D and D + 1, plus every
undated file. Each file is parsed once per run and kept while a later day still needs it.

A file's malformed lines are quarantined in its home partition (its date, else the day of its
first arrival), every other reject in the partition of its arrival, so each bad line lands in
exactly one partition however the days are batched.
"""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from pipelines.config import S3Config, SourceConfig
from pipelines.costmodel.catalog import llm_catalog
from pipelines.ingest.errors import SourceError
from pipelines.ingest.quarantine import QUARANTINE_SCHEMA
from pipelines.ingest.requests import traces
from pipelines.ingest.requests.fields import JSON_FORMATS, PATHS
from pipelines.ingest.requests.normalise import NORMALISERS, VLLM_CREATED_USED, check_epoch
from pipelines.ingest.requests.privacy import hash_users
from pipelines.ingest.requests.reader import read_jsonl
from pipelines.ingest.requests.schema import RAW_REQUESTS
from pipelines.ingest.requests.validate import check_rows, deduplicate
from pipelines.ingest.storage import SourceFile, list_files, local_copy
from pipelines.registry import Registry

MAX_MALFORMED_RATIO = 0.01  # RELIABILITY.md case 26
SUFFIXES = {
    "vllm_jsonl": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz"),
    "litellm": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz"),
    "mooncake": (".jsonl", ".jsonl.gz"),
    "azure_trace": (".csv", ".csv.gz"),
}
_DATE = re.compile(r"(?<![0-9])(\d{4}-\d{2}-\d{2})(?![0-9])")
_QUARANTINE_DAY = {**{k: v for k, v in QUARANTINE_SCHEMA.items() if k != "partition_day"}}


def token_limits(registry: Registry) -> tuple[dict[str, int], int]:
    """Request model name -> its LLM's max_position_embeddings; unknown names get the largest."""
    catalog = llm_catalog()
    limits = {
        name: catalog[d.llm].max_position_embeddings
        for d in registry.deployments
        for name in d.match.request_model_names
    }
    return limits, max(a.max_position_embeddings for a in catalog.values())


def file_date(relative_path: str) -> dt.date | None:
    found = _DATE.findall(relative_path)
    try:
        return dt.date.fromisoformat(found[-1]) if found else None
    except ValueError:
        return None


@dataclass
class FileResult:
    rows: pl.DataFrame  # RAW_REQUESTS columns
    rejects: pl.DataFrame  # source_file, line, column_name, reason, day
    date: dt.date | None
    lines: int
    malformed: int


@dataclass
class DayLoad:
    requests: pl.DataFrame
    quarantine: pl.DataFrame
    files: list[str]
    worst_malformed_ratio: float
    # Exact duplicate lines dropped (the same request delivered again), by the dropped copy's
    # file, for the day's arrivals: counted so that every line read is accounted for.
    exact_duplicates: dict[str, int] = field(default_factory=dict)
    # Per file read for the day: its records (non-blank lines; a CSV's header is not one) and
    # those that belong to another day's partition (a file dated D + 1 holds D's last
    # arrivals, and D + 1's own). With ``exact_duplicates``, the stored rows and the
    # quarantine, they account for every line read (``raw.ingest_ledger``).
    lines_read: dict[str, int] = field(default_factory=dict)
    outside_day: dict[str, int] = field(default_factory=dict)


@dataclass
class RequestLoader:
    """Loads the configured request source day by day (see the module docstring)."""

    source_name: str
    source: SourceConfig
    location: object  # Path or s3:// URI
    limits: tuple[dict[str, int], int]
    salt: str | None = None
    s3: S3Config | None = None
    _cache: dict[str, FileResult] = field(default_factory=dict)

    def files(self) -> list[SourceFile]:
        suffixes = SUFFIXES[self.source.format or "vllm_jsonl"]
        found = list_files(self.location, self.s3)
        return [f for f in found if f.relative_path.endswith(suffixes)]

    def load_day(self, day: dt.date, files: list[SourceFile]) -> DayLoad:
        scope = [f for f in files if file_date(f.relative_path) in (None, day, _next(day))]
        results = self._results(scope)
        for uri in [u for u, r in self._cache.items() if r.date is not None and r.date <= day]:
            del self._cache[uri]  # a later day never reads a file dated D or earlier
        rows = pl.concat([r.rows for r in results], how="vertical") if results else None
        kept, conflicts, dropped = deduplicate(rows if rows is not None else _empty_rows())
        in_day = _on_day(day)
        per_file = dropped.filter(in_day).group_by("source_file").len().sort("source_file")
        duplicates = dict(per_file.iter_rows())
        conflict_q = conflicts.filter(in_day).select(
            source_file="source_file",
            line="source_line",
            column_name=pl.lit(PATHS[self.source.format or "vllm_jsonl"]["request_id"]),
            reason=pl.lit("request_id appears more than once with conflicting content"),
        )
        file_q = [r.rejects.filter(pl.col("day") == day).drop("day") for r in results]
        quarantine = pl.concat([*file_q, conflict_q.cast(_QUARANTINE_DAY)], how="vertical")
        quarantine = quarantine.with_columns(partition_day=pl.lit(day)).sort("source_file", "line")
        worst = max((r.malformed / r.lines for r in results if r.lines), default=0.0)
        requests = kept.filter(in_day).sort("arrival_ts", "request_id")
        return DayLoad(
            requests,
            quarantine.cast(QUARANTINE_SCHEMA),
            [f.uri for f in scope],
            worst,
            duplicates,
            {f.uri: r.lines for f, r in zip(scope, results, strict=True)},
            {f.uri: _outside_day(r, day) for f, r in zip(scope, results, strict=True)},
        )

    def _results(self, files: list[SourceFile]) -> list[FileResult]:
        """Parsed files, from the cache or two at a time: a gzip stream is read serially, so
        two files keep both cores busy (DuckDB and polars release the GIL)."""
        keys = [f"{f.uri}@{f.version}" for f in files]
        todo = [(k, f) for k, f in zip(keys, files, strict=True) if k not in self._cache]
        with ThreadPoolExecutor(max_workers=2) as pool:
            parsed = pool.map(self._parse, [f for _, f in todo])
            self._cache.update(zip([k for k, _ in todo], parsed, strict=True))
        return [self._cache[k] for k in keys]

    def _parse(self, file: SourceFile) -> FileResult:
        fmt = self.source.format or "vllm_jsonl"
        display = file.uri
        with local_copy(file, self.s3) as path:
            unit = self.source.epoch_unit
            if fmt in NORMALISERS:
                flat = read_jsonl(path, JSON_FORMATS[fmt], display)
                if fmt == "vllm_jsonl":
                    used = VLLM_CREATED_USED
                    check_epoch(flat.frame, "created", used, unit or "s", display, "created")
                common = NORMALISERS[fmt](flat.frame, unit)
            else:
                entry = traces.trace_entry(file.relative_path, self.source.traces, display)
                reader = traces.mooncake if fmt == "mooncake" else traces.azure
                common, flat = reader(path, entry, file.relative_path, display, unit)
        accepted, rejects = check_rows(common, PATHS[fmt], *self.limits)
        malformed = len(flat.bad) + rejects.filter(pl.col("malformed")).height
        if flat.lines and malformed / flat.lines > MAX_MALFORMED_RATIO:
            raise SourceError(
                display,
                f"{malformed} of {flat.lines} lines are malformed "
                f"({100 * malformed / flat.lines:.2f} %); more than 1 % fails the file",
            )
        date = file_date(file.relative_path)
        rows = self._contract(accepted, file)
        home = date or (rows["arrival_ts"].min().date() if rows.height else None)
        return FileResult(
            rows, _rejects(flat.bad, rejects, display, home), date, flat.lines, malformed
        )

    def _contract(self, frame: pl.DataFrame, file: SourceFile) -> pl.DataFrame:
        since_arrival = {
            "ttft_ms": pl.col("first_token_ts") - pl.col("arrival_ts"),
            "e2e_ms": pl.col("finish_ts") - pl.col("arrival_ts"),
        }
        frame = frame.with_columns(
            **{k: v.dt.total_microseconds() / 1000 for k, v in since_arrival.items()},
            usage_missing=pl.col("input_tokens").is_null() | pl.col("output_tokens").is_null(),
            request_source=pl.lit(self.source_name),
            source_file=pl.lit(file.uri),
        )
        return hash_users(frame, self.salt).select(RAW_REQUESTS.keys()).cast(RAW_REQUESTS)


def _outside_day(result: FileResult, day: dt.date) -> int:
    """Records of a file that another partition owns: accepted rows arriving on another day
    (stored, deduplicated or quarantined there) and rejects homed on another day.

    Counted from the records themselves, not as lines minus the rest, so a record that no
    partition takes shows up in the ledger as unaccounted. A reject with no home day (an
    undated file with no valid arrival at all) is in no partition: it stays unaccounted.
    """
    other_rows = result.rows.filter(~_on_day(day)).height
    rejects = result.rejects.filter(pl.col("day").is_not_null() & (pl.col("day") != day))
    return other_rows + rejects.height


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def _on_day(day: dt.date) -> pl.Expr:
    return pl.col("arrival_ts").dt.date() == day


def _empty_rows() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_REQUESTS)


def _rejects(bad, rejects: pl.DataFrame, display: str, home: dt.date | None) -> pl.DataFrame:
    schema = {**_QUARANTINE_DAY, "day": pl.Date}
    malformed = pl.DataFrame(
        [(r.source_file, r.line, r.column_name, r.reason, home) for r in bad],
        schema=schema,
        orient="row",
    )
    values = rejects.select(
        source_file=pl.lit(display),
        line="source_line",
        column_name="column_name",
        reason="reason",
        # pl.lit: an undated file without one valid arrival (an empty file) has no home day.
        day=pl.col("arrival_ts").dt.date().fill_null(pl.lit(home, dtype=pl.Date)),
    )
    return pl.concat([malformed, values.cast(schema)], how="vertical")
