"""`unitcost bench-run`: one `unitcost run` of a fleet folder, per step wall time, rows/s and
the peak RSS of the whole process tree (dbt children included), beside DuckDB's raw read
rate of the same input files measured in the same invocation.

The run is a child process started with ``-vv``: its Dagster STEP_START / STEP_SUCCESS lines
are timed on this process's clock as they arrive. RSS is the sum of VmRSS over the run and
all its descendants, sampled every ``interval_s`` (a tree's peak, not one process's
high-water mark: dbt and DuckDB run in children). Rows per ingest step come from the run's
own ledger (``raw.ingest_ledger``: records read per source and day — lines, billing rows,
telemetry samples), so rows/s is what the step read. The baseline is a plain DuckDB
connection with the same settings reading the same files once, every column (a hash of
each row: no checks, no writes), timed after the run: the ratio is that time over the
step's, i.e. the step's rate as a share of DuckDB's raw read rate of its input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_START = re.compile(r'STEP_START - Started execution of step "([^"]+)"')
_DONE = re.compile(r'STEP_SUCCESS - Finished execution of step "([^"]+)"')
# ingest step -> the ledger source whose lines it reads
INGEST_STEPS = {
    "billing_line_items": "billing",
    "request_log_tables": "requests",
    "telemetry_tables": "telemetry",
}
# what DuckDB reads raw, per source: the reader, and which of the files the run's ledger
# names it can read (telemetry's Prometheus text has no DuckDB reader: its Parquet only)
RAW_READS = {
    "requests": ((".jsonl", ".jsonl.gz", ".json.gz"), "read_ndjson({}, ignore_errors=true)"),
    "telemetry": ((".parquet",), "read_parquet({}, union_by_name=true)"),
    "billing": ((".parquet",), "read_parquet({}, union_by_name=true)"),
}


@dataclass
class RunBench:
    wall_s: float = 0.0
    peak_rss_mib: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds
    # step key -> the tree's peak while it ran (steps that overlap share their samples)
    step_peak_rss_mib: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # ledger source -> lines read
    raw_read_s: dict[str, float] = field(default_factory=dict)  # source -> DuckDB read time
    raw_read_rows: dict[str, int] = field(default_factory=dict)  # source -> rows DuckDB read
    returncode: int = 0


def _tree_rss_kib(root: int) -> int:
    """VmRSS of ``root`` and every descendant (from /proc: no extra dependency)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def _sample(
    pid: int, interval_s: float, stop: threading.Event, out: list[tuple[float, int]]
) -> None:
    while not stop.is_set():
        out.append((time.monotonic(), _tree_rss_kib(pid)))
        stop.wait(interval_s)


def step_peaks(
    spans: dict[str, tuple[float, float]], samples: list[tuple[float, int]]
) -> dict[str, float]:
    """Each step's peak tree RSS in MiB: the largest sample taken while it ran (start and end
    included); a step shorter than the sampling interval may hold none and is left out."""
    peaks = {}
    for step, (began, ended) in spans.items():
        inside = [kib for t, kib in samples if began <= t <= ended]
        if inside:
            peaks[step] = max(inside) / 1024
    return peaks


def run_bench(
    config: Path, start: dt.date, end: dt.date, interval_s: float = 0.5, echo: bool = False
) -> RunBench:
    cmd = [
        sys.executable, "-m", "pipelines.cli", "run", "--config", str(config),
        "--start", start.isoformat(), "--end", end.isoformat(), "-vv", "--no-disk-check",
    ]  # fmt: skip
    result, began, spans, samples = RunBench(), {}, {}, []
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, interval_s, stop, samples))
    sampler.start()
    for line in proc.stdout:
        now = time.monotonic()
        if echo:
            sys.stdout.write(line)
        if m := _START.search(line):
            began[m.group(1)] = now
        elif (m := _DONE.search(line)) and m.group(1) in began:
            result.steps[m.group(1)] = now - began[m.group(1)]
            spans[m.group(1)] = (began[m.group(1)], now)
    result.returncode = proc.wait()
    result.wall_s = time.monotonic() - t0
    stop.set()
    sampler.join()
    result.peak_rss_mib = max((kib for _, kib in samples), default=0) / 1024
    result.step_peak_rss_mib = step_peaks(spans, samples)
    duckdb_path = _duckdb_path(config)
    result.rows = _ledger_rows(duckdb_path, start, end)
    result.raw_read_s, result.raw_read_rows = _raw_reads(_ingested_files(duckdb_path, start, end))
    return result


def _duckdb_path(config: Path) -> Path:
    path = Path(yaml.safe_load(config.read_text())["duckdb_path"])
    return path if path.is_absolute() else config.parent / path


_IN_WINDOW = (
    "(source <> 'billing' and partition_day >= ? and partition_day < ? or source = 'billing')"
)


def _ledger_rows(duckdb_path: Path, start: dt.date, end: dt.date) -> dict[str, int]:
    from pipelines.warehouse import connect, table_exists

    with connect(duckdb_path, read_only=True) as con:
        if not table_exists(con, "raw.ingest_ledger"):
            return {}
        rows = con.execute(
            f"select source, sum(lines_read) from raw.ingest_ledger where {_IN_WINDOW} group by 1",
            [start, end],
        ).fetchall()
    return {source: int(n) for source, n in rows}


def _ingested_files(duckdb_path: Path, start: dt.date, end: dt.date) -> dict[str, list[str]]:
    """source -> the files the run read, as its ledger names them: the baseline reads the
    same input as the step (a folder glob also read files the run's sources do not point at,
    e.g. a simulated fleet's initial billing export beside the restated one)."""
    from pipelines.warehouse import connect, table_exists

    with connect(duckdb_path, read_only=True) as con:
        if not table_exists(con, "raw.ingest_ledger"):
            return {}
        rows = con.execute(
            f"select distinct source, source_file from raw.ingest_ledger where {_IN_WINDOW} "
            "order by 1, 2",
            [start, end],
        ).fetchall()
    files: dict[str, list[str]] = {}
    for source, name in rows:
        files.setdefault(source, []).append(name)
    return files


def _raw_reads(files: dict[str, list[str]]) -> tuple[dict[str, float], dict[str, int]]:
    """(seconds, rows) a bare DuckDB connection (the pipeline's settings) takes to read every
    column of each source's files once."""
    from pipelines.warehouse import connect

    seconds, counts = {}, {}
    with connect(":memory:") as con:
        con.execute("set enable_progress_bar = false")
        for source, (suffixes, reader) in RAW_READS.items():
            readable = [f for f in files.get(source, []) if f.lower().endswith(suffixes)]
            if not readable:
                continue
            t0 = time.monotonic()
            query = f"select count(*), sum(hash(t)) from {reader.format('?')} as t"
            (counts[source], _) = con.execute(query, [readable]).fetchone()
            seconds[source] = time.monotonic() - t0
    return seconds, counts


def format_result(label: str, r: RunBench) -> str:
    lines = [
        f"{label}: run {r.wall_s:.1f} s, peak RSS (process tree) {r.peak_rss_mib / 1024:.2f} GiB"
        + ("" if r.returncode == 0 else f", FAILED (exit {r.returncode})")
    ]
    for step, seconds in sorted(r.steps.items(), key=lambda kv: -kv[1]):
        source = INGEST_STEPS.get(step)
        extra = ""
        if source and source in r.rows:
            rate = r.rows[source] / max(seconds, 1e-9)
            extra = f"  {r.rows[source]:>12,} rows  {rate:>12,.0f} rows/s"
            if source in r.raw_read_s:
                raw = r.raw_read_s[source]
                share = raw / max(seconds, 1e-9)
                extra += f"  raw DuckDB read {raw:>6.1f} s: {share:.0%} of its rate"
                if source in r.raw_read_rows:
                    extra += f" ({r.raw_read_rows[source]:,} rows)"
        peak = r.step_peak_rss_mib.get(step)
        rss = f"  peak {peak / 1024:4.2f} GiB" if peak is not None else " " * 15
        lines.append(f"  {step:<28} {seconds:>7.1f} s{rss}{extra}")
    return "\n".join(lines)


def _main(args: argparse.Namespace) -> int:
    result = run_bench(Path(args.config), args.start, args.end, echo=args.echo)
    print(format_result(str(args.config), result))
    return result.returncode


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench-run",
        help="time one `unitcost run` per step, peak RSS of its process tree, raw DuckDB rates",
    )
    bench.add_argument("--config", required=True, help="a simulated fleet's unitcost.yaml")
    bench.add_argument("--start", required=True, type=dt.date.fromisoformat)
    bench.add_argument("--end", required=True, type=dt.date.fromisoformat)
    bench.add_argument("--echo", action="store_true", help="also print the run's log")
    bench.set_defaults(func=_main)
