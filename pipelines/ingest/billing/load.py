"""Ingest a billing source into DuckDB: each delivery replaces its billing periods atomically.

For every delivery (one export's billing period, or a manifest-less FOCUS folder):
1. A fingerprint already in the ledger for that period is a no-op (``unchanged``).
2. Every listed file is read and validated; one bad value fails the delivery (rule 2).
3. One transaction: refuse an account+period another source already holds (case 6), delete
   the source's rows for the period, insert the new rows, append the ledger. Nothing partial
   is ever committed (rules 1 and 5, case 37).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.config import S3Config
from pipelines.ingest.billing import ledger
from pipelines.ingest.billing.columns import LINE_ITEM_COLUMNS, line_items_ddl
from pipelines.ingest.billing.commit import check_periods, commit_delivery
from pipelines.ingest.billing.cur1 import read_cur1
from pipelines.ingest.billing.cur2 import read_cur2
from pipelines.ingest.billing.currency import Rates, check_currencies
from pipelines.ingest.billing.files import TruncatedFile, read_billing_file
from pipelines.ingest.billing.focus import read_focus
from pipelines.ingest.billing.manifest import Delivery, discover, rediscover
from pipelines.ingest.billing.restate import keep_latest
from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import CHANGE_TRIES, ObjectChanged, SourceFile, read_bytes
from pipelines.quality.ledger import build_ledger
from pipelines.quality.ledger import ensure_ledger as ensure_ingest_ledger
from pipelines.warehouse import add_missing_columns, connection_config

log = logging.getLogger(__name__)
READERS = {"focus": read_focus, "cur2": read_cur2, "cur1": read_cur1}


@dataclass(frozen=True)
class BillingSource:
    name: str  # the unitcost.yaml source name; manifest-less deliveries are recorded under it
    location: str | Path
    fmt: str  # "focus", "cur2" or "cur1" (legacy CUR)
    s3: S3Config | None = None
    fx_rates_usd: Rates = field(default_factory=dict)  # unitcost.yaml billing.fx_rates_usd


@dataclass
class DeliveryResult:
    billing_source: str
    periods: list[dt.date]
    delivery_id: str
    status: str
    row_count: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    deliveries: list[DeliveryResult]
    ignored_files: list[str]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(line_items_ddl(ledger.LINE_ITEMS))
    # A warehouse made before a column existed gets it, NULL in the periods already loaded
    # until they are delivered again (an unchanged delivery is not re-read).
    add_missing_columns(con, "raw", "billing_line_items", LINE_ITEM_COLUMNS)
    ledger.ensure_ledger(con)
    ensure_ingest_ledger(con)  # its rows are written in each delivery's transaction


def ingest_billing(
    con: duckdb.DuckDBPyConnection, source: BillingSource, periods: set[dt.date] | None = None
) -> IngestResult:
    """Ingest every delivery of ``source`` whose period is in ``periods`` (None: all)."""
    ensure_tables(con)
    found = discover(source.location, source.s3, source.fmt, source.name)
    for path in found.ignored:
        log.warning("billing: ignoring %s (no manifest lists it)", path)
    results, errors = [], []
    for delivery in sorted(found.deliveries, key=lambda d: (d.period or dt.date.min, d.root)):
        if periods is not None and delivery.period is not None and delivery.period not in periods:
            continue
        # A bad period fails the run, but only after the good ones landed: each period is
        # replaced on its own, and the last good version of the bad one stays (case 2).
        try:
            results.append(_ingest_retrying(con, source, delivery))
        except (SourceError, ValueError) as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
    return IngestResult(results, found.ignored)


def _ingest_retrying(con, source: BillingSource, delivery: Delivery) -> DeliveryResult:
    """The delivery, read again where S3 let it down (nothing is committed before a retry):
    an object rewritten after the listing lists the period again, ETags pinned anew, up to
    ``CHANGE_TRIES`` tries (case 3); a truncated or corrupt S3 file is downloaded once more,
    as a bad transfer would be (case 17). A local file is what it is: no retry."""
    tries, downloads = 1, 1
    while True:
        try:
            if delivery.error is not None:
                raise delivery.error
            return _ingest_delivery(con, source, delivery)
        except ObjectChanged as exc:
            if tries == CHANGE_TRIES:
                raise exc.failed(tries) from None
            tries += 1
            log.warning("billing: %s; listing again (try %d of %d)", exc, tries, CHANGE_TRIES)
            delivery = rediscover(source.location, source.s3, source.fmt, source.name, delivery)
        except TruncatedFile as exc:
            if not exc.file.startswith("s3://"):
                raise
            if downloads == 2:
                raise SourceError(exc.file, f"{exc.problem} (downloaded twice)") from None
            downloads += 1
            log.warning("billing: %s; downloading the delivery again", exc)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _delivery_id(billing_source: str, period: dt.date | None, fingerprint: str) -> str:
    return _sha256(f"{billing_source}|{period or 'all'}|{fingerprint}".encode())[:20]


def _ingest_delivery(con, source: BillingSource, delivery: Delivery) -> DeliveryResult:
    name = delivery.billing_source
    if delivery.manifest_bytes is not None:
        listing = [(f.relative_path, f.size_bytes) for f in delivery.files]
        fingerprint = _sha256(delivery.manifest_bytes + json.dumps(listing).encode())
        last = ledger.last_delivery(con, name, delivery.period)
        if last is not None and last[1] == fingerprint:
            return _unchanged(con, source, delivery, fingerprint, [delivery.period])
    with _fetched(delivery.files, source.s3) as local:
        shas = {f.relative_path: _sha256(path.read_bytes()) for f, path in local}
        if delivery.manifest_bytes is None:
            fingerprint = _sha256(json.dumps(sorted(shas.items())).encode())
            known = _known_periods(con, name, fingerprint)
            if known:
                return _unchanged(con, source, delivery, fingerprint, known)
        manifest_less = delivery.manifest_bytes is None
        items, warnings = _read_all(con, source.fmt, local, shas, manifest_less)
    read_counts = _rows_by_period_and_file(items)
    superseded = {}
    if delivery.manifest_bytes is None:
        # No manifest says which files belong together: a restatement saved beside the
        # original must replace it, not be summed with it (restate.py has the rules).
        items, superseded = keep_latest(con, items, delivery.files)
        for period, lost in sorted(superseded.items()):
            warnings.append(
                f"period {period:%Y-%m}: {lost.rows} rows of {', '.join(lost.files)} "
                "superseded by a newer delivery"
            )
    check_currencies(items, source.fx_rates_usd, source.fmt)  # case 8: no rate, no load
    periods = check_periods(source.fmt, delivery.period, con, items)
    if items.num_rows == 0:
        warnings.append(_empty_delivery(con, delivery))
    delivery_id = _delivery_id(name, delivery.period, fingerprint)
    entry = {
        "delivery_id": delivery_id,
        "billing_source": name,
        "source_format": source.fmt,
        "fingerprint_sha256": fingerprint,
        "manifest_uri": delivery.manifest.uri if delivery.manifest else None,
        "manifest_sha256": _sha256(delivery.manifest_bytes) if delivery.manifest_bytes else None,
        "file_sha256s": json.dumps(shas, sort_keys=True),
        "file_count": len(shas),
    }
    status, identical = "empty", {}
    ingest_rows = _ledger_rows(periods, read_counts, _rows_by_period_and_file(items), superseded)
    if periods:
        status, identical = commit_delivery(con, entry, items, periods, superseded, ingest_rows)
    for period, count in sorted(identical.items()):
        if count:  # case 5: kept (separate charges, no line item id), and said so
            warnings.append(
                f"period {period:%Y-%m}: {count} identical row(s) kept as separate charges"
            )
    return DeliveryResult(name, periods, delivery_id, status, items.num_rows, warnings)


def _known_periods(con, name: str, fingerprint: str) -> list[dt.date]:
    rows = con.execute(
        f"select distinct billing_period from {ledger.LEDGER} "
        "where billing_source = ? and fingerprint_sha256 = ? order by 1",
        [name, fingerprint],
    ).fetchall()
    return [r[0] for r in rows]


def _unchanged(con, source, delivery, fingerprint, periods) -> DeliveryResult:
    name = delivery.billing_source
    delivery_id = _delivery_id(name, delivery.period, fingerprint)
    con.execute("begin transaction")
    try:
        for period in periods:
            entry, totals = _previous_entry(con, name, period)
            ledger.record(con, {**entry, "status": "unchanged"}, totals)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return DeliveryResult(name, list(periods), delivery_id, "unchanged", 0)


def _previous_entry(con, name: str, period: dt.date) -> tuple[dict, dict]:
    keep = [
        "delivery_id", "billing_source", "billing_period", "source_format", "fingerprint_sha256",
        "manifest_uri", "manifest_sha256", "file_sha256s", "file_count", "row_count",
        "identical_row_count", "extra_columns", "billing_currency", "billed_cost_total",
        "effective_cost_total",
    ]  # fmt: skip
    rel = con.execute(
        f"select {', '.join(keep)} from {ledger.LEDGER} where ledger_seq = (select max(ledger_seq) "
        f"from {ledger.LEDGER} where billing_source = ? and billing_period = ?)",
        [name, period],
    )
    rows = [dict(zip(keep, r, strict=True)) for r in rel.fetchall()]
    totals = {
        r["billing_currency"]: (r["billed_cost_total"], r["effective_cost_total"]) for r in rows
    }
    entry = {k: v for k, v in rows[0].items() if k != "billing_currency" and "total" not in k}
    return entry, totals


def _empty_delivery(con, delivery: Delivery) -> str:
    """Case 16: a delivery without rows fails if the period had rows before, else warns."""
    where = delivery.manifest.uri if delivery.manifest else delivery.billing_source
    if delivery.period is not None:
        previous = con.execute(
            f"select row_count from {ledger.LEDGER} where billing_source = ? "
            "and billing_period = ? order by ledger_seq desc limit 1",
            [delivery.billing_source, delivery.period],
        ).fetchall()
        if previous and previous[0][0]:
            problem = (
                f"delivery has no rows; the previous delivery of this period had {previous[0][0]}"
            )
            raise SourceError(where, problem)
    warning = f"{where}: delivery has no rows"
    log.warning("billing: %s", warning)
    return warning


def _header_only(con, uri: str, manifest_less: bool) -> str:
    """Case 16 per file: a header and no rows. Without a manifest the file is all that says
    what was delivered, so one that held rows when last loaded fails; else a warning (with
    a manifest, ``_empty_delivery`` judges the period as a whole)."""
    if manifest_less:
        before = ledger.rows_last_loaded(con, uri)
        if before:
            raise SourceError(uri, f"header only, no rows; it had {before} when last loaded")
    return f"{uri}: header only, no rows"


@contextlib.contextmanager
def _fetched(files, s3: S3Config | None) -> Iterator[list[tuple[SourceFile, Path]]]:
    """Local paths for the files (S3 objects downloaded once, ETag-pinned, to a temp dir)."""
    if not any(f.uri.startswith("s3://") for f in files):
        yield [(f, Path(f.uri)) for f in files]
        return
    with tempfile.TemporaryDirectory(prefix="unitcost-billing-") as tmp:
        local = []
        for i, f in enumerate(files):
            path = Path(tmp) / f"{i:05d}-{Path(f.relative_path).name}"
            path.write_bytes(read_bytes(f, s3))
            local.append((f, path))
        yield local


def _read_all(
    con, fmt: str, local, shas: dict[str, str], manifest_less: bool
) -> tuple[pa.Table, list[str]]:
    tables, warnings, seen = [], [], {}
    for f, path in local:
        sha = shas[f.relative_path]
        if sha in seen:  # case 5: the same bytes under two names would double the month
            warnings.append(f"{f.relative_path} duplicates {seen[sha]} (same sha256); skipped")
            continue
        seen[sha] = f.relative_path
        items = READERS[fmt](con, read_billing_file(path, f.uri), f.uri)
        if items.num_rows == 0:
            warnings.append(_header_only(con, f.uri, manifest_less))
        tables.append(items.append_column("source_file", pa.array([f.uri] * items.num_rows)))
    for warning in warnings:
        log.warning("billing: %s", warning)
    if not tables:
        return _empty_items(), warnings
    items = pa.concat_tables(tables, promote_options="permissive")
    # A line-item column the format does not produce (CUR has no FOCUS 1.3 split-allocation
    # columns) is there, NULL and typed, so every later step sees the same columns.
    empty = _empty_items().schema
    for name in empty.names:
        if name not in items.column_names:
            items = items.append_column(
                empty.field(name), pa.nulls(items.num_rows, empty.field(name).type)
            )
    return items, warnings


def _rows_by_period_and_file(items: pa.Table) -> dict[dt.date, dict[str, int]]:
    counts: dict[dt.date, dict[str, int]] = {}
    grouped = items.group_by(["billing_period", "source_file"]).aggregate([([], "count_all")])
    for row in grouped.to_pylist():
        counts.setdefault(row["billing_period"], {})[row["source_file"]] = row["count_all"]
    return counts


def _ledger_rows(periods, read_counts, written_counts, superseded) -> list:
    """``raw.ingest_ledger`` rows for the periods being committed: per file, the data rows read and
    written. Rows of an older delivery a restatement replaced count as dropped duplicates,
    but only for files ``keep_latest`` named as superseded: a file that lost rows any other
    way stays unaccounted and fails ``rows_accounted_for``. Rows of another period are
    recorded under that period (a manifest-less folder commits every period it holds), so
    billing has no ``outside_window``. Files skipped as byte-identical copies are not read.
    Written in the delivery's own transaction (``commit_delivery``).
    """
    rows = []
    for period in periods:
        read = read_counts.get(period, {})
        written = written_counts.get(period, {})
        lost = set(superseded[period].files) if period in superseded else set()
        dropped = {f: read[f] - written.get(f, 0) for f in read if f in lost}
        rows += build_ledger("billing", period, read, written, duplicates_dropped=dropped)
    return rows


def _empty_items() -> pa.Table:
    con = duckdb.connect(config=connection_config(preserve_insertion_order=True))
    con.execute(line_items_ddl("t"))
    query = "select * exclude (billing_source, source_format, delivery_id) from t"
    return con.execute(query).to_arrow_table()
