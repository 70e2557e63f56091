"""`unitcost bench-run`'s measuring parts: the process-tree RSS counts grandchildren (dbt runs
in a child of the run), and the report puts each ingest step beside DuckDB's read."""

from __future__ import annotations

import datetime as dt
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


def test_the_raw_read_is_of_the_files_the_run_read_not_the_folder(tmp_path):
    # a fleet folder holds an initial billing export beside the restated one the run reads;
    # the baseline must read the one the ledger names (3 rows), not both (3 + 2)
    import duckdb

    from pipelines.bench.run import _ingested_files, _raw_reads

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    read = tmp_path / "cur2" / "a.parquet"
    other = tmp_path / "cur2-initial" / "a.parquet"
    for path, n in ((read, 3), (other, 2)):
        path.parent.mkdir()
        con.execute(f"copy (select range as x from range({n})) to '{path}'")
    con.execute("create schema raw")
    con.execute(
        "create table raw.ingest_ledger (source varchar, partition_day date, source_file varchar,"
        " lines_read bigint)"
    )
    con.execute(
        "insert into raw.ingest_ledger values ('billing', '2026-11-01', ?, 3),"
        " ('telemetry', '2026-11-01', 'scrape.prom', 10),"
        " ('telemetry', '2026-10-31', ?, 2)",  # another day's file: outside the window
        [str(read), str(other)],
    )
    con.close()
    day = dt.date(2026, 11, 1)
    files = _ingested_files(tmp_path / "w.duckdb", day, day + dt.timedelta(days=1))
    assert files == {"billing": [str(read)], "telemetry": ["scrape.prom"]}
    seconds, rows = _raw_reads(files)
    assert rows == {"billing": 3}  # Prometheus text has no DuckDB reader: no telemetry baseline
    assert set(seconds) == {"billing"}


def test_a_steps_peak_is_the_largest_sample_taken_while_it_ran():
    from pipelines.bench.run import step_peaks

    # samples (seconds, KiB): ingest runs 1-3 s, dbt 3-6 s (sharing the sample at 3 s), the
    # report 6.2-6.4 s between two samples, so it holds none
    samples = [(0.0, 100), (1.0, 2048), (2.0, 4096), (3.0, 1024), (4.0, 3072), (5.0, 512),
               (6.0, 256), (7.0, 9999)]  # fmt: skip
    spans = {"ingest": (1.0, 3.0), "dbt": (3.0, 6.0), "report": (6.2, 6.4)}
    assert step_peaks(spans, samples) == {"ingest": 4.0, "dbt": 3.0}
    text = format_result("fleet", RunBench(steps={"dbt": 3.0}, step_peak_rss_mib={"dbt": 3072}))
    assert "dbt" in text and "peak 3.00 GiB" in text
