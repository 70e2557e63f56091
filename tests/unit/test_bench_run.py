"""`unitcost bench-run`'s measuring parts: the process-tree RSS counts grandchildren (dbt runs
in a child of the run), and the report puts each ingest step beside DuckDB's read."""

from __future__ import annotations

import subprocess
import sys
import time

from pipelines.bench.run import RunBench, _tree_rss_kib, format_result


def test_tree_rss_includes_a_grandchilds_memory():
    # a shell whose child holds 200 MiB: the shell alone is a few MiB
    hold = "b = bytearray(200 * 2**20); import time; time.sleep(30)"
    parent = subprocess.Popen(["/bin/sh", "-c", f'"{sys.executable}" -c "{hold}"; true'])
    try:
        deadline = time.monotonic() + 20
        while _tree_rss_kib(parent.pid) < 200 * 1024 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _tree_rss_kib(parent.pid) >= 200 * 1024
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()


def test_an_ingest_step_is_reported_as_a_share_of_duckdbs_raw_read():
    result = RunBench(
        wall_s=10.0,
        peak_rss_mib=2048,
        steps={"request_log_tables": 4.0, "dbt_daily_models": 5.0},
        rows={"requests": 1000},
        raw_read_s={"requests": 1.0},
    )
    text = format_result("fleet", result)
    assert "run 10.0 s, peak RSS (process tree) 2.00 GiB" in text
    assert "250 rows/s" in text and "25% of its rate" in text  # 1 s raw / 4 s step
    assert text.index("dbt_daily_models") < text.index("request_log_tables")  # slowest first
