"""`unitcost bench-requests`: load N gateway log lines (default 5 M) as the asset does.

The lines are rendered by DuckDB in the simulator's gateway format (prompt and completion
text included, gzip JSONL, one file per host, all arriving on one day), not simulated: the
request stream's shape does not change the parse cost. Two phases over the same files, in
the same process: the baseline is DuckDB's own ``read_json`` with the same allow-listed
columns (what a bare load would do); ours is ``RequestLoader.load_day`` (parse with our own
line numbers, normalise, validate, hash users, dedup) plus the partition write. Peak RSS is
``VmHWM``, reset between phases where the kernel allows (else it is the process's peak).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

DAY = dt.date(2026, 11, 1)
HOSTS = 8
MODELS = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "bench-model"]

# One host's lines: request i arrives i * 86400 s / n after midnight, spread over the hosts.
_RENDER = """
copy (
    select
        'bench-' || i as id,
        cast(epoch(ts) as bigint) as created,
        $models[1 + i % 3] as model,
        'host-' || $host as host,
        strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') as arrival_time,
        strftime(ts + interval 150 millisecond, '%Y-%m-%dT%H:%M:%S.%fZ') as first_token_time,
        strftime(ts + interval 2 second, '%Y-%m-%dT%H:%M:%S.%fZ') as finish_time,
        {'prompt_tokens': 200 + i % 3000, 'completion_tokens': 1 + i % 500,
         'prompt_tokens_details': {'cached_tokens': i % 200}} as usage,
        200 as status_code,
        'user-' || (i % 997) as "user",
        [{'role': 'user', 'content': 'Summarise ticket ' || i}] as messages,
        [{'message': {'role': 'assistant', 'content': 'Done.'}}] as choices
    from (
        select i, timestamptz '2026-11-01 00:00:00+00'
            + to_microseconds(cast(i * 86400000000 // $n as bigint)) as ts
        from range($host, $n, $hosts) as t(i)
    )
) to '{target}' (format json, compression gzip)
"""


def _peak_rss_mib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # Linux: writing 5 resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def _render(folder: Path, n: int) -> list[str]:
    import duckdb

    folder.mkdir(parents=True)
    paths = []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for host in range(HOSTS):
            path = folder / f"host-{host}.jsonl.gz"
            params = {"models": MODELS, "host": host, "n": n, "hosts": HOSTS}
            # The target is our temp path; COPY cannot take it as a parameter.
            con.execute(_RENDER.replace("{target}", str(path).replace("'", "''")), params)
            paths.append(str(path))
    return paths


def _baseline(paths: list[str]) -> tuple[int, float, float]:
    import duckdb

    from pipelines.ingest.requests.fields import VLLM_JSONL, duckdb_columns

    _reset_peak()
    t0 = time.perf_counter()
    with duckdb.connect(config={"threads": 2}) as con:
        rows = con.execute(
            "select count(*), sum(usage.prompt_tokens), sum(length(id)), "
            "sum(length(arrival_time)) from read_json(?, format='newline_delimited', columns=?)",
            [paths, duckdb_columns(VLLM_JSONL)],
        ).fetchone()[0]
    return rows, time.perf_counter() - t0, _peak_rss_mib()


def _ours(root: Path) -> dict:
    from pipelines.config import SourceConfig
    from pipelines.ingest.requests.load import RequestLoader
    from pipelines.warehouse import connect, replace_rows

    source = SourceConfig(location=str(root / "logs"), format="vllm_jsonl")
    limits = ({m: 131072 for m in MODELS}, 131072)
    loader = RequestLoader("requests", source, root / "logs", limits, salt="bench-salt-0123456789")
    _reset_peak()
    t0 = time.perf_counter()
    day = loader.load_day(DAY, loader.files())
    load_s = time.perf_counter() - t0
    start = dt.datetime.combine(DAY, dt.time(), dt.UTC)
    with connect(root / "bench.duckdb") as con:
        window = ("arrival_ts", start, start + dt.timedelta(days=1))
        replace_rows(con, "raw", "inference_requests", day.requests, window=window)
    return {
        "rows": day.requests.height, "quarantined": day.quarantine.height, "load_s": load_s,
        "ours_s": time.perf_counter() - t0, "ours_rss_mib": _peak_rss_mib(),
    }  # fmt: skip


def run_bench(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="unitcost-bench-requests-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        paths = _render(root / "logs" / f"date={DAY}", n)
        render_s = time.perf_counter() - t0
        size_mib = sum(Path(p).stat().st_size for p in paths) / 2**20
        rows, baseline_s, baseline_rss = _baseline(paths)
        ours = _ours(root)
    return {
        "lines": n, "files": len(paths), "gzip_mib": size_mib, "render_s": render_s,
        "baseline_rows": rows, "baseline_s": baseline_s, "baseline_rss_mib": baseline_rss,
        **ours,
    }  # fmt: skip


def _handle(args: argparse.Namespace) -> int:
    r = run_bench(args.rows)
    print(f"{r['lines']:,} gateway log lines in {r['files']} gzip files ({r['gzip_mib']:.0f} MiB), "
          f"rendered in {r['render_s']:.1f} s")  # fmt: skip
    for label, rows, secs, rss in [
        ("duckdb read_json (baseline)", r["baseline_rows"], r["baseline_s"], r["baseline_rss_mib"]),
        ("unitcost request ingest", r["rows"], r["ours_s"], r["ours_rss_mib"]),
    ]:
        print(f"  {label:<28} {rows:>10,} rows {secs:7.2f} s {rows / secs:>12,.0f} rows/s "
              f"peak RSS {rss:,.0f} MiB")  # fmt: skip
    print(f"  of which parse/validate/dedup (load_day) {r['load_s']:.2f} s "
          f"({r['rows'] / r['load_s']:,.0f} rows/s), the rest the DuckDB partition write; "
          f"quarantined {r['quarantined']:,}")  # fmt: skip
    return 0


def add_parsers(subparsers) -> None:
    """Register ``bench-requests`` on the ``unitcost`` command's subparsers."""
    parser = subparsers.add_parser(
        "bench-requests", help="benchmark request-log ingest against DuckDB's read_json"
    )
    parser.add_argument("--rows", type=int, default=5_000_000, help="log lines (default 5 M)")
    parser.set_defaults(func=_handle)
