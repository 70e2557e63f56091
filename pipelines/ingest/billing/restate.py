"""Deliveries inside a folder without manifests: parts are summed, restatements replace.

Without a manifest nothing says which files make up one delivery, yet a provider's
restated export is often saved beside the original (``focus.csv`` and
``focus-restated.csv``); summing them would count the period twice. The rules:

* **Parts.** Files of one folder are parts of one delivery when their names differ only
  in a part number: a 5-digit counter before the extension (``export-00001.csv.gz``, as
  AWS writes) or a ``part-N`` token anywhere (``part-00000-<job>-c000.csv``, as Spark
  writes; the job id keeps two jobs apart). Parts are summed. Any other two files are two
  deliveries, and so are files in different folders.
* **Latest wins.** For each billing account and period, the rows come from one delivery
  only: the one written last (newest file modification time, S3 ``LastModified``, over
  its parts). Rows of the older deliveries are superseded: not stored, counted in the
  ledger (``superseded_files``, ``superseded_row_count``).
* **Cannot tell: FAIL.** Two deliveries of the same account and period written in the same
  second (S3 times have one-second resolution) are either unmarked parts or a restatement
  copied with its original; guessing would double or lose money, so the period fails
  naming both files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pyarrow as pa

from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import SourceFile

_SUFFIXES = (".csv.gzip", ".csv.gz", ".csv", ".snappy.parquet", ".gz.parquet", ".parquet")
_COUNTER = re.compile(r"[-_]\d{5}$")
_PART = re.compile(r"(?:^|[-_.])part[-_]?\d+", re.IGNORECASE)


def delivery_key(relative_path: str) -> str:
    """The delivery a file belongs to: its folder and its name without the part number."""
    path = PurePosixPath(relative_path)
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem = _PART.sub("", name)
    if stem == name:
        stem = _COUNTER.sub("", name)
    return f"{path.parent.as_posix()}/{stem}"


@dataclass
class Superseded:
    """What one period lost to a newer delivery: the files and how many rows."""

    files: list[str] = field(default_factory=list)
    rows: int = 0


def _written(files: list[SourceFile]) -> dt.datetime | None:
    times = [f.modified for f in files if f.modified is not None]
    # Whole seconds: S3 LastModified has no finer resolution, and a local copy made in the
    # same second is no evidence of which file is the restatement.
    return max(times).replace(microsecond=0) if times else None


def keep_latest(
    con, items: pa.Table, files: tuple[SourceFile, ...]
) -> tuple[pa.Table, dict[dt.date, Superseded]]:
    """``items`` with, per billing account and period, only the newest delivery's rows."""
    groups: dict[str, list[SourceFile]] = {}
    for f in files:
        groups.setdefault(delivery_key(f.relative_path), []).append(f)
    if len(groups) < 2 or items.num_rows == 0:
        return items, {}
    written = {key: _written(parts) for key, parts in groups.items()}
    of_file = {f.uri: key for key, parts in groups.items() for f in parts}
    con.register("_restate_items", items)
    try:
        present = con.execute(
            "select billing_account_id, billing_period, source_file, count(*) "
            "from _restate_items group by all order by 1, 2, 3"
        ).fetchall()
        by_slice: dict[tuple, dict[str, list[tuple[str, int]]]] = {}
        for account, period, uri, rows in present:
            by_slice.setdefault((account, period), {}).setdefault(of_file[uri], []).append(
                (uri, rows)
            )
        dropped: list[tuple[str, str, dt.date]] = []
        superseded: dict[dt.date, Superseded] = {}
        for (account, period), deliveries in by_slice.items():
            if len(deliveries) < 2:
                continue
            winner = _newest(account, period, deliveries, written)
            for key, found in deliveries.items():
                if key == winner:
                    continue
                lost = superseded.setdefault(period, Superseded())
                for uri, rows in found:
                    dropped.append((uri, account, period))
                    lost.rows += rows
                    if uri not in lost.files:
                        lost.files.append(uri)
        if not dropped:
            return items, {}
        con.execute("create or replace temp table _restate_drop (f varchar, a varchar, p date)")
        con.executemany("insert into _restate_drop values (?, ?, ?)", dropped)
        kept = con.execute(
            "select i.* from _restate_items i anti join _restate_drop d "
            "on i.source_file = d.f and i.billing_account_id is not distinct from d.a "
            "and i.billing_period = d.p order by i.source_file, i.source_line"
        ).to_arrow_table()
        con.execute("drop table _restate_drop")
    finally:
        con.unregister("_restate_items")
    return kept, superseded


def _newest(account, period, deliveries: dict, written: dict) -> str:
    ranked = sorted(deliveries, key=lambda k: (written[k] is not None, written[k] or 0, k))
    newest, runner_up = ranked[-1], ranked[-2]
    if written[newest] is None or written[newest] == written[runner_up]:
        first, second = deliveries[runner_up][0][0], deliveries[newest][0][0]
        when = (
            f"at {written[newest]:%Y-%m-%d %H:%M:%S} UTC" if written[newest] else "at unknown times"
        )
        raise SourceError(
            second,
            f"and {first} both deliver account {account} period {period:%Y-%m}, written {when}; "
            "their names do not mark them as parts of one delivery (<name>-00001, part-N), so "
            "a restatement cannot be told from a second part: remove the superseded file or "
            "name the parts",
        )
    return newest
