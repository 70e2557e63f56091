"""The contract of ``raw.inference_requests``: one row per (request_source, request_id).

No prompt, completion or message text column exists, ever (RELIABILITY.md case 31). Tokens
are NULL (never 0) when the log had no usable ``usage``, flagged by ``usage_missing``.
"""

from __future__ import annotations

import polars as pl

TS = pl.Datetime("us", "UTC")

RAW_REQUESTS = {
    "request_source": pl.String,  # the unitcost.yaml source name
    "request_id": pl.String,
    "model_name": pl.String,
    "host": pl.String,
    "pod": pl.String,
    "server": pl.String,  # host:port of the engine server (one replica), from the upstream URL
    "namespace": pl.String,
    "arrival_ts": TS,
    "first_token_ts": TS,  # NULL when no token was produced (errors) or not logged
    "finish_ts": TS,
    "ttft_ms": pl.Float64,  # first_token_ts - arrival_ts
    "e2e_ms": pl.Float64,  # finish_ts - arrival_ts
    "input_tokens": pl.Int64,
    "output_tokens": pl.Int64,
    "cached_tokens": pl.Int64,  # NULL also when the log has usage but no cache detail
    "usage_missing": pl.Boolean,
    # The line held bytes that are not UTF-8 (e.g. a prompt cut mid-character): they were
    # replaced by U+FFFD and the record kept; a read field may hold the replacement character.
    "invalid_utf8": pl.Boolean,
    "status": pl.String,  # 'ok', 'error' or 'unknown'
    "user_hash": pl.String,  # HMAC-SHA256 of the user id (salted), NULL without a salt
    # The file the row was read from: pipelines/ingest/file_ids.py, its path in raw.source_files.
    "source_file_id": pl.Int64,
    "source_line": pl.Int64,  # 1-based physical line, header included, by our own counter
    # Who asked, as sources.requests.tenant names it (tenants.py): a team label, or the user's
    # hash when the tenant is the user; NULL when the log names none (`unattributed`). Last:
    # a warehouse from before it gets it appended (store.ensure_tables).
    "tenant": pl.String,
}

# The same contract as DuckDB column types, for the table's DDL.
_SQL_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN"}
RAW_REQUESTS_SQL = {
    name: "TIMESTAMPTZ" if dtype == TS else _SQL_TYPES[dtype]
    for name, dtype in RAW_REQUESTS.items()
}

# Everything that describes the request itself: two copies of a request_id that agree on
# these are one request delivered twice; disagreeing copies are a conflict (case 29).
# ``invalid_utf8`` is about the delivered bytes, not the request: a clean and a corrupted copy
# of one request are still one request.
CONTENT_COLUMNS = [
    c
    for c in RAW_REQUESTS
    if c not in ("request_source", "source_file_id", "source_line", "invalid_utf8")
]
