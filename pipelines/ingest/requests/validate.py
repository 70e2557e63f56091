"""Which requests are quarantined, and why; duplicates on (source, request_id).

Two kinds of reject, both quarantined with the line and the field's path in the log:

* **malformed** (case 26): unparseable JSON or timestamps, wrong types, no id or arrival.
  These count towards the file's 1 % bad-line limit.
* **implausible** (case 28): negative tokens, prompt + completion over the LLM's
  ``max_position_embeddings`` (via the registry's request model names and the catalog),
  cached > prompt, a finish or first token before arrival. Each is one impossible record, not
  a broken file, so they do not count towards the limit; the asset check reports them.
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.requests.schema import CONTENT_COLUMNS

REJECT_SCHEMA = {
    "source_line": pl.Int64,
    "column_name": pl.String,
    "reason": pl.String,
    "arrival_ts": pl.Datetime("us", "UTC"),
    "malformed": pl.Boolean,
}


def _rules(paths: dict[str, str], limit: pl.Expr) -> list[tuple[pl.Expr, str, pl.Expr, bool]]:
    """(condition, column path, reason, malformed) in priority order."""
    inp, out, cached = pl.col("input_tokens"), pl.col("output_tokens"), pl.col("cached_tokens")
    total = inp + out
    return [
        (pl.col("_bad_column").is_not_null(), "", pl.lit("unparseable timestamp"), True),
        (pl.col("request_id").is_null(), paths["request_id"], pl.lit("missing request id"), True),
        (pl.col("arrival_ts").is_null(), paths["arrival"], pl.lit("missing arrival time"), True),
        (inp < 0, paths["input"], pl.lit("negative token count"), False),
        (out < 0, paths["output"], pl.lit("negative token count"), False),
        (cached < 0, paths["cached"], pl.lit("negative token count"), False),
        (
            total > limit,
            paths["input"],
            pl.format(
                "prompt + completion tokens {} exceed max_position_embeddings {}", total, limit
            ),
            False,
        ),
        (cached > inp, paths["cached"], pl.lit("cached tokens exceed prompt tokens"), False),
        (
            pl.col("first_token_ts") < pl.col("arrival_ts"),
            paths["first_token"],
            pl.lit("first token before arrival"),
            False,
        ),
        (
            pl.col("finish_ts") < pl.col("arrival_ts"),
            paths["finish"],
            pl.lit("finish before arrival"),
            False,
        ),
    ]


def check_rows(
    frame: pl.DataFrame, paths: dict[str, str], limits: dict[str, int], default_limit: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted rows, rejects as REJECT_SCHEMA). ``limits``: model name -> max tokens."""
    limit_frame = pl.DataFrame(
        {"model_name": list(limits), "_limit": list(limits.values())},
        schema={"model_name": pl.String, "_limit": pl.Int64},
    )
    frame = frame.join(limit_frame, on="model_name", how="left", maintain_order="left")
    limit = pl.col("_limit").fill_null(default_limit)
    column = reason = malformed = None
    for condition, path, why, is_malformed in reversed(_rules(paths, limit)):
        cond = condition.fill_null(False)
        col = pl.col("_bad_column") if path == "" else pl.lit(path)
        column = pl.when(cond).then(col).otherwise(column)
        reason = pl.when(cond).then(why).otherwise(reason)
        malformed = pl.when(cond).then(pl.lit(is_malformed)).otherwise(malformed)
    frame = frame.with_columns(_column=column, _reason=reason, _malformed=malformed)
    rejects = frame.filter(pl.col("_reason").is_not_null()).select(
        "source_line",
        column_name=pl.col("_column"),
        reason=pl.col("_reason"),
        arrival_ts="arrival_ts",
        malformed=pl.col("_malformed"),
    )
    accepted = frame.filter(pl.col("_reason").is_null())
    return accepted.drop("_limit", "_column", "_reason", "_malformed"), rejects.cast(REJECT_SCHEMA)


def deduplicate(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(one row per (request_source, request_id), the conflicting copies, the dropped copies).

    Copies that agree on every content column are one request delivered twice (a retrying
    shipper, overlapping rotation): the first by (file, line) is kept and the others are
    returned as dropped, so the caller can count them per file — a copy is neither stored nor
    quarantined, and must not vanish uncounted. Copies that disagree are all quarantined —
    which one is true cannot be known (case 29).
    """
    key = ["request_source", "request_id"]
    repeated = frame.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():  # the usual case: no sort, no hashing of every row
        return frame, frame.clear(), frame.clear()
    multi = frame.filter(repeated).with_columns(
        _variants=pl.struct(CONTENT_COLUMNS).hash().n_unique().over(key)
    )
    conflicts = multi.filter(pl.col("_variants") > 1).drop("_variants")
    agreeing = (
        multi.filter(pl.col("_variants") == 1)
        .drop("_variants")
        .sort([*key, "source_file", "source_line"])
        .with_columns(_copy=pl.int_range(pl.len()).over(key))
    )
    kept = agreeing.filter(pl.col("_copy") == 0).drop("_copy")
    dropped = agreeing.filter(pl.col("_copy") > 0).drop("_copy")
    return pl.concat([frame.filter(~repeated), kept], how="vertical"), conflicts, dropped
