"""DCGM samples checked, in SQL: the rules a sample must pass before ``scrapes`` assembles the
wide ``raw.dcgm_samples`` rows from it. Rules (RELIABILITY.md):

* case 23 — duplicates (an HA Prometheus pair, overlapping exports) are matched on
  (UUID, GPU_I_ID, field, ts): equal values collapse to one, differing ones are quarantined;
* case 24 — NaN, ±Inf and out-of-range values are quarantined with file, line and field,
  never clipped; a temperature of 0 (DCGM's "unsupported") becomes NULL;
* a sample without a readable time, host or UUID, with a non-integer GPU index or with an
  empty or non-numeric value (a CSV export's text) is quarantined.

One quarantine row per sample, so the ingest ledger can count samples (``counts``). A long
sample's quarantine column is its metric name; a wide export's cell is named by its column.
"""

from __future__ import annotations

import duckdb

from pipelines.ingest.telemetry import day_tables
from pipelines.ingest.telemetry.counts import SampleCounts
from pipelines.ingest.telemetry.dedupe import Duplicates, resolve
from pipelines.ingest.telemetry.fields import ENGINE_PREFIX, FIELD_BY_COLUMN, FIELD_COLUMNS
from pipelines.ingest.telemetry.sql import float_text, in_day, literal, run

STORED_QUARANTINE_COLUMNS = ["source_file", "line", "column_name", "reason"]
KEY = ["gpu_uuid", "gpu_instance_id", "ts"]
NOT_A_NUMBER = "value is missing or not a number"
NO_TIME = "no readable time (timestamp missing or not a time)"
NO_HOST = "missing host label (Hostname, node, host or instance)"
KEY_REASONS = {
    "timestamp": NO_TIME,
    "Hostname": NO_HOST,
    "UUID": "missing GPU UUID label",
    "gpu": "GPU index is not an integer",
    "GPU_I_ID": "MIG instance id (GPU_I_ID) is not an integer",
}
# The first missing or malformed key label, NULL when the sample's key is fine (``host`` is
# already the host label or the instance without its port).
BAD_KEY = """case when ts is null then 'timestamp' when host is null then 'Hostname'
    when gpu_uuid is null then 'UUID' when _tel_to_int(gpu_index) is null then 'gpu'
    when gpu_instance_id is not null and _tel_to_int(gpu_instance_id) is null then 'GPU_I_ID'
    end"""
KEY_REASON = (
    "case _bad_key "
    + " ".join(f"when {literal(k)} then {literal(v)}" for k, v in KEY_REASONS.items())
    + " end"
)
LONG_DUPLICATES = Duplicates("dcgm", (*KEY, "field"), "GPU, field and time", "metric")
LABEL_COLUMNS = ["host", "gpu_index", "gpu_model_name", "gpu_instance_profile"]
LABEL_COLUMNS += ["namespace", "pod", "container"]


def bad_value(value: str, low: str, high: str, low_text: str, high_text: str) -> str:
    """SQL: why ``value`` is impossible (NaN, ±Inf, outside [low, high]), else NULL."""
    text = f"_tel_float_text({value})"
    return f"""case when isnan({value}) then 'value is NaN'
        when isinf({value}) then 'value is ' || {text}
        when {value} < {low} then 'value ' || {text} || ' is below ' || {low_text}
        when {value} > {high} then 'value ' || {text} || ' is above ' || {high_text} end"""


def _long_fields(long: str) -> str:
    """The day's long samples of DCGM fields, with their column (``field``) and bounds and
    ``_bad_key`` / ``_why``: what is wrong with the sample, NULL when nothing is."""
    why = bad_value("value", "low", "high", "_tel_float_text(low)", "_tel_float_text(high)")
    return f"""
    select *, case when value is null then {literal(NOT_A_NUMBER)} else {why} end as _why
    from (
        select *, {BAD_KEY} as _bad_key from (
            select l.file, l.line, l.ts, l.metric, m.field, l.value, m.low, m.high,
                _tel_host(l.host, l.instance) as host, l.gpu_index, l.gpu_uuid,
                l.gpu_model_name, l.gpu_instance_id, l.gpu_instance_profile, l.namespace,
                l.pod, l.container
            from ({long}) l join {day_tables.METRICS} m on m.metric = l.metric
            where not starts_with(l.metric, {literal(ENGINE_PREFIX)}) and {in_day("l.ts")}))"""


def check_long(
    con: duckdb.DuckDBPyConnection, long: str, params: dict, counts: SampleCounts
) -> None:
    """Quarantine the bad long DCGM samples and conflicting copies; the rest, deduplicated,
    go to ``_tel_dcgm_kept`` (one row per sample) for ``scrapes`` to pivot."""
    fields = _long_fields(long)
    run(
        con,
        f"insert into {day_tables.QUARANTINE} select file, line, "
        f"coalesce(_bad_key, metric), coalesce({KEY_REASON}, _why), null from ({fields}) "
        "where _bad_key is not null or _why is not null",
        params,
    )
    good = f"""select file, line, ts, metric, field, value, host,
        _tel_to_int(gpu_index) as gpu_index, gpu_uuid, gpu_model_name,
        _tel_to_int(gpu_instance_id) as gpu_instance_id, gpu_instance_profile, namespace, pod,
        container from ({fields}) where _bad_key is null and _why is null"""
    run(con, f"create or replace temp table _tel_dcgm_good as {good}", params)
    kept = resolve(con, LONG_DUPLICATES, "select * from _tel_dcgm_good", {}, counts)
    con.execute(f"create or replace temp table _tel_dcgm_kept as {kept}")
    con.execute("drop table _tel_dcgm_good")  # a long DCGM export's day: free it early


def _bounds(column: str) -> tuple[str, str]:
    field = FIELD_BY_COLUMN[column]
    return tuple("null" if b is None else repr(float(b)) for b in (field.low, field.high))


def _cell_why(column: str) -> str:
    field = FIELD_BY_COLUMN[column]
    texts = [literal(float_text(b)) if b is not None else "null" for b in (field.low, field.high)]
    return bad_value(column, *_bounds(column), *texts)


def _cell_is_bad(column: str) -> str:
    """Whether ``_cell_why`` has a reason, without building its text for every cell."""
    low, high = _bounds(column)
    tests = [f"isnan({column})", f"isinf({column})"]
    tests += [f"{column} < {low}"] * (low != "null") + [f"{column} > {high}"] * (high != "null")
    return f"({' or '.join(tests)})"


def wide_rows(wide: str) -> str:
    """Every row of ``wide`` with its host resolved and ``_bad_key``."""
    hosted = f"select * replace (_tel_host(host, instance) as host) from ({wide})"
    return f"select *, {BAD_KEY} as _bad_key from ({hosted})"


def present_cells() -> str:
    """SQL: the samples a wide row holds (its non-null field cells, numbers or text)."""
    return " + ".join(f"({c} is not null)::integer" for c in FIELD_COLUMNS) + " + len(text_cells)"


def kept_cells() -> str:
    """SQL: the samples of a good-key wide row that pass their checks (stored, 0 included)."""
    return " + ".join(
        f"({c} is not null and not {_cell_is_bad(c)})::integer" for c in FIELD_COLUMNS
    )


def check_wide(con: duckdb.DuckDBPyConnection, wide: str, params: dict) -> None:
    """Quarantine the wide rows' bad samples in one pass (``checked_rows`` are the rest): a
    row with a bad key loses every sample it holds, one quarantine row each; a text cell is
    not a number."""
    rows = f"select * from ({wide_rows(wide)}) where {in_day()}"
    key_rows = f"{{'field': _bad_key, 'why': {KEY_REASON}}}"
    cells = ", ".join(f"{{'field': {literal(c)}, 'why': {_cell_why(c)}}}" for c in FIELD_COLUMNS)
    texts = f"{{'field': c, 'why': {literal(NOT_A_NUMBER)}}}"
    bad = f"""case when _bad_key is not null
        then list_transform(range({present_cells()}), i -> {key_rows})
        else list_concat(list_filter([{cells}], c -> c.why is not null),
                         list_transform(text_cells, c -> {texts})) end"""
    any_bad = " or ".join(_cell_is_bad(c) for c in FIELD_COLUMNS)
    run(
        con,
        f"""insert into {day_tables.QUARANTINE}
        select file, line, bad.field, bad.why, null from (
            select file, line, unnest({bad}) as bad from ({rows})
            where _bad_key is not null or len(text_cells) > 0 or {any_bad})""",
        params,
    )


def checked_rows(wide: str) -> str:
    """SQL: the day's good-key rows of ``wide``, bad cells NULL and key labels typed."""
    rows = f"select * from ({wide_rows(wide)}) where {in_day()}"
    checked = ", ".join(
        f"case when not {_cell_is_bad(c)} then {c} end as {c}" for c in FIELD_COLUMNS
    )
    return f"""select file, line, ts, host, _tel_to_int(gpu_index) as gpu_index, gpu_uuid,
        _tel_to_int(gpu_instance_id) as gpu_instance_id, gpu_model_name, gpu_instance_profile,
        namespace, pod, container, {checked} from ({rows}) where _bad_key is null"""
