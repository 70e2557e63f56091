"""The fleet's requests as a gateway logs them: gzip JSON lines, one file per host and day.

vLLM's OpenAI server does not log per-request JSON itself; a gateway or proxy in front of it
does, and logs what unitcost must never store: the prompt (``messages``) and completion
(``choices[].message.content``) text, and the ``user``. One object per line::

    {"id", "created" (epoch s), "model", "host", "api_base" (the vLLM server that served it,
     http://host:port/v1, as LiteLLM logs it), "arrival_time",
     "first_token_time" (null on errors), "finish_time" (ISO 8601 UTC, µs),
     "usage": {"prompt_tokens", "completion_tokens", "prompt_tokens_details": {"cached_tokens"}},
     "status_code" (200 or 500), "user", "headers": {"x-tenant-id"} (null when the request
     names no tenant), "messages": [...], "choices": [...]}

A line is written when its request finishes, into ``logs/requests/date=<finish day>/
<host>.jsonl.gz``, so a request arriving before midnight and finishing after lands in the
next day's file (the ingest reads day D + 1 for day D). The text is short on purpose (~4 M
lines a week); ``secret`` appends a string to every prompt and completion for the canary
test. Ground truth gains the requests the ingest must quarantine: those whose prompt +
completion exceed the LLM's max_position_embeddings (the traces' token lengths are not
capped to the model the simulator assigns them to).
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from pipelines.costmodel.catalog import llm_catalog
from pipelines.fleet.formats import SimulationContext, WriterOutput
from pipelines.fleet.formats.vllm_metrics import engine_ports

LOG_DIR = "logs/requests"
TENANT_HEADER = "x-tenant-id"  # the gateway's header naming the tenant (spec traffic.tenants)
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"

# One output day: the truth of that day and the day before, filtered by finish day.
_LINES_SQL = f"""
select
    request_id as id,
    cast(epoch(arrival_ts) as bigint) as created,
    request_model_name as model,
    r.host,
    'http://' || r.host || ':' || p.port || '/v1' as api_base,
    strftime(arrival_ts, '{_ISO}') as arrival_time,
    strftime(first_token_ts, '{_ISO}') as first_token_time,
    strftime(finish_ts, '{_ISO}') as finish_time,
    {{
        'prompt_tokens': input_tokens,
        'completion_tokens': output_tokens,
        'prompt_tokens_details': {{'cached_tokens': cached_tokens}}
    }} as usage,
    case when status = 'ok' then 200 else 500 end as status_code,
    'user-' || lpad(cast(hash(request_id) % 997 as varchar), 4, '0') as "user",
    case when tenant is not null then {{'{TENANT_HEADER}': tenant}} end as headers,
    [{{'role': 'user', 'content': 'Summarise ticket ' || (hash(request_id) % 9973) || $secret}}]
        as messages,
    case when status = 'ok' then [{{
        'message': {{'role': 'assistant', 'content': 'Done.' || $secret}}
    }}] else [] end as choices
from read_parquet($files) as r
inner join engine_ports as p on r.deployment_id = p.deployment_id and r.replica = p.replica
where cast(finish_ts as date) = $day
"""


def _sql_string(value: str) -> str:
    # COPY's target cannot be a parameter; the path is ours (ctx.out), quoted defensively.
    return "'" + value.replace("'", "''") + "'"


def write_logs(ctx: SimulationContext, secret: str = "") -> int:
    """Write every log file; returns the number of lines."""
    truth = {d: ctx.truth_day("requests", d) for d in ctx.plan.dates}
    truth = {d: p for d, p in truth.items() if p.exists()}
    hosts = sorted({r.host for dep in ctx.plan.deployments for r in dep.replicas})
    last = ctx.plan.dates[-1] + dt.timedelta(days=1)
    lines = 0
    con = duckdb.connect(config={"threads": 2})
    # gzip (level 1, ~4x DuckDB's own) runs in a second thread while DuckDB renders the next
    # host's lines: zlib releases the GIL. ~4 M lines a week keep this on make run's path.
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            con.execute("set TimeZone = 'UTC'")
            con.execute("set enable_progress_bar = false")
            ports = [(d, r, p) for (d, r), p in sorted(engine_ports(ctx.plan).items())]
            con.execute(
                "create temp table engine_ports (deployment_id text, replica int, port int)"
            )
            con.executemany("insert into engine_ports values (?, ?, ?)", ports)
            jobs = []
            for day in [*ctx.plan.dates, last]:
                files = [str(truth[d]) for d in (day - dt.timedelta(days=1), day) if d in truth]
                if files:
                    folder = ctx.out / LOG_DIR / f"date={day}"
                    lines += _write_day(con, folder, day, files, hosts, secret, pool, jobs)
            for job in jobs:
                job.result()
        finally:
            con.close()
    return lines


def _write_day(con, folder: Path, day: dt.date, files, hosts, secret, pool, jobs) -> int:
    params = {"files": files, "day": day, "secret": secret}
    con.execute(f"create or replace temp table lines as {_LINES_SQL}", params)
    written = 0
    for host in hosts:
        count = con.execute("select count(*) from lines where host = $host", {"host": host})
        count = count.fetchone()[0]
        if count:
            folder.mkdir(parents=True, exist_ok=True)
            plain = folder / f".{host}.jsonl"
            con.execute(
                "copy (select * from lines where host = $host order by finish_time, id) "
                f"to {_sql_string(str(plain))} (format json)",
                {"host": host},
            )
            jobs.append(pool.submit(_gzip, plain, folder / f"{host}.jsonl.gz"))
            written += count
    return written


def _gzip(plain: Path, target: Path) -> None:
    # mtime=0 and no file name in the header: the same lines give the same bytes.
    with (
        plain.open("rb") as src,
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0) as dst,
    ):
        shutil.copyfileobj(src, dst, 1 << 22)
    plain.unlink()


def _over_context(ctx: SimulationContext) -> dict:
    """Per deployment and arrival day: requests whose tokens exceed the LLM's context."""
    limits = {d.id: llm_catalog()[d.spec.llm].max_position_embeddings for d in ctx.plan.deployments}
    files = [str(p) for d in ctx.plan.dates if (p := ctx.truth_day("requests", d)).exists()]
    if not files:
        return {}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # the day of a TIMESTAMPTZ is the session's
    rows = con.execute(
        "select deployment_id, cast(arrival_ts as date) as day, count(*), "
        "sum(status = 'error'), sum(input_tokens), sum(output_tokens), sum(cached_tokens) "
        "from read_parquet($files) join (select unnest($ids) as id, unnest($limits) as lim) "
        "on deployment_id = id where input_tokens + output_tokens > lim "
        "group by all order by all",
        {"files": files, "ids": list(limits), "limits": list(limits.values())},
    ).fetchall()
    con.close()
    out: dict = {}
    keys = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens")
    for dep, day, *values in rows:
        out.setdefault(dep, {})[day.isoformat()] = dict(zip(keys, map(int, values), strict=True))
    return out


def write(ctx: SimulationContext) -> WriterOutput:
    lines = write_logs(ctx)
    return WriterOutput(
        sources={
            "requests": {
                "location": LOG_DIR,
                "format": "vllm_jsonl",
                "tenant": {"field": "header", "key": TENANT_HEADER},
            }
        },
        truth={"request_logs": {"lines": lines, "over_context_requests": _over_context(ctx)}},
    )
