"""Which requests are quarantined, and why (in DuckDB SQL); duplicates on (source, request_id).

Two kinds of reject, both quarantined with the line and the field's path in the log:

* **malformed** (case 26): unparseable JSON or timestamps, wrong types, no id or arrival.
  These count towards the file's 1 % bad-line limit.
* **implausible** (case 28): negative tokens, prompt + completion over the LLM's
  ``max_position_embeddings`` (via the registry's request model names and the catalog),
  cached > prompt, a finish or first token before arrival. Each is one impossible record, not
  a broken file, so they do not count towards the limit; the asset check reports them.

``checked_sql`` numbers the first rule a row breaks (``_rule``, NULL if none); the rejects and
the accepted rows (``accepted_sql``, the raw contract) are both selected from that one table.
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.requests.schema import CONTENT_COLUMNS, RAW_REQUESTS_SQL

# (condition, which path in the log names the field, reason), in priority order; the first
# MALFORMED_RULES are malformed. ``path`` keys fields.PATHS; None: the field in _bad_column.
_OVER_CONTEXT = "prompt + completion tokens {} exceed max_position_embeddings {}"
_TOTAL = "input_tokens::hugeint + output_tokens"  # never overflows, unlike BIGINT + BIGINT
RULES = (
    ("_bad_column is not null", None, "unparseable timestamp"),
    ("request_id is null", "request_id", "missing request id"),
    ("arrival_ts is null", "arrival", "missing arrival time"),
    ("input_tokens < 0", "input", "negative token count"),
    ("output_tokens < 0", "output", "negative token count"),
    ("cached_tokens < 0", "cached", "negative token count"),
    (f"{_TOTAL} > _limit", "input", _OVER_CONTEXT),
    ("cached_tokens > input_tokens", "cached", "cached tokens exceed prompt tokens"),
    ("first_token_ts < arrival_ts", "first_token", "first token before arrival"),
    ("finish_ts < arrival_ts", "finish", "finish before arrival"),
)
MALFORMED_RULES = 3
# ms per µs as a multiplier, not a division by 1000: the ingest computed latencies in polars,
# which multiplies by the reciprocal, and stored rows stay bit for bit what they were.
_PER_MS = "0.001::double"
_OVER_CONTEXT_RULE = 1 + [r[2] for r in RULES].index(_OVER_CONTEXT)
# 64 bits of the request id's MD5 (``checked_sql``'s ``_key_hash``).
KEY_HASH = "cast(md5_number(request_id) >> 64 as ubigint)"


def checked_sql(common: str) -> str:
    """The rows of ``common`` as raw contract columns (but ``user_hash``: users are hashed once
    each, later), plus ``user``, ``_rule`` and what explains it (``_bad_column``, ``_limit``:
    the model's token limit from ``_limits`` (model_name, max_tokens), else
    ``$default_limit``), ``_epoch`` and ``_container`` for the file's checks, and
    ``_key_hash``, a hash of the request id to find repeats cheaply (64 bits of MD5: DuckDB's
    own ``hash`` collides on ids that differ in a counter, 912 times in a 4.5 M-request day;
    the bits of ``md5_number_lower``, shifted out of ``md5_number`` at a third of its cost).

    ``tenant``: the name ``_tenants`` (raw_value, tenant; ``sources.requests.tenant.names``)
    gives the logged value, else the value as logged; when the tenant is the user
    (``$tenant_is_user``) the logged value is the user id, which is never kept: an unnamed
    one becomes its hash in ``accepted_sql`` (``_tenant_is_user``)."""
    cases = " ".join(f"when {cond} then {i}" for i, (cond, _, _) in enumerate(RULES, 1))
    derived = {
        "request_source": "$request_source",
        "ttft_ms": f"(epoch_us(first_token_ts) - epoch_us(arrival_ts)) * {_PER_MS}",
        "e2e_ms": f"(epoch_us(finish_ts) - epoch_us(arrival_ts)) * {_PER_MS}",
        "usage_missing": "input_tokens is null or output_tokens is null",
        "source_file_id": "$source_file_id",
        "tenant": "coalesce(_tenant_named, if($tenant_is_user, null, _tenant_raw))",
    }
    columns = ", ".join(
        f'cast({derived.get(name, name)} as {kind}) as "{name}"'
        for name, kind in RAW_REQUESTS_SQL.items()
        if name != "user_hash"
    )
    return f"""
        select {columns}, "user", $tenant_is_user as _tenant_is_user, _rule, _bad_column,
            _limit, _epoch, _container, {KEY_HASH} as _key_hash
        from (
            select *, case {cases} end as _rule
            from (
                select c.*, coalesce(l.max_tokens, $default_limit) as _limit,
                    t.tenant as _tenant_named
                from ({common}) as c left join _limits as l on l.model_name = c.model_name
                left join _tenants as t
                    on t.raw_value = if($tenant_is_user, c."user", c._tenant_raw)
            )
        )"""


def rule_params(paths: dict[str, str], default_limit: int) -> dict:
    return {
        "default_limit": default_limit,
        "rule_paths": [paths[p] if p else None for _, p, _ in RULES],
        "rule_reasons": [r for _, _, r in RULES],
    }


def rejects_sql(table: str) -> str:
    """source_line, column_name, reason, arrival_ts, malformed: one row per reject."""
    return f"""
        select source_line,
            case when _rule = 1 then _bad_column else $rule_paths[_rule] end as column_name,
            case when _rule = {_OVER_CONTEXT_RULE}
                then format($rule_reasons[_rule], {_TOTAL}, _limit)
                else $rule_reasons[_rule] end as reason,
            arrival_ts, _rule <= {MALFORMED_RULES} as malformed
        from {table} where _rule is not null order by source_line"""


def accepted_sql(table: str, users: str | None) -> str:
    """The accepted rows of a ``checked_sql`` table as ``raw.inference_requests`` rows;
    ``users`` (user, user_hash) maps each user to its salted hash (None: no salt, no hash)."""
    special = {
        "user_hash": "u.user_hash" if users else 'null::varchar as "user_hash"',
        # a user who is the tenant and has no name in the config: only the hash is kept
        "tenant": 'coalesce(c."tenant", if(c._tenant_is_user, u.user_hash, null)) as "tenant"'
        if users
        else 'c."tenant"',
    }
    columns = ", ".join(special.get(n, f'c."{n}"') for n in RAW_REQUESTS_SQL)
    join = f'left join {users} as u on u."user" = c."user"' if users else ""
    return f"select {columns} from {table} as c {join} where c._rule is null"


def deduplicate(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(one row per (request_source, request_id), the conflicting copies, the dropped copies).

    Copies that agree on every content column are one request delivered twice (a retrying
    shipper, overlapping rotation): the first by (file path, line) is kept and the others are
    returned as dropped, so the caller can count them per file — a copy is neither stored nor
    quarantined, and must not vanish uncounted. Copies that disagree are all quarantined —
    which one is true cannot be known (case 29). ``frame`` carries the path as ``source_file``.
    """
    key = ["request_source", "request_id"]
    repeated = frame.select(pl.struct(key).is_duplicated()).to_series()
    if not repeated.any():
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
