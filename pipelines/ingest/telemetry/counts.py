"""Per-file sample counts of one day's read: telemetry's terms of ``raw.ingest_ledger``.

The unit is one sample, one value of one series at one time, as the file holds it: a sample
line of Prometheus text, a row of a long export, a non-null field cell of a wide export. Every
sample read lands in exactly one term, tested in this order:

* ``outside_window``: its time is readable and outside the day ``[D, D+1)``;
* ``not_used``: a metric unitcost does not read: a DCGM field outside ``fields.FIELDS``, any
  series that is neither a DCGM field nor ``vllm:*`` (``process_*``, ``python_gc_*``), vLLM's
  histogram ``_bucket`` series (no dbt model reads them); in a wide export the numeric cells
  of other ``DCGM_FI_*`` columns (text cells there, such as a driver version, are labels,
  not samples);
* ``quarantined``: one ``raw.quarantine_telemetry`` row per sample: no readable time, a
  missing key label, an impossible or non-numeric value, either copy of a conflicting
  duplicate (an HA pair that disagrees is two samples read and two quarantine rows);
* ``duplicates_dropped``: an identical copy of a kept sample (the later one in file, line
  order), from an HA pair or overlapping exports;
* ``stored``: went into a ``raw.dcgm_samples`` field (DCGM's 0 for an unsupported temperature
  as its NULL) or a ``raw.engine_metric_samples`` row.

A file read by two days (no date in its name) is counted whole by each: one day's samples are
the other's ``outside_window``; a sample without a readable time is quarantined by both.
Files read in Python are counted here as they are read (``window``); the SQL steps add their
per-file counts with ``add_rows``. Counts, never copies of the rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from pipelines.quality.ledger import LedgerRow, build_ledger


@dataclass
class SampleCounts:
    """Samples per source file, one counter per term plus ``read``."""

    read: Counter[str] = field(default_factory=Counter)
    outside_window: Counter[str] = field(default_factory=Counter)
    not_used: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    duplicates_dropped: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)

    def add_rows(self, term: str, rows: Iterable[tuple[str, int | None]]) -> None:
        """Add ``(file, count)`` pairs (a SQL step's per-file counts) to ``term``."""
        for file, n in rows:
            getattr(self, term)[file] += int(n or 0)

    def add_file(self, term: str, file: str, n: int | None) -> None:
        getattr(self, term)[file] += int(n or 0)  # kept at 0: an empty file still gets a row

    def in_window(self) -> int:
        """Samples of the day (or without a readable time) over all files."""
        return self.read.total() - self.outside_window.total()

    def ledger_rows(self, source: str, day: dt.date) -> list[LedgerRow]:
        """One ``raw.ingest_ledger`` row per file read (``lines_read`` = samples read)."""
        terms = ("stored", "quarantined", "duplicates_dropped", "outside_window", "not_used")
        return build_ledger(source, day, self.read, **{t: getattr(self, t) for t in terms})


def cells(columns: list[str]) -> pl.Expr:
    """Per row, how many of ``columns`` hold a value: the samples of a wide row."""
    if not columns:
        return pl.lit(0, pl.UInt32)
    return pl.sum_horizontal(pl.col(c).is_not_null() for c in columns)


def count_cells(frame: pl.DataFrame, columns: list[str]) -> int:
    """Values in ``columns`` over all rows: null counts are Arrow metadata, so this is free."""
    return sum(frame.height - frame[c].null_count() for c in columns)


def window(
    frame: pl.DataFrame,
    file: str,
    start: dt.datetime,
    end: dt.datetime,
    counts: SampleCounts | None,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """``frame``'s rows with ``start <= ts < end`` or no readable time (a check quarantines
    those); ``counts`` gets the file's samples and those outside. A row is one sample, or
    with ``columns`` (a wide export) one per value in them."""
    ts = pl.col("ts")
    outside = frame.select(((ts < start) | (ts >= end)).fill_null(False)).to_series()
    n_out = outside.sum()
    if columns is None:
        read = frame.height
    else:
        read = count_cells(frame, columns)
        if n_out:
            n_out = frame.select(cells(columns).filter(outside).sum()).item()
    if counts is not None:
        counts.add_file("read", file, read)
        counts.add_file("outside_window", file, n_out)
    return frame.filter(~outside) if outside.any() else frame
