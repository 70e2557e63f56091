"""From a format's flat fields to the common request columns (mapping: ``fields.py``).

The common frame has: source_line, request_id, model_name, host, pod, server, namespace, arrival_ts,
first_token_ts, finish_ts (UTC), input/output/cached_tokens, status ('ok', 'error' or
'unknown'), user, plus ``_bad_column`` naming a timestamp field that did not parse.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.ingest.errors import SourceError

TS = pl.Datetime("us", "UTC")
_MS = 1000  # µs per ms
_OK = ("ok", "success", "succeeded")
_ERROR = ("error", "failure", "failed")
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


def _plausible(value: float, unit: str, start: dt.datetime | None) -> bool:
    seconds = value * EPOCH_US[unit] / 1e6
    if start is None:
        return _PLAUSIBLE_S[0] <= seconds < _PLAUSIBLE_S[1]
    return 0 <= seconds < _MAX_OFFSET_S


def check_epoch(
    frame: pl.DataFrame,
    column: str,
    used: pl.Expr,
    unit: str,
    display: str,
    path: str,
    start: dt.datetime | None = None,
) -> None:
    """Fail the file if an epoch number that becomes a request time disagrees in magnitude
    with the configured ``unit``: an absolute time must fall in 2000-2099, an offset from a
    trace's ``start`` within a year of it.

    Failing (not quarantining) because a wrong unit is a config error that affects every
    line alike; quarantining them all would only hide it behind the 1 % limit. The message
    names the file, the first such line, the field and the unit the values look like.
    """
    seconds = pl.col(column).cast(pl.Float64) * (EPOCH_US[unit] / 1e6)
    ok = seconds.is_between(*_PLAUSIBLE_S, closed="left")
    if start is not None:
        ok = seconds.is_between(0, _MAX_OFFSET_S, closed="left")
    hits = frame.filter((used & pl.col(column).is_not_null() & ~ok).fill_null(False))
    if hits.height == 0:
        return
    first = hits.sort("source_line").row(0, named=True)
    value = float(first[column])
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
        f"{hits.height} epoch value(s) are not times in {_UNIT_NAMES[unit]} (the first reads "
        f"as the year {year}){looks}: set sources.requests.epoch_unit in unitcost.yaml",
        line=first["source_line"],
        column=path,
    )


def _status_from_text(col: str) -> pl.Expr:
    text = pl.col(col).str.to_lowercase()
    return (
        pl.when(text.is_in(_OK))
        .then(pl.lit("ok"))
        .when(text.is_in(_ERROR))
        .then(pl.lit("error"))
        .otherwise(pl.lit("unknown"))
    )


def _empty_to_null(col: str) -> pl.Expr:
    return pl.when(pl.col(col) == "").then(None).otherwise(pl.col(col)).alias(col)


def _bad_ts(ts_columns: dict[str, str]) -> pl.Expr:
    """The dotted path of the first timestamp field present but unparseable, else NULL."""
    expr = pl.lit(None, dtype=pl.String)
    for col, dotted in reversed(list(ts_columns.items())):
        failed = pl.col(f"{col}__bad")
        expr = pl.when(failed).then(pl.lit(dotted)).otherwise(expr)
    return expr


def _times(frame: pl.DataFrame, ts_columns: dict[str, str], arrival: pl.Expr) -> pl.DataFrame:
    frame = frame.with_columns(
        input_tokens=pl.col("prompt_tokens"), output_tokens=pl.col("completion_tokens")
    )
    first, finish = pl.col("first_token_time_ts"), pl.col("finish_time_ts")
    if "ttft_ms" in frame.columns:
        us = (pl.col("ttft_ms") * _MS).round().cast(pl.Int64)
        first = first.fill_null(arrival + pl.duration(microseconds=us))
        us = (pl.col("e2e_ms") * _MS).round().cast(pl.Int64)
        finish = finish.fill_null(arrival + pl.duration(microseconds=us))
    return frame.with_columns(
        arrival_ts=arrival, first_token_ts=first, finish_ts=finish, _bad_column=_bad_ts(ts_columns)
    )


_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]*://"


def _api_base_host() -> pl.Expr:
    base = pl.col("api_base")
    return pl.coalesce(
        base.str.extract(_SCHEME + r"\[([^\]/]+)\]", 1),
        base.str.extract(_SCHEME + r"([^/:\[]+)", 1),
    )


def _api_base_server() -> pl.Expr:
    """host:port of an upstream URL (the engine server, one replica); NULL without a port:
    a bare host may front several replicas."""
    return pl.col("api_base").str.extract(_SCHEME + r"(\[[^\]/]+\]:\d+|[^/:\[]+:\d+)", 1)


# ``created`` is used where no ``arrival_time`` is logged; only those values must be times.
VLLM_CREATED_USED = pl.col("arrival_time_ts").is_null() & ~pl.col("arrival_time__bad")


def vllm_jsonl(flat: pl.DataFrame, epoch_unit: str | None = None) -> pl.DataFrame:
    ts = {"arrival_time": "arrival_time", "first_token_time": "first_token_time"}
    ts["finish_time"] = "finish_time"
    unit = epoch_unit or "s"
    created = pl.from_epoch(pl.col("created"), time_unit=unit).dt.replace_time_zone("UTC")
    frame = _times(flat, ts, pl.col("arrival_time_ts").fill_null(created.cast(TS)))
    code = pl.col("status_code")
    status = (
        pl.when(code.is_between(200, 299))
        .then(pl.lit("ok"))
        .when(code.is_not_null())
        .then(pl.lit("error"))
        .otherwise(_status_from_text("status"))
    )
    return frame.with_columns(
        request_id=pl.col("id"),
        model_name=pl.col("model"),
        host=pl.coalesce(_empty_to_null("host"), _api_base_host()),
        server=_api_base_server(),
        status=status,
    )


def litellm(flat: pl.DataFrame, epoch_unit: str | None = None) -> pl.DataFrame:
    del epoch_unit  # LiteLLM logs ISO 8601 text only
    ts = {"arrival_time": "startTime", "first_token_time": "completionStartTime"}
    ts["finish_time"] = "endTime"
    frame = _times(flat, ts, pl.col("arrival_time_ts"))
    frame = frame.with_columns(
        _empty_to_null("model_group"), _empty_to_null("end_user"), _empty_to_null("user")
    )
    return frame.with_columns(
        request_id=pl.col("id"),
        model_name=pl.coalesce("model_group", "model"),
        host=_api_base_host(),
        server=_api_base_server(),
        pod=pl.lit(None, dtype=pl.String),
        namespace=pl.lit(None, dtype=pl.String),
        user=pl.coalesce("end_user", "user"),
        status=_status_from_text("status"),
    )


NORMALISERS = {"vllm_jsonl": vllm_jsonl, "litellm": litellm}
