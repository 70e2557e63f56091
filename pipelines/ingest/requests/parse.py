"""One log file: read, normalised and checked in its own DuckDB, out as raw rows and rejects.

Each file gets an in-memory DuckDB of one thread (the loader parses two files at a time: a
gzip stream is read serially, so two keep both cores busy). Nothing here touches the
warehouse: a file that fails (a line DuckDB rejects, the 1 % limit, an epoch unit) fails
before any of its rows reach the day's write transaction, where one failed statement would
abort the whole day. The file is decompressed once on the fast path (``stream.py``); only a
file the fast path rejects is read again, line by line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from pipelines.config import S3Config, TenantConfig
from pipelines.ingest.errors import SourceError
from pipelines.ingest.file_ids import file_id
from pipelines.ingest.quarantine import QUARANTINE_SCHEMA
from pipelines.ingest.requests import normalise, tenants, traces
from pipelines.ingest.requests.fields import JSON_FORMATS, PATHS
from pipelines.ingest.requests.reader import careful, fast_sql
from pipelines.ingest.requests.stream import line_stream
from pipelines.ingest.requests.validate import checked_sql, rejects_sql, rule_params
from pipelines.ingest.storage import SourceFile, local_copy
from pipelines.warehouse import connection_config

MAX_MALFORMED_RATIO = 0.01  # RELIABILITY.md case 26
_DATE = re.compile(r"(?<![0-9])(\d{4}-\d{2}-\d{2})(?![0-9])")
REJECT_SCHEMA = {**{k: v for k, v in QUARANTINE_SCHEMA.items() if k != "partition_day"}}
REJECT_SCHEMA["day"] = pl.Date
_CHECKED = "checked"
_FOUND_SCHEMA = {
    "source_line": pl.Int64,
    "column_name": pl.String,
    "reason": pl.String,
    "arrival_ts": pl.Datetime("us", "UTC"),
    "malformed": pl.Boolean,
}
_EPOCH, _DAY_US = dt.date(1970, 1, 1), 86_400_000_000
_CAREFUL = "careful_flat"


@dataclass(frozen=True)
class ParseSpec:
    """What every file of a source is parsed with."""

    source_name: str
    fmt: str
    epoch_unit: str | None
    traces: list
    limits: tuple[dict[str, int], int]  # request model name -> max tokens; the default
    salt: str | None
    s3: S3Config | None = None
    tenant: TenantConfig | None = None  # sources.requests.tenant


@dataclass
class ParsedFile:
    uri: str
    file_id: int
    date: dt.date | None  # from the path, if it names one
    lines: int  # records read (non-blank lines; a CSV's header is not one)
    malformed: int
    # Parquet of its ``checked_sql`` rows, rejects included (``_rule``); deleted once stored
    staged: Path | None
    users: list[str]  # distinct users of the accepted rows, to hash
    keys: np.ndarray  # ``_key_hash`` of the accepted rows: where a request id repeats
    by_day: dict[dt.date, int]  # accepted rows per arrival day
    rejects: pl.DataFrame  # REJECT_SCHEMA: each homed on its arrival day, else the file's


def file_date(relative_path: str) -> dt.date | None:
    found = _DATE.findall(relative_path)
    try:
        return dt.date.fromisoformat(found[-1]) if found else None
    except ValueError:
        return None


def parse_file(file: SourceFile, spec: ParseSpec, staged: Path) -> ParsedFile:
    """Parse ``file``; its ``checked_sql`` rows go to the Parquet file ``staged``.

    Parquet, not Arrow, is how the rows reach the warehouse's write: a table registered on
    the warehouse's connection stays referenced until the day's transaction ends, so Arrow
    tables would pile up for the whole day; a file read back by ``read_parquet`` does not
    (and the files waiting to be stored wait on disk, not in memory).
    """
    # A database per file: closing it hands its memory back.
    con = duckdb.connect(config=connection_config(threads=1, memory_limit="1GB"))
    try:
        con.execute("set TimeZone = 'UTC'")  # zone-less timestamps are UTC (case 11)
        return _parse(con, file, spec, staged)
    finally:
        con.close()


def _parse(con, file: SourceFile, spec: ParseSpec, staged: Path) -> ParsedFile:
    display, fmt = file.uri, spec.fmt
    trace = None
    if fmt in ("mooncake", "azure_trace"):
        trace = traces.trace_of(fmt, file.relative_path, spec.traces, display)
    tenant = spec.tenant
    extra = tenants.tenant_fields(fmt, tenant and tenant.field, tenant and tenant.key)
    normaliser = normalise.NORMALISERS[fmt]
    common, params = normaliser("{flat}", spec.epoch_unit, trace, tenants.raw_sql(extra))
    limits, default_limit = spec.limits
    params |= normalise.PARAMS | rule_params(PATHS[fmt], default_limit)
    params |= {"source_file_id": file_id(file.uri), "request_source": spec.source_name}
    params["tenant_is_user"] = tenant is not None and tenant.field == tenants.PERSONAL
    con.register("_limits", _limit_table(limits))
    con.register("_tenants", _tenant_table(tenant.names if tenant else {}))
    with local_copy(file, spec.s3) as path:
        checked = checked_sql(common)
        bad, lines = _checked(con, path, fmt, extra, checked, params, display, staged)
    if fmt in normalise.EPOCH_FIELDS:
        default_unit, epoch_path = normalise.EPOCH_FIELDS[fmt]
        start = trace[0].start if trace else None
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        unit = spec.epoch_unit or default_unit
        normalise.check_epoch(con, _CHECKED, unit, display, epoch_path, start)
    rejects, malformed = _file_rejects(con, params, bad, lines, display)
    by_day, users, keys = _accepted_summary(con, spec.salt is not None)
    date = file_date(file.relative_path)
    # An undated file's first arrival day, rejected rows' included: a file of nothing but
    # implausible rows and one malformed line still homes that line somewhere.
    arrivals = set(by_day) | set(rejects["arrival_ts"].dt.date().drop_nulls())
    home = date or (min(arrivals) if arrivals else None)
    rejects = _rejects(bad, rejects, display, home)
    uri, fid = file.uri, file_id(file.uri)
    return ParsedFile(uri, fid, date, lines, malformed, staged, users, keys, by_day, rejects)


# The file's rejects and summaries are fetched as Python values and numpy, never as Arrow or
# polars views: those would keep this file's whole DuckDB alive as long as the run keeps them.


def _file_rejects(con, params: dict, bad: list, lines: int, display: str):
    """(rejects, malformed lines); more than 1 % malformed fails the file (case 26)."""
    sql = rejects_sql(_CHECKED)
    found = con.execute(sql, normalise.bound(params, sql)).fetchall()
    rejects = pl.DataFrame(found, schema=_FOUND_SCHEMA, orient="row")
    malformed = len(bad) + int(rejects["malformed"].sum())
    if lines and malformed / lines > MAX_MALFORMED_RATIO:
        raise SourceError(
            display,
            f"{malformed} of {lines} lines are malformed "
            f"({100 * malformed / lines:.2f} %); more than 1 % fails the file",
        )
    return rejects, malformed


def _accepted_summary(con, hashed: bool) -> tuple[dict[dt.date, int], list[str], np.ndarray]:
    """The accepted rows per arrival day, their distinct users (to hash, if ``hashed``) and
    their request id hashes."""
    accepted = f"from {_CHECKED} where _rule is null"
    # By whole days since the epoch: a UTC date without ICU's slower calendar cast.
    days = f"select epoch_us(arrival_ts) // {_DAY_US}, count(*) {accepted} group by all"
    by_day = {_EPOCH + dt.timedelta(days=d): n for d, n in con.execute(days).fetchall()}
    users = []
    if hashed:
        found = con.execute(f'select distinct "user" {accepted} and "user" is not null')
        users = [u for (u,) in found.fetchall()]
    keys = con.execute(f"select _key_hash {accepted}").fetchnumpy()["_key_hash"]
    return by_day, users, keys


def _checked(con, path: Path, fmt: str, extra, checked: str, params, display: str, staged: Path):
    """Write the ``checked_sql`` rows to ``staged`` and view them as ``checked``: the fast
    path's if DuckDB reads the file cleanly with one row per record, else the careful path's.
    ``extra``: the tenant's fields, read with the format's own. Returns (malformed lines,
    records)."""
    fields = JSON_FORMATS.get(fmt)
    fields = fields + extra if fields else None
    flat, fast_params = fast_sql(fields) if fields else traces.azure_fast_sql()
    # COPY takes no parameter for its target; the path is our own temp file's, quoted.
    into = "'" + str(staged).replace("'", "''") + "'"
    copy = f"copy ({checked}) to {into} (format parquet, compression uncompressed)"
    view = f"create or replace view {_CHECKED} as select * from read_parquet({into})"
    sql = copy.replace("{flat}", f"({flat})")
    read = True
    with line_stream(path) as stream:
        run = {**params, **fast_params, "path": str(stream.path)}
        try:
            con.execute(sql, normalise.bound(run, sql))
        except duckdb.Error:  # never shown: DuckDB's text can quote a line
            read = False
    if read and stream.error is None and stream.lines is not None:
        con.execute(view)
        records = stream.lines - traces.HEADER_LINES.get(fmt, 0)
        rows, containers = con.execute(
            f"select count(*), coalesce(bool_or(_container), false) from {_CHECKED}"
        ).fetchone()
        if rows == records and not containers:
            return [], records
    # Careful: a second read, only of a file with a bad line (or a blank one).
    flat = careful(path, fields, display) if fields else traces.azure_careful(path, display)
    con.register(_CAREFUL, flat.frame.to_arrow())
    sql = copy.replace("{flat}", f"(select *, false as _container from {_CAREFUL})")
    con.execute(sql, normalise.bound(params, sql))
    con.execute(view)
    return flat.bad, flat.lines


def _limit_table(limits: dict[str, int]) -> pa.Table:
    schema = {"model_name": pl.String, "max_tokens": pl.Int64}
    frame = pl.DataFrame({"model_name": list(limits), "max_tokens": list(limits.values())}, schema)
    return frame.to_arrow()


def _tenant_table(names: dict[str, str]) -> pa.Table:
    schema = {"raw_value": pl.String, "tenant": pl.String}
    return pl.DataFrame(
        {"raw_value": list(names), "tenant": list(names.values())}, schema
    ).to_arrow()


def _rejects(bad, rejects: pl.DataFrame, display: str, home: dt.date | None) -> pl.DataFrame:
    malformed = pl.DataFrame(
        [(r.source_file, r.line, r.column_name, r.reason, home) for r in bad],
        schema=REJECT_SCHEMA,
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
    return pl.concat([malformed, values.cast(REJECT_SCHEMA)], how="vertical")
