"""Quarantined rows: where a bad row was and why — never the row itself.

Each source has one table ``raw.quarantine_<source>`` with this schema (RELIABILITY.md rule 3).
The raw line is deliberately absent: for request logs it may hold a prompt (case 31).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

QUARANTINE_SCHEMA = {
    "source_file": pl.String,
    "line": pl.Int64,  # 1-based physical line in the delivered file (header included)
    "column_name": pl.String,  # null when the whole row is unusable (malformed JSON, ragged)
    "reason": pl.String,
    "partition_day": pl.Date,  # the daily partition whose run quarantined it
}


@dataclass(frozen=True)
class QuarantinedRow:
    source_file: str
    line: int
    column_name: str | None
    reason: str


def quarantine_frame(rows: list[QuarantinedRow], partition_day: dt.date) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "source_file": r.source_file,
                "line": r.line,
                "column_name": r.column_name,
                "reason": r.reason,
                "partition_day": partition_day,
            }
            for r in rows
        ],
        schema=QUARANTINE_SCHEMA,
    )


def quarantine_table(source: str) -> str:
    return f"quarantine_{source}"
