"""One partition's suite in bounded memory, every expectation still evaluated by GX.

A fleet-day is tens of millions of rows; one pandas frame of them all costs several GiB. The
partition suite (``expectations.partition_suite``) is therefore run in three parts, each on
frames that stay small whatever the partition's size, yet give GX exactly what it would have
seen on the whole partition:

* **Row-level** expectations (``expectations.ROW_KINDS``: not-null, between, in-set, regex,
  A >= B) on the partition's rows streamed in Arrow record batches of at most ``batch_rows``
  rows, only the columns those expectations name. A row's verdict depends on that row alone,
  so the sum of the batches' unexpected counts is the partition's, and the first
  ``MAX_SAMPLES`` unexpected values of the batches, in order, are a valid sample. Each batch
  is validated twice, on two column subsets: the not-null checks, then the value checks
  (ranges, sets, patterns, pairs). GX evaluates a value check on the rows where its columns
  are set, copying the frame for each; a frame without the not-null-only columns (a request
  id, a file name) makes those copies cheap. One GX suite and validation definition per
  subset serves every batch, and the next batch is read while GX validates this one.
* **Uniqueness** of the natural key on the rows whose key occurs more than once in the
  whole partition, all their copies, key columns only (``frames.duplicate_key_batches``).
  The expectation's unexpected rows are exactly the rows whose key has another copy; a row
  with a unique key is expected wherever it is, so leaving those rows out changes neither
  success nor the unexpected count, and every duplicated row is still in the frame together
  with all its copies (batches never split one key's copies). Copies far apart in the table
  (in different row batches) are caught: repeated keys are found over the whole partition.
* **Volume and distribution**: row count and column means are aggregates; DuckDB computes
  them over the whole partition and GX judges them on a one-row frame. The mean of a
  one-value column is that value, so ``ExpectColumnMeanToBeBetween`` runs unchanged; the row
  count's band becomes ``ExpectColumnMaxToBeBetween`` on the one-row count (same inclusive
  bounds; its ``observed_value`` is the count, as the row-count expectation's was).

Failures keep the suite's expectation labels, in the suite's order.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Iterator
from contextlib import ExitStack

import duckdb
import pandas as pd

from pipelines.quality import expectations as ex
from pipelines.quality import frames

# Rows per streamed frame. GX's own work on a frame peaks at a few times the frame (it copies
# it per value check). Measured on 4.5 M request rows: 0.5 M rows per frame peaked at 1.1 GB
# for the process (GX imported, DuckDB's cache included), 1 M at 1.6 GB, 2 M at 2.5 GB, for
# the same CPU time; 0.1 M cost ~50 % more CPU (GX's fixed cost per validation run).
BATCH_ROWS = 500_000
ROW_COUNT = "partition_row_count"  # the aggregate frame's column holding the row count
_NOT_NULL = "ExpectColumnValuesToNotBeNull"
_MEAN = "ExpectColumnMeanToBeBetween"
_ROW_COUNT = "ExpectTableRowCountToBeBetween"


def _on_aggregates(expect: ex.Expect) -> ex.Expect:
    """The expectation GX evaluates on the one-row aggregate frame."""
    if expect.kind == _ROW_COUNT:
        return ex.Expect("ExpectColumnMaxToBeBetween", {"column": ROW_COUNT, **expect.kwargs})
    return expect


def _read_ahead(source: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``source``'s frames, the next one read in a thread while the caller works on the
    current one (DuckDB and Arrow release the GIL, so the scan overlaps GX). At most one frame
    is read ahead. ``source`` runs only in that thread, and has finished when this returns."""
    ahead = threading.Semaphore(2)  # the caller's frame and the one being read
    ready: queue.Queue = queue.Queue()
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            while True:
                while not ahead.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                frame = next(source, done)
                ready.put(frame)
                if frame is done:
                    return
        except BaseException as error:  # re-raised in the caller's thread
            ready.put(error)
        finally:
            source.close()

    thread = threading.Thread(target=produce, name="gx-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            ahead.release()
    finally:
        stop.set()
        thread.join()


def validate_partition(
    con: duckdb.DuckDBPyConnection,
    rules: ex.SourceRules,
    start: dt.datetime,
    end: dt.datetime,
    baseline: ex.Baseline | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ex.Outcome:
    """``partition_suite(rules, start, end, baseline)`` on the rows of ``[start, end)``."""
    suite = ex.partition_suite(rules, start, end, baseline)
    integers = rules.integer_columns()
    tallies = [ex.Tally(e, integers) for e in suite.expectations]
    parts: dict[str, list[tuple[int, ex.Expect]]] = {
        "not_null": [],
        "values": [],
        "unique": [],
        "aggregate": [],
    }
    for i, e in enumerate(suite.expectations):
        if "mostly" in e.kwargs:  # a share of unexpected rows per batch does not add up
            raise ValueError(f"{e.label()}: 'mostly' cannot be validated in batches")
        if e.kind == _NOT_NULL:
            parts["not_null"].append((i, e))
        elif e.kind in ex.ROW_KINDS:
            parts["values"].append((i, e))
        elif e.kind in ex.UNIQUE_KINDS:
            parts["unique"].append((i, e))
        elif e.kind in (_MEAN, _ROW_COUNT):
            parts["aggregate"].append((i, e))
        else:  # a new kind must say how it splits before it can run here
            raise ValueError(f"{e.kind}: not known to be row-level, uniqueness or aggregate")

    def fold(results) -> None:
        for i, result in results:
            tallies[i].add(result)

    rows = _validate_rows(con, rules, start, end, suite.name, parts, fold, batch_rows)
    for i, expect in parts["unique"]:
        key = expect.columns()
        with ex.gx_validator(f"{suite.name}.unique", [(i, expect)]) as run:
            for frame in frames.duplicate_key_batches(con, rules, start, end, key, batch_rows):
                fold(run(frame))
    if parts["aggregate"]:
        mean_columns = [e.kwargs["column"] for _, e in parts["aggregate"] if e.kind == _MEAN]
        count, means = frames.aggregates(con, rules, start, end, mean_columns)
        frame = pd.DataFrame(
            {ROW_COUNT: [count]} | {c: pd.Series([m], dtype="float64") for c, m in means.items()}
        )
        checks = [(i, _on_aggregates(e)) for i, e in parts["aggregate"]]
        with ex.gx_validator(f"{suite.name}.aggregates", checks) as run:
            fold(run(frame))
    return ex.outcome(suite.name, rows, tallies)


def _validate_rows(con, rules, start, end, name, parts, fold, batch_rows) -> int:
    """Stream the partition once through the not-null and the value validators (each on its
    columns only); returns the rows streamed."""
    groups = [items for items in (parts["not_null"], parts["values"]) if items]
    if not groups:
        return frames.aggregates(con, rules, start, end, [])[0]
    subsets = [list(dict.fromkeys(c for _, e in items for c in e.columns())) for items in groups]
    columns = list(dict.fromkeys(c for subset in subsets for c in subset))
    rows = 0
    with ExitStack() as stack:
        runs = [stack.enter_context(ex.gx_validator(f"{name}.rows", items)) for items in groups]
        batches = frames.row_batches(con, rules, start, end, columns, batch_rows)
        for frame in _read_ahead(batches):
            rows += len(frame)
            for run, subset in zip(runs, subsets, strict=True):
                fold(run(frame[subset]))
    return rows
