"""From a format's flat fields to the common request columns, in DuckDB SQL (``fields.py``).

One implementation for both paths: the fast path runs it over DuckDB's own read of the file,
the careful path over the frame it parsed line by line, registered in the same connection.

The common relation has: source_line, invalid_utf8, request_id, model_name, host, pod, server,
namespace, arrival_ts, first_token_ts, finish_ts (UTC), input/output/cached_tokens, status
('ok', 'error' or 'unknown'), user, ``_tenant_raw`` (the configured tenant field as logged,
``tenants.raw_sql``), plus ``_bad_column`` (the path of a timestamp field that did
not parse), ``_epoch`` (an epoch number that became the arrival time: ``check_epoch``'s input)
and ``_container`` (the fast read turned an object or array into text: read carefully instead).

Values are named parameters (``PARAMS`` plus each normaliser's own); every builder returns
``(sql, params)``. Arithmetic that could overflow (absurd epochs or latencies) is wrapped in
``try``: the value is NULL, the row then fails a rule or the epoch check, never the query.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from pipelines.ingest.errors import SourceError

_OK = ["ok", "success", "succeeded", "completed"]  # completed: the Responses API
_ERROR = ["error", "failure", "failed"]
EPOCH_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}  # µs per unit
_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# Epoch times outside these years are a unit mix-up, not traffic: milliseconds read as
# seconds land near the year 56,000, seconds read as milliseconds in January 1970. Either
# would fall into no daily partition and vanish without a trace (RELIABILITY case 11).
_PLAUSIBLE_S = (
    dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp(),
    dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp(),
)
_YEAR_S = 365.2425 * 86400
# Offsets from a trace's configured start (Mooncake) span a trace, hours to days: one past a
# year is an absolute epoch time or another unit, even if start + offset is before 2100.
_MAX_OFFSET_S = 366 * 86400

_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]*://"
PARAMS = {
    "ok_words": _OK,
    "error_words": _ERROR,
    # An upstream URL's host ([v6] or name) and port, in one match per row.
    "api_pattern": _SCHEME + r"(\[([^\]/]+)\]|([^/:\[]+))(:\d+)?",
}
_API = "regexp_extract(api_base, $api_pattern, ['hostport', 'v6', 'name', 'port']) as _api"
_API_HOST = "coalesce(nullif(_api.v6, ''), nullif(_api.name, ''))"
# host:port of the engine server (one replica); NULL without a port: a bare host may front
# several replicas.
_API_SERVER = "case when _api.port <> '' then _api.hostport || _api.port end"
_NO_TIMES = "null::timestamptz as first_token_ts, null::timestamptz as finish_ts"
_NO_TENANT = "null::varchar"  # the tenant as logged (tenants.raw_sql), for formats with none


def _status_text(col: str) -> str:
    low = f'lower("{col}")'
    return (
        f"case when list_contains($ok_words, {low}) then 'ok' "
        f"when list_contains($error_words, {low}) then 'error' else 'unknown' end"
    )


def _after(ts: str, ms: str) -> str:
    """``ts`` plus ``ms`` milliseconds, rounded half to even to whole µs (as polars did)."""
    us = f"epoch_us({ts}) + cast(round_even({ms} * 1000, 0) as bigint)"
    return f"try(make_timestamp({us})::timestamptz)"


def _bad_ts(paths: dict[str, str]) -> tuple[str, dict]:
    """The path of the first timestamp field (in ``paths`` order) present but unparseable."""
    cases = " ".join(f'when "{col}__bad" then $bad_{col}' for col in paths)
    return f"case {cases} end", {f"bad_{col}": path for col, path in paths.items()}


def vllm_jsonl(flat: str, epoch_unit: str | None, trace=None, tenant=_NO_TENANT):
    del trace
    unit = epoch_unit or "s"
    # ``created`` (Chat Completions; ``created_at`` in the Responses API) is used where no
    # ``arrival_time`` is logged; only those values must be times.
    created = 'coalesce("created", "created_at")'
    created_us = f"{created} // 1000" if unit == "ns" else f"{created} * $created_us"
    bad, params = _bad_ts({c: c for c in ("arrival_time", "first_token_time", "finish_time")})
    sql = f"""
        select source_line, invalid_utf8, _container, id as request_id, model as model_name,
            coalesce(nullif(host, ''), {_API_HOST}) as host, pod, {_API_SERVER} as server,
            namespace, arrival_ts,
            coalesce(first_token_time_ts, {_after("arrival_ts", "ttft_ms")}) as first_token_ts,
            coalesce(finish_time_ts, {_after("arrival_ts", "e2e_ms")}) as finish_ts,
            coalesce(prompt_tokens, api_input_tokens) as input_tokens,
            coalesce(completion_tokens, api_output_tokens) as output_tokens,
            coalesce(cached_tokens, api_cached_tokens) as cached_tokens,
            case when status_code between 200 and 299 then 'ok'
                when status_code is not null then 'error' else {_status_text("status")} end
                as status,
            "user", {tenant} as _tenant_raw, {bad} as _bad_column,
            case when arrival_time_ts is null and not arrival_time__bad then {created} end
                as _epoch
        from (
            select *, coalesce(arrival_time_ts, try(make_timestamp({created_us})::timestamptz))
                as arrival_ts, {_API}
            from {flat}
        )"""
    if unit != "ns":
        params["created_us"] = EPOCH_US[unit]
    return sql, params


def litellm(flat: str, epoch_unit: str | None, trace=None, tenant=_NO_TENANT):
    del epoch_unit, trace  # LiteLLM logs ISO 8601 text only
    times = {"arrival_time": "startTime", "first_token_time": "completionStartTime"}
    bad, params = _bad_ts({**times, "finish_time": "endTime"})
    sql = f"""
        select source_line, invalid_utf8, _container,
            coalesce(id, payload_id) as request_id,
            coalesce(nullif(model_group, ''), model) as model_name, {_API_HOST} as host,
            null::varchar as pod, {_API_SERVER} as server, null::varchar as namespace,
            arrival_time_ts as arrival_ts, first_token_time_ts as first_token_ts,
            finish_time_ts as finish_ts, prompt_tokens as input_tokens,
            completion_tokens as output_tokens, cached_tokens, {_status_text("status")} as status,
            coalesce(nullif(end_user, ''), nullif("user", '')) as "user",
            {tenant} as _tenant_raw, {bad} as _bad_column,
            null::bigint as _epoch
        from (select *, {_API} from {flat})"""
    return sql, params


def _trace_columns() -> str:
    """Traces carry no request id, model or host: the id is ``<file>:<line>``, stable across
    re-runs; model and host come from the file's ``sources.requests.traces`` entry."""
    return (
        "$relative_path || ':' || cast(source_line as varchar) as request_id, "
        "$model_name::varchar as model_name, $host::varchar as host, null::varchar as pod, "
        "null::varchar as server, null::varchar as namespace"
    )


def _trace_params(trace) -> dict:
    entry, relative_path = trace
    return {"relative_path": relative_path, "model_name": entry.model_name, "host": entry.host}


def mooncake(flat: str, epoch_unit: str | None, trace, tenant=_NO_TENANT):
    del tenant  # a trace names no tenant
    entry = trace[0]
    start = entry.start if entry.start.tzinfo else entry.start.replace(tzinfo=dt.UTC)
    unit = epoch_unit or "ms"  # Mooncake's published traces count milliseconds
    offset_us = "cast(round_even(timestamp_ms * $offset_us, 0) as bigint)"
    sql = f"""
        select source_line, invalid_utf8, _container, {_trace_columns()},
            try(make_timestamp(epoch_us($start::timestamptz) + {offset_us})::timestamptz)
                as arrival_ts,
            {_NO_TIMES}, prompt_tokens as input_tokens, completion_tokens as output_tokens,
            null::bigint as cached_tokens, 'ok' as status, null::varchar as "user",
            {_NO_TENANT} as _tenant_raw, null::varchar as _bad_column, timestamp_ms as _epoch
        from {flat}"""
    return sql, {**_trace_params(trace), "start": start, "offset_us": float(EPOCH_US[unit])}


def azure_trace(flat: str, epoch_unit: str | None, trace, tenant=_NO_TENANT):
    del epoch_unit, tenant  # Azure's TIMESTAMP is text, never an epoch number; no tenant
    # Zone-less, so UTC (case 11); its 7 fractional digits are truncated to µs by the cast.
    arrival = "try_cast(arrival_time as timestamptz)"
    sql = f"""
        select source_line, false as invalid_utf8, false as _container, {_trace_columns()},
            {arrival} as arrival_ts, {_NO_TIMES}, prompt_tokens as input_tokens,
            completion_tokens as output_tokens, null::bigint as cached_tokens, 'ok' as status,
            null::varchar as "user", {_NO_TENANT} as _tenant_raw,
            case when arrival_time is not null and {arrival} is null then 'TIMESTAMP' end
                as _bad_column,
            null::bigint as _epoch
        from {flat}"""
    return sql, _trace_params(trace)


def bound(params: dict, *sql: str) -> dict:
    """The parameters the statements ``sql`` name (DuckDB refuses any extra one)."""
    names = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", " ".join(sql)))
    return {name: params[name] for name in names}


NORMALISERS = {
    "vllm_jsonl": vllm_jsonl,
    "litellm": litellm,
    "mooncake": mooncake,
    "azure_trace": azure_trace,
}
# Formats whose arrival can be an epoch number: its default unit and its path in the log.
EPOCH_FIELDS = {"vllm_jsonl": ("s", "created"), "mooncake": ("ms", "timestamp")}


def check_epoch(
    con: duckdb.DuckDBPyConnection,
    table: str,
    unit: str,
    display: str,
    path: str,
    start: dt.datetime | None = None,
) -> None:
    """Fail the file if an epoch number that becomes a request time (``_epoch`` of ``table``)
    disagrees in magnitude with the configured ``unit``: an absolute time must fall in
    2000-2099, an offset from a trace's ``start`` within a year of it.

    Failing (not quarantining) because a wrong unit is a config error that affects every
    line alike; quarantining them all would only hide it behind the 1 % limit. The message
    names the file, the first such line, the field and the unit the values look like.
    """
    low, high = (0, _MAX_OFFSET_S) if start is not None else _PLAUSIBLE_S
    seconds = "_epoch::double * $factor"
    hits, line, value = con.execute(
        f"select count(*), min(source_line), arg_min(_epoch, source_line) from {table} "
        f"where _epoch is not null and not ({seconds} >= $low and {seconds} < $high)",
        {"factor": EPOCH_US[unit] / 1e6, "low": low, "high": high},
    ).fetchone()
    if hits == 0:
        return
    value = float(value)
    base = start.timestamp() if start is not None else 0.0
    year = int(1970 + (value * EPOCH_US[unit] / 1e6 + base) / _YEAR_S)
    absolute = [n for u, n in _UNIT_NAMES.items() if _plausible(value, u, None)]
    relative = [n for u, n in _UNIT_NAMES.items() if _plausible(value, u, start)]
    if start is not None and absolute:
        looks = f"; they look like absolute epoch {absolute[0]}, not offsets from traces[].start"
    elif relative:
        looks = f"; they look like {relative[0]}"
    else:
        looks = ""
    raise SourceError(
        display,
        f"{hits} epoch value(s) are not times in {_UNIT_NAMES[unit]} (the first reads "
        f"as the year {year}){looks}: set sources.requests.epoch_unit in unitcost.yaml",
        line=line,
        column=path,
    )


def _plausible(value: float, unit: str, start: dt.datetime | None) -> bool:
    seconds = value * EPOCH_US[unit] / 1e6
    if start is None:
        return _PLAUSIBLE_S[0] <= seconds < _PLAUSIBLE_S[1]
    return 0 <= seconds < _MAX_OFFSET_S
