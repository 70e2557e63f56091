"""One UTC day of request logs into ``raw.inference_requests``, and its quarantine.

Days are by arrival. A log file named with a date (``…/date=2026-11-02/…`` or any
``YYYY-MM-DD`` in its path) holds requests logged that day — at completion, so arrivals from
that day or the one before; day D therefore reads the files dated D and D + 1, plus every
undated file. Each file is parsed once per run (``parse.py``, two at a time); its rows go
straight into the day's write transaction and, while a later day still needs them, the stash
(``store.py``). Memory is a few files' rows, whatever the day's size.

A file's malformed lines are quarantined in its home partition (its date, else the day of its
first arrival), every other reject in the partition of its arrival, so each bad line lands in
exactly one partition however the days are batched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import S3Config, SourceConfig
from pipelines.costmodel.catalog import llm_catalog
from pipelines.ingest.file_ids import register_files
from pipelines.ingest.quarantine import QUARANTINE_SCHEMA
from pipelines.ingest.requests import store
from pipelines.ingest.requests.fields import PATHS
from pipelines.ingest.requests.parse import (
    MAX_MALFORMED_RATIO,
    REJECT_SCHEMA,
    ParsedFile,
    ParseSpec,
    file_date,
    parse_file,
)
from pipelines.ingest.requests.privacy import user_hash
from pipelines.ingest.storage import SourceFile, list_files
from pipelines.registry import Registry
from pipelines.warehouse import connection_config

__all__ = ["MAX_MALFORMED_RATIO", "DayLoad", "RequestLoader", "day_files", "token_limits"]
SUFFIXES = {
    "vllm_jsonl": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz"),
    "litellm": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz"),
    "mooncake": (".jsonl", ".jsonl.gz"),
    "azure_trace": (".csv", ".csv.gz"),
}
_PARSERS = 2  # files parsed at once (a gzip stream is read serially: two keep two cores busy)
# Files submitted ahead of the one being stored: parsing goes on while DuckDB writes one.
_AHEAD = 6


def token_limits(registry: Registry) -> tuple[dict[str, int], int]:
    """Request model name -> its LLM's max_position_embeddings; unknown names get the largest."""
    catalog = llm_catalog()
    limits = {
        name: catalog[d.llm].max_position_embeddings
        for d in registry.deployments
        for name in d.match.request_model_names
    }
    return limits, max(a.max_position_embeddings for a in catalog.values())


@dataclass
class DayLoad:
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
    stored: dict[str, int] = field(default_factory=dict)  # rows in raw.inference_requests
    requests: pl.DataFrame | None = None  # the day's rows, from ``load_day`` only

    @property
    def rows(self) -> int:
        return sum(self.stored.values())


@dataclass
class RequestLoader:
    """Loads the configured request source day by day (see the module docstring)."""

    source_name: str
    source: SourceConfig
    location: object  # Path or s3:// URI
    limits: tuple[dict[str, int], int]
    salt: str | None = None
    s3: S3Config | None = None
    _parsed: dict[str, ParsedFile] = field(default_factory=dict)  # rows dropped: in the stash
    _con: duckdb.DuckDBPyConnection | None = None  # whose stash ``_parsed`` refers to
    _memory: duckdb.DuckDBPyConnection | None = None  # load_day's warehouse
    _user_hashes: dict[str, str] = field(default_factory=dict)  # user -> salted hash
    _users_table: str | None = None  # registered on ``_con``

    @property
    def fmt(self) -> str:
        return self.source.format or "vllm_jsonl"

    def files(self) -> list[SourceFile]:
        found = list_files(self.location, self.s3)
        return [f for f in found if f.relative_path.endswith(SUFFIXES[self.fmt])]

    def load_day(self, day: dt.date, files: list[SourceFile]) -> DayLoad:
        """``store_day`` into an in-memory warehouse, with the day's rows as a frame."""
        if self._memory is None:
            self._memory = duckdb.connect(config=connection_config())
            self._memory.execute("set TimeZone = 'UTC'")
        loaded = self.store_day(self._memory, day, files)
        return replace(loaded, requests=store.day_rows(self._memory, store.window(day)))

    def store_day(
        self,
        con: duckdb.DuckDBPyConnection,
        day: dt.date,
        files: list[SourceFile],
        run_days: list[dt.date] | None = None,
        before_commit: Callable[[DayLoad], None] | None = None,
    ) -> DayLoad:
        """Replace the day's rows of ``raw.inference_requests`` in one transaction, which
        ``before_commit`` may add to (the day's quarantine and ledger rows).

        ``run_days``: the days this run loads, in order; a file no later one reads is not
        kept for it. None: any later day may come (``load_day``).
        """
        scope = day_files(files, day)
        store.paths_to_ids(con, self.source_name)
        if con is not self._con:
            self._parsed, self._con, self._users_table = {}, con, None
        window = store.window(day)
        keys = [_key(f) for f in scope]
        later = [d for d in run_days if d > day] if run_days is not None else None
        # One DuckDB thread while the parsers have the cores: with two, the statement's own
        # thread spins waiting for the other's work, burning a core the parsers need.
        threads = int(con.execute("select current_setting('threads')").fetchone()[0])
        con.execute("set threads = 1")
        con.execute("begin transaction")
        try:
            store.ensure_tables(con)
            register_files(con, self.source_name, [f.uri for f in scope])
            con.execute(f"delete from {store.TABLE} where {store.IN_DAY}", window)
            earlier = [self._parsed[k].file_id for k in keys if k in self._parsed]
            store.from_stash(con, earlier, window)
            self._store_new(con, [f for f in scope if _key(f) not in self._parsed], day, later)
            results = [self._parsed[k] for k in keys]
            ids, uris = [r.file_id for r in results], _uris(results)
            hashes = [r.keys for r in results]
            conflicts, dropped = store.settle_duplicates(con, window, hashes, ids, uris)
            stored = store.stored_by_file(con, window)
            loaded = self._day_load(day, scope, results, conflicts, dropped, stored)
            if before_commit is not None:
                before_commit(loaded)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            self._parsed, self._con, self._users_table = {}, None, None  # the stash rolled back
            raise
        finally:
            con.execute(f"set threads = {threads}")
        self._forget(day, later)
        return loaded

    def _store_new(self, con, files: list[SourceFile], day: dt.date, later) -> None:
        """Parse ``files`` and insert each one's rows of ``day`` as soon as it is parsed, while
        the next ones are parsed (DuckDB writes the day's row groups to disk as they fill,
        however many inserts fill them)."""
        window = store.window(day)
        with (
            tempfile.TemporaryDirectory(prefix="unitcost-requests-") as folder,
            # Closed first on an error: the parsers stop before their folder is removed.
            contextlib.closing(self._parse(files, Path(folder))) as parsed_files,
        ):
            for key, parsed in parsed_files:
                users = self._register_users(con, parsed.users)
                needed = _needed(parsed.date, day, later)
                if needed or set(parsed.by_day) - {day}:  # usually neither: nothing to stash
                    store.stash_rows(con, parsed.staged, window, users, needed)
                if day in parsed.by_day:
                    store.insert_rows(con, parsed.staged, window, users)
                parsed.staged.unlink()
                self._parsed[key] = replace(parsed, staged=None)

    def _register_users(self, con, users: list[str]) -> str | None:
        if self.salt is None:
            return None
        new = [u for u in users if u not in self._user_hashes]
        self._user_hashes.update((u, user_hash(u, self.salt)) for u in new)
        if new or self._users_table is None:
            self._users_table = store.register_users(con, self._user_hashes)
        return self._users_table

    def _parse(self, files: list[SourceFile], stage: Path) -> Iterator[tuple[str, ParsedFile]]:
        """Parsed files in order, ``_PARSERS`` at a time and at most ``_AHEAD`` ahead of the
        caller; a file's error is raised in order."""
        spec = ParseSpec(
            self.source_name,
            self.fmt,
            self.source.epoch_unit,
            list(self.source.traces or []),
            self.limits,
            self.salt,
            self.s3,
            self.source.tenant,
        )
        with ThreadPoolExecutor(max_workers=_PARSERS) as pool:
            waiting = deque()
            todo = iter(files)
            try:
                for number, file in enumerate(todo):
                    staged = stage / f"{number}.parquet"
                    waiting.append((file, pool.submit(parse_file, file, spec, staged)))
                    if len(waiting) > _AHEAD:
                        done, future = waiting.popleft()
                        yield _key(done), future.result()
                while waiting:
                    done, future = waiting.popleft()
                    yield _key(done), future.result()
            finally:
                for _, future in waiting:
                    future.cancel()

    def _forget(self, day: dt.date, later: list[dt.date] | None) -> None:
        for key in [k for k, r in self._parsed.items() if not _needed(r.date, day, later)]:
            del self._parsed[key]
        store.keep_in_stash(self._con, [r.file_id for r in self._parsed.values()])

    def _day_load(self, day, scope, results, conflicts, dropped, stored) -> DayLoad:
        request_id = PATHS[self.fmt]["request_id"]
        conflict_q = conflicts.select(
            source_file="source_file",
            line="source_line",
            column_name=pl.lit(request_id),
            reason=pl.lit("request_id appears more than once with conflicting content"),
        )
        file_q = [r.rejects.filter(pl.col("day") == day).drop("day") for r in results]
        quarantine = pl.concat(
            [*file_q, conflict_q.cast({k: v for k, v in REJECT_SCHEMA.items() if k != "day"})],
            how="vertical",
        )
        quarantine = quarantine.with_columns(partition_day=pl.lit(day)).sort("source_file", "line")
        per_file = dropped.group_by("source_file").len().sort("source_file")
        uris = _uris(results)
        return DayLoad(
            quarantine.cast(QUARANTINE_SCHEMA),
            [f.uri for f in scope],
            max((r.malformed / r.lines for r in results if r.lines), default=0.0),
            dict(per_file.iter_rows()),
            {r.uri: r.lines for r in results},
            {r.uri: _outside_day(r, day) for r in results},
            {uris[i]: n for i, n in stored.items()},
        )


def day_files(files: list[SourceFile], day: dt.date) -> list[SourceFile]:
    """The files day D reads: dated D or D + 1, or undated (see the module docstring)."""
    return [f for f in files if file_date(f.relative_path) in (None, day, _next(day))]


def _key(file: SourceFile) -> str:
    return f"{file.uri}@{file.version}"


def _uris(results: list[ParsedFile]) -> dict[int, str]:
    return {r.file_id: r.uri for r in results}


def _needed(date: dt.date | None, day: dt.date, later: list[dt.date] | None) -> bool:
    """Does a later day of the run read the file dated ``date``?"""
    if later is None:
        return date is None or date > day
    return any(date is None or d <= date <= _next(d) for d in later)


def _outside_day(result: ParsedFile, day: dt.date) -> int:
    """Records of a file that another partition owns: accepted rows arriving on another day
    (stored, deduplicated or quarantined there) and rejects homed on another day.

    Counted from the records themselves, not as lines minus the rest, so a record that no
    partition takes shows up in the ledger as unaccounted. A reject with no home day would
    be one (an undated file with no arrival time on any line; but all its lines are then
    malformed, which fails the file).
    """
    other_rows = sum(n for d, n in result.by_day.items() if d != day)
    rejects = result.rejects.filter(pl.col("day").is_not_null() & (pl.col("day") != day))
    return other_rows + rejects.height


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)
