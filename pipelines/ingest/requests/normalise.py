"""From a format's flat fields to the common request columns (mapping: ``fields.py``).

The common frame has: source_line, request_id, model_name, host, pod, server, namespace, arrival_ts,
first_token_ts, finish_ts (UTC), input/output/cached_tokens, status ('ok', 'error' or
'unknown'), user, plus ``_bad_column`` naming a timestamp field that did not parse.
"""

from __future__ import annotations

import polars as pl

TS = pl.Datetime("us", "UTC")
_MS = 1000  # µs per ms
_OK = ("ok", "success", "succeeded")
_ERROR = ("error", "failure", "failed")


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


def vllm_jsonl(flat: pl.DataFrame) -> pl.DataFrame:
    ts = {"arrival_time": "arrival_time", "first_token_time": "first_token_time"}
    ts["finish_time"] = "finish_time"
    created = pl.from_epoch(pl.col("created"), time_unit="s").dt.replace_time_zone("UTC")
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


def litellm(flat: pl.DataFrame) -> pl.DataFrame:
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
