"""DuckDB reads for the suites: the schema frame, one partition's rows in bounded batches, the
rows whose natural key repeats, the partition's aggregates and the trailing baseline.

Values are always parameters; table and column names come from ``SOURCES`` (code), quoted.
Partition rows reach pandas through Arrow record batches (``to_arrow_reader``): no read
ever holds more than ``batch_rows`` rows of the partition, whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines import warehouse
from pipelines.quality.expectations import TRAILING_DAYS, TS_EPOCH, Baseline, SourceRules
from pipelines.warehouse import quote_identifier


def _table(rules: SourceRules) -> str:
    schema, table = rules.table.split(".")
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def table_exists(con: duckdb.DuckDBPyConnection, rules: SourceRules) -> bool:
    return warehouse.table_exists(con, rules.table)


def schema_frame(con: duckdb.DuckDBPyConnection, rules: SourceRules) -> pd.DataFrame:
    """One row: a column per table column, holding its DuckDB type name."""
    schema, table = rules.table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return pd.DataFrame([{name: kind for name, kind in rows}])


def _exprs(con: duckdb.DuckDBPyConnection, rules: SourceRules, columns: list[str]) -> list[str]:
    """A select expression per column: ``TS_EPOCH`` is the timestamp in epoch seconds.

    A column the table lacks is read as NULL: the schema suite reports it missing, and the
    partition suite then fails its not-null rather than erroring on the whole read."""
    present = set(schema_frame(con, rules).columns)
    ts = quote_identifier(rules.ts)
    return [
        f"epoch({ts})" if c == TS_EPOCH else quote_identifier(c) if c in present else "null"
        for c in columns
    ]


def _select_list(con: duckdb.DuckDBPyConnection, rules: SourceRules, columns: list[str]) -> str:
    exprs = _exprs(con, rules, columns)
    return ", ".join(f"{e} as {quote_identifier(c)}" for e, c in zip(exprs, columns, strict=True))


def _in_partition(rules: SourceRules) -> str:
    ts = quote_identifier(rules.ts)
    return f"{ts} >= ? and {ts} < ?"


def _frames(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pd.DataFrame]:
    """Each record batch as a pandas frame; one empty frame (typed) if there is none.
    ``batches`` (a reader or a generator) is closed when this ends, however it ends."""
    try:
        empty = True
        for batch in batches:
            if batch.num_rows:
                empty = False
                yield batch.to_pandas()
        if empty:
            yield schema.empty_table().to_pandas()
    finally:
        batches.close()


def row_batches(
    con: duckdb.DuckDBPyConnection,
    rules: SourceRules,
    start: dt.datetime,
    end: dt.datetime,
    columns: list[str],
    batch_rows: int,
) -> Iterator[pd.DataFrame]:
    """``columns`` of the rows whose ``rules.ts`` is in ``[start, end)``, in frames of at most
    ``batch_rows`` rows (at least one frame, empty for an empty partition). Consume it fully
    before using ``con`` again."""
    reader = con.execute(
        f"select {_select_list(con, rules, columns)} from {_table(rules)} "
        f"where {_in_partition(rules)}",
        [start, end],
    ).to_arrow_reader(batch_rows)
    yield from _frames(reader, reader.schema)


def partition_frame(
    con: duckdb.DuckDBPyConnection, rules: SourceRules, start: dt.datetime, end: dt.datetime
) -> pd.DataFrame:
    """The whole partition's suite columns plus ``TS_EPOCH`` in one frame (small partitions
    and tests only: the checks stream ``row_batches``)."""
    batches = row_batches(con, rules, start, end, [*rules.columns(), TS_EPOCH], 1_000_000)
    return pd.concat(list(batches), ignore_index=True)


_KEY_HASH = "_unitcost_key_hash"


def duplicate_key_batches(
    con: duckdb.DuckDBPyConnection,
    rules: SourceRules,
    start: dt.datetime,
    end: dt.datetime,
    key: list[str],
    batch_rows: int,
) -> Iterator[pd.DataFrame]:
    """The ``key`` columns of every partition row whose key value occurs more than once in
    the partition (all its copies), in frames of about ``batch_rows`` rows that never split
    one key's copies; at least one frame (empty: no key repeats).

    DuckDB finds the candidate rows by a 64-bit hash of the key (rows whose hash occurs
    more than once); a hash collision only adds rows with a unique key, which the uniqueness
    expectation then finds unique. Rows come ordered by that hash, so one key's copies are
    adjacent and a frame ends only where the hash changes."""
    cols = _select_list(con, rules, key)
    key_hash = f"hash({', '.join(_exprs(con, rules, key))})"
    table, where = _table(rules), _in_partition(rules)
    # Repeated hashes by sorting (DuckDB sorts out of core); a hash aggregate of tens of
    # millions of distinct keys was slower and took more memory.
    repeated = (
        f"select h from (select h, lag(h) over (order by h) as previous from "
        f"(select {key_hash} as h from {table} where {where})) where h = previous"
    )
    reader = con.execute(
        f"select {cols}, {key_hash} as {_KEY_HASH} from {table} "
        f"where {where} and {key_hash} in ({repeated}) order by {_KEY_HASH}",
        [start, end, start, end],
    ).to_arrow_reader(batch_rows)
    schema = reader.schema.remove(reader.schema.get_field_index(_KEY_HASH))
    yield from _frames(_whole_groups(reader, batch_rows), schema)


def _whole_groups(reader: pa.RecordBatchReader, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """``reader``'s batches (sorted by ``_KEY_HASH``) re-cut to end where the hash changes:
    the last hash's rows wait for the next batch. The hash column is dropped."""
    try:
        pending: list[pa.RecordBatch] = []
        for batch in reader:
            pending.append(batch)
            table = pa.Table.from_batches(pending).combine_chunks()
            hashes = table.column(_KEY_HASH).to_numpy()
            if len(hashes) < batch_rows:
                continue
            split = int(np.searchsorted(hashes, hashes[-1], side="left"))
            if split:
                yield from table.slice(0, split).drop_columns([_KEY_HASH]).to_batches()
            pending = table.slice(split).to_batches()
        if pending:  # one batch: the rows of a hash must stay in one frame
            table = pa.Table.from_batches(pending).combine_chunks()
            yield from table.drop_columns([_KEY_HASH]).to_batches()
    finally:
        reader.close()


def aggregates(
    con: duckdb.DuckDBPyConnection,
    rules: SourceRules,
    start: dt.datetime,
    end: dt.datetime,
    mean_columns: list[str],
) -> tuple[int, dict[str, float | None]]:
    """The partition's row count and the mean of each of ``mean_columns`` (NULLs skipped, as
    pandas does; None when the column has no value)."""
    means = "".join(f", avg({e})" for e in _exprs(con, rules, mean_columns))
    row = con.execute(
        f"select count(*){means} from {_table(rules)} where {_in_partition(rules)}",
        [start, end],
    ).fetchone()
    return int(row[0]), {
        c: (None if v is None else float(v)) for c, v in zip(mean_columns, row[1:], strict=True)
    }


def baseline(con: duckdb.DuckDBPyConnection, rules: SourceRules, day: dt.date) -> Baseline:
    """Daily row counts and means over the TRAILING_DAYS before ``day`` (days with rows)."""
    start = dt.datetime.combine(day - dt.timedelta(days=TRAILING_DAYS), dt.time(), dt.UTC)
    end = dt.datetime.combine(day, dt.time(), dt.UTC)
    ts = quote_identifier(rules.ts)
    means = "".join(f", avg({quote_identifier(c)})" for c in rules.mean_columns)
    rows = con.execute(
        f"select count(*){means} from {_table(rules)} where {ts} >= ? and {ts} < ? "
        f"group by cast({ts} as date)",
        [start, end],
    ).fetchall()
    return Baseline(
        row_counts=tuple(r[0] for r in rows),
        means={
            c: tuple(float(r[i + 1]) for r in rows if r[i + 1] is not None)
            for i, c in enumerate(rules.mean_columns)
        },
    )
