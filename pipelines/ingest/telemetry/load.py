"""Read one UTC day of a telemetry source: every file's samples -> DCGM rows, engine rows and
quarantine rows. Files are picked by kind from their name, so one folder (or S3 prefix) can
hold scraper files, Prometheus exports and long/wide CSV or Parquet side by side.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.config import S3Config
from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import SourceFile, local_copy, read_bytes
from pipelines.ingest.telemetry import samples, scrapes
from pipelines.ingest.telemetry.counts import SampleCounts, window
from pipelines.ingest.telemetry.engine_metrics import engine_samples
from pipelines.ingest.telemetry.exposition import parse_exposition, time_from_name
from pipelines.ingest.telemetry.fields import LONG_SCHEMA
from pipelines.ingest.telemetry.long_format import layout, read_long, read_wide, scan

EXPOSITION_SUFFIXES = (".prom", ".txt", ".metrics", ".om")
TABLE_SUFFIXES = (".parquet", ".csv")
# Telemetry rows may be quarantined (RELIABILITY.md rule 2), but past 1 % of a day's samples
# the source itself is broken: fail the partition instead. A fraction alone fails a small day
# on a handful of bad samples (3 of 17 is 18 %), so the day fails only when the bad samples
# also exceed a count: about one GPU scrape's worth of fields (dcgm-exporter's default set
# has ~20), which one bad scrape or one GPU reset can produce without the source being broken.
MAX_QUARANTINED_FRACTION = 0.01
MIN_QUARANTINED_SAMPLES = 20
_DAY_IN_PATH = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class TelemetryDay:
    dcgm: pl.DataFrame
    engine: pl.DataFrame
    quarantine: pl.DataFrame  # samples.STORED_QUARANTINE_COLUMNS
    files: int
    input_samples: int  # samples of the day (or without a readable time), any metric
    counts: SampleCounts  # per file: the telemetry terms of raw.ingest_ledger


def files_for_day(files: list[SourceFile], day: dt.date) -> list[SourceFile]:
    """Files that may hold samples of ``day``: hive ``date=`` folders and timestamped scrape
    files are pruned by name; anything else is read and filtered by sample time."""
    picked = []
    for f in files:
        if not f.relative_path.endswith(EXPOSITION_SUFFIXES + TABLE_SUFFIXES):
            continue
        named_day = _DAY_IN_PATH.search(f.relative_path)
        named_ts = time_from_name(f.relative_path)
        if named_day and named_day.group(1) != day.isoformat():
            continue
        if named_ts and f.relative_path.endswith(EXPOSITION_SUFFIXES) and named_ts.date() != day:
            continue
        picked.append(f)
    return picked


def _read(
    file: SourceFile, s3: S3Config | None, start, end, counts: SampleCounts
) -> tuple[str, pl.DataFrame]:
    name = file.uri
    if file.relative_path.endswith(EXPOSITION_SUFFIXES):
        text = read_bytes(file, s3).decode("utf-8")
        frame = parse_exposition(text, name, time_from_name(file.relative_path))
        return "long", window(frame, name, start, end, counts)
    with local_copy(file, s3) as path:
        kind = layout(scan(Path(path)).collect_schema())
        if kind == "long":
            return kind, read_long(Path(path), name, start, end, counts)
        if kind == "wide":
            return kind, read_wide(Path(path), name, start, end, counts)
    raise SourceError(
        name, "neither a long (timestamp, metric, value) nor a wide (DCGM_FI_* columns) export"
    )


def read_day(files: list[SourceFile], day: dt.date, s3: S3Config | None = None) -> TelemetryDay:
    """The day's DCGM, engine and quarantine rows from every file that may hold it, and each
    file's sample counts for the ingest ledger (``counts``: what every sample became)."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    end = start + dt.timedelta(days=1)
    longs, wides, bad = [pl.DataFrame(schema=LONG_SCHEMA)], [], []
    counts = SampleCounts()
    picked = files_for_day(files, day)
    for file in picked:
        kind, frame = _read(file, s3, start, end, counts)
        (longs if kind == "long" else wides).append(frame)
    long = pl.concat(longs, how="vertical_relaxed")
    # Split once on a categorical: string predicates over millions of rows dominate otherwise.
    is_engine = long.select(pl.col("metric").cast(pl.Categorical).cat.starts_with("vllm:"))
    engine_long = long.filter(is_engine.to_series())
    dcgm_long, q = samples.prepare_long(long.filter(~is_engine.to_series()), counts)
    bad.append(q)
    checked = []
    for wide in wides:
        rows, q = samples.prepare_wide(wide)
        checked.append(rows)
        bad.append(q)
    dcgm, q = scrapes.combine(dcgm_long, checked, counts)
    engine, q_engine = engine_samples(engine_long, counts)
    quarantine = pl.concat([*bad, q, q_engine], how="vertical_relaxed")
    n_in = counts.in_window()
    _check_threshold(quarantine, n_in, day)
    counts.add("stored", engine)
    counts.add("quarantined", quarantine)
    stored = quarantine.select(samples.STORED_QUARANTINE_COLUMNS)
    return TelemetryDay(dcgm, engine, stored, len(picked), n_in, counts)


def bad_samples(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Bad samples per file: a quarantine row each, but the copies of one conflicting
    duplicate count once (one sample of that GPU and time was lost, not two)."""
    keyed = pl.col("conflict_key").is_not_null()
    plain = quarantine.filter(~keyed).group_by("source_file").len()
    # A key seen in two files is counted in the first (the same file that is named below).
    conflicts = (
        quarantine.filter(keyed)
        .sort("source_file", "line")
        .unique("conflict_key", keep="first", maintain_order=True)
        .group_by("source_file")
        .len()
    )
    per_file = pl.concat([plain, conflicts]).group_by("source_file").agg(pl.col("len").sum())
    return per_file.sort("len", "source_file", descending=[True, False])


def _check_threshold(quarantine: pl.DataFrame, n_in: int, day: dt.date) -> None:
    """Fail the day when bad samples exceed max(MIN_QUARANTINED_SAMPLES, 1 % of samples)."""
    per_file = bad_samples(quarantine)
    bad = int(per_file["len"].sum()) if per_file.height else 0
    limit = max(MIN_QUARANTINED_SAMPLES, MAX_QUARANTINED_FRACTION * n_in)
    if bad <= limit:
        return
    worst = per_file.row(0, named=True)
    first = (
        quarantine.filter(pl.col("source_file") == worst["source_file"])
        .sort("line")
        .row(0, named=True)
    )
    raise SourceError(
        worst["source_file"],
        f"{bad} of {n_in} telemetry samples on {day} are bad ({bad / max(n_in, 1):.2%}), over "
        f"the limit max({MIN_QUARANTINED_SAMPLES} samples, {MAX_QUARANTINED_FRACTION:.0%} of "
        f"{n_in}) = {limit:g}; conflicting duplicates count once per key; "
        f"{worst['len']} of them in this file (of {per_file.height} file(s)), first: "
        f"{first['column_name']}: {first['reason']}",
        line=first["line"],
    )
