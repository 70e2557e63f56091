"""Typed, validated billing rows from one file's Arrow table, in DuckDB.

A format module (``focus``, ``cur2``) declares which input columns it uses and their kind
(text, money, quantity, time, json) and SQL for each output column over the typed inputs.
Every used input value is cast with ``try_cast``; a value that is present but does not cast,
or a required value that is absent, fails the file with its line and column (rule 2). Money
never passes through a float: Parquet doubles are cast via their shortest text form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.billing.columns import MONEY, QUANTITY
from pipelines.ingest.billing.files import LINE
from pipelines.ingest.errors import SourceError

TIME_ZONE_SUFFIX = r"(Z|[+-]\d\d(:?\d\d)?)$"
# the SQL type of each kind of input column, for a column a file lacks
ABSENT = {
    "text": "varchar",
    "money": MONEY,
    "quantity": QUANTITY,
    "time": "timestamptz",
    "json": "json",
}


@dataclass(frozen=True)
class FormatMapping:
    """``inputs``: file column -> kind; ``outputs``: output column -> SQL over ``t.<input>``
    (absent optional inputs read as NULL); ``required_when``: (input, SQL condition over
    ``i.<input>``, label) where a value must be present, e.g. an amortization input;
    ``charge_period``: the time inputs of the row's charge period, the only ones whose
    assumed zone ``tz_assumed`` reports (a zone-less billing-period start only names a
    month, and flagging every row for it would hide the rows whose hours were guessed)."""

    inputs: dict[str, str]
    outputs: dict[str, str]
    not_null: set[str] = field(default_factory=set)
    required_when: list[tuple[str, str, str]] = field(default_factory=list)
    charge_period: tuple[str, ...] = ()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed(name: str, kind: str, arrow_type: pa.DataType | None) -> tuple[str, str]:
    """(typed SQL, tz-assumed SQL) for one input column; absent columns are NULL of the
    column's type, so two files of one delivery, one with the column and one without (a
    FOCUS 1.3 file beside a 1.4 one), give the same output types."""
    if arrow_type is None:
        return f"cast(NULL as {ABSENT[kind]})", "false"
    col = f"i.{quote(name)}"
    text = f"nullif(trim(cast({col} as varchar)), '')"
    if kind in ("money", "quantity") and pa.types.is_decimal(arrow_type):
        return f"cast({col} as {MONEY if kind == 'money' else QUANTITY})", "false"
    if kind == "money":
        return f"try_cast({text} as {MONEY})", "false"
    if kind == "quantity":
        return f"try_cast({text} as {QUANTITY})", "false"
    if kind == "time":
        if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
            naive = not (pa.types.is_timestamp(arrow_type) and arrow_type.tz)
            return f"cast({col} as timestamptz)", f"({col} is not null and {naive})"
        tz = f"({text} is not null and not regexp_matches({text}, '{TIME_ZONE_SUFFIX}'))"
        return f"try_cast({text} as timestamptz)", tz
    if kind == "json":
        if pa.types.is_map(arrow_type) or pa.types.is_struct(arrow_type):
            return f"cast(to_json({col}) as json)", "false"
        return f"case when json_valid({text}) then cast({text} as json) end", "false"
    return text, "false"


def _probe(name: str, kind: str, arrow_type: pa.DataType) -> str | None:
    """SQL true where a present value does not convert; None if it always converts.

    Only text needs parsing; typed Parquet columns convert by construction, except float
    NaN/Inf, which are not money. Skipping needless probes halves the cost of a big file.
    """
    col = f"i.{quote(name)}"
    if kind in ("money", "quantity") and pa.types.is_floating(arrow_type):
        return f"{col} is not null and not isfinite({col})"
    is_text = pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    if kind == "text" or not is_text:
        return None
    typed, _ = _typed(name, kind, arrow_type)
    return f"nullif(trim({col}), '') is not null and ({typed}) is null"


def _first_failure(con, mapping: FormatMapping, schema: pa.Schema) -> tuple[int, str, str] | None:
    """(line, column, problem) of the earliest bad value, or None."""
    probes: list[tuple[str, str, str]] = []
    for name, kind in mapping.inputs.items():
        if name not in schema.names:
            continue
        probe = _probe(name, kind, schema.field(name).type)
        if probe is not None:
            probes.append((probe, name, f"not a valid {kind}"))
        raw = f"nullif(trim(cast(i.{quote(name)} as varchar)), '')"
        if name in mapping.not_null:
            probes.append((f"{raw} is null", name, "value is missing"))
    for name, condition, label in mapping.required_when:
        raw = f"nullif(trim(cast(i.{quote(name)} as varchar)), '')"
        raw = raw if name in schema.names else "NULL"
        probes.append((f"({condition}) and {raw} is null", name, f"value is missing on a {label}"))
    if not probes:
        return None
    aggs = ", ".join(f"min(i.{LINE}) filter (where {cond})" for cond, _, _ in probes)
    firsts = con.execute(f"select {aggs} from _billing_in i").fetchall()[0]
    found = [
        (line, col, problem) for line, (_, col, problem) in zip(firsts, probes, strict=True) if line
    ]
    return min(found) if found else None


def _exact_decimals(table: pa.Table, mapping: FormatMapping, display: str) -> pa.Table:
    """Float money/quantity columns (CUR Parquet) as exact decimals, via their shortest text.

    Arrow parses the text exactly and refuses to round; a column with more than 12 (money) or
    15 (quantity) decimals keeps its floats and DuckDB rounds it at that scale instead.
    """
    if table.num_rows == 0:
        return table
    for name, kind in mapping.inputs.items():
        if kind not in ("money", "quantity") or name not in table.column_names:
            continue
        column = table.column(name)
        if not pa.types.is_floating(column.type):
            continue
        finite = pc.or_(pc.is_finite(column), pc.is_null(column))
        if not pc.all(finite).as_py():
            row = pc.index(finite, False).as_py()
            line = table.column(LINE)[row].as_py()
            raise SourceError(display, f"not a valid {kind}", line=line, column=name)
        scale = 12 if kind == "money" else 15
        try:
            exact = pc.cast(pc.cast(column, pa.string()), pa.decimal128(38, scale))
        except pa.ArrowInvalid:
            continue
        table = table.set_column(table.schema.get_field_index(name), name, exact)
    return table


def convert(
    con: duckdb.DuckDBPyConnection, table: pa.Table, mapping: FormatMapping, display: str
) -> pa.Table:
    """The file's rows as output columns, in file order (constants such as source and delivery
    are added later)."""
    table = _exact_decimals(table, mapping, display)
    schema = table.schema
    con.register("_billing_in", table)
    try:
        failure = _first_failure(con, mapping, schema)
        if failure is not None:
            line, column, problem = failure
            raise SourceError(display, problem, line=line, column=column)
        typed = []
        tz_parts = []
        for name, kind in mapping.inputs.items():
            arrow_type = schema.field(name).type if name in schema.names else None
            sql, tz = _typed(name, kind, arrow_type)
            typed.append(f"{sql} as {quote(name)}")
            if name in mapping.charge_period:
                tz_parts.append(tz)
        outputs = ", ".join(f"{sql} as {quote(out)}" for out, sql in mapping.outputs.items())
        query = (
            f"with t as (select {', '.join(typed)}, ({' or '.join(tz_parts) or 'false'}) as _tz, "
            f"i.{LINE} as _line from _billing_in i) "
            f"select {outputs}, t._tz as tz_assumed, t._line as source_line from t order by t._line"
        )
        return con.execute(query).to_arrow_table()
    finally:
        con.unregister("_billing_in")


def extra_columns_json(table: pa.Table, extra: list[str]) -> pa.Array:
    """One JSON object per row of the ``x_`` and unknown columns, or nulls if there are none."""
    if not extra:
        return pa.nulls(table.num_rows, pa.string())
    frame = pl.from_arrow(table.select(extra))
    assert isinstance(frame, pl.DataFrame)
    encoded = frame.select(pl.struct(extra).struct.json_encode().alias("x"))["x"]
    return encoded.to_arrow().cast(pa.string())
