"""Request logs end to end: `unitcost simulate` (3 tiny days) with a canary planted in prompts,
completions, users and bad lines, then a real `unitcost run`; re-run identity; ground truth.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.fleet.formats import SimulationContext
from pipelines.fleet.formats.request_logs import LOG_DIR, write_logs
from pipelines.fleet.plan import build_plan
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.ingest.requests.privacy import SALT_ENV
from pipelines.runner import open_instance
from pipelines.warehouse import connect, quote_identifier

pytestmark = pytest.mark.slow

CANARY = "CANARY-7f3a9c1e-do-not-store"
START, DAYS, SCALE, SEED = dt.date(2026, 11, 1), 3, 0.05, 7
RUN_ARGS = ["--start", "2026-11-01", "--end", "2026-11-04", "--verbose"]
KEYS = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens")


@contextmanager
def captured_output(path: Path):
    """Everything the run prints into ``path``: fds 1 and 2 (dbt, subprocesses) and Python's
    sys.stdout/sys.stderr (which pytest points elsewhere), all appending to one file."""
    saved = [os.dup(1), os.dup(2)]
    with path.open("ab") as sink, path.open("a", buffering=1) as text:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with redirect_stdout(text), redirect_stderr(text):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _plant(out: Path) -> dict:
    """Canary in every prompt and completion; three bad lines in the busiest log file."""
    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), START, DAYS, SCALE, SEED)
    write_logs(SimulationContext(out=out, plan=plan), secret=CANARY)
    target = max((out / LOG_DIR / "date=2026-11-02").glob("*.jsonl.gz"), key=os.path.getsize)
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    first = json.loads(lines[0])
    negative = {**first, "id": "planted-negative", "user": CANARY}
    negative["usage"] = {"prompt_tokens": -1, "completion_tokens": 3}
    usage = {**first["usage"], "completion_tokens": first["usage"]["completion_tokens"] + 1}
    conflict = {**first, "usage": usage}
    broken = '{"id": "planted-broken", "messages": [{"content": "' + CANARY + '"}'
    lines += [broken, json.dumps(negative), json.dumps(conflict)]
    target.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    return {"file": str(target), "lines": len(lines), "first_id": first["id"]}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, dbt_manifest):
    out = tmp_path_factory.mktemp("requests_fleet")
    args = ["simulate", "--out", str(out), "--days", str(DAYS), "--start", START.isoformat()]
    assert main([*args, "--scale", str(SCALE), "--seed", str(SEED)]) == 0
    planted = _plant(out)
    patch = pytest.MonkeyPatch()
    patch.setenv(SALT_ENV, "test-salt-0123456789")
    patch.delenv("DAGSTER_HOME", raising=False)
    try:
        with captured_output(out / "run_output.txt"):
            code = main(["run", "--config", str(out / "unitcost.yaml"), *RUN_ARGS])
    finally:
        patch.undo()
    assert code == 0, (out / "run_output.txt").read_text()[-3000:]
    # The run's persistent instance (beside the warehouse): its event log, every metadata
    # entry included, is searched too.
    with open_instance(out / "dagster") as instance:
        yield out, instance, planted


def _text_columns(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'JSON') or data_type like '%[]' "
        "or data_type like 'STRUCT%' or data_type like 'MAP%'"
    ).fetchall()


def test_canary_is_nowhere_after_a_run(fleet):
    out, instance, _ = fleet
    duckdb_path = out / "unitcost.duckdb"
    for path in [duckdb_path, Path(f"{duckdb_path}.wal")]:
        if path.exists():
            assert CANARY.encode() not in path.read_bytes(), path
    hits = []
    with connect(duckdb_path, read_only=True) as con:
        for schema, table, column in _text_columns(con):
            name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            col = quote_identifier(column)
            found = con.execute(
                f"select count(*) from {name} where cast({col} as varchar) like ?",
                [f"%{CANARY}%"],
            ).fetchone()[0]
            hits += [f"{schema}.{table}.{column}"] * bool(found)
        assert con.execute("select count(*) from raw.quarantine_requests").fetchone()[0] >= 3
    assert hits == []
    output = (out / "run_output.txt").read_text()
    assert "raw.inference_requests" in output  # the report really was captured
    assert CANARY not in output
    events = [repr(event) for run in instance.get_runs() for event in instance.all_logs(run.run_id)]
    assert any("raw/inference_requests" in e or "inference_requests" in e for e in events)
    assert not [e for e in events if CANARY in e]
    # nor in any file of the instance (its SQLite event logs)
    stored = [f for f in (out / "dagster").rglob("*") if f.is_file()]
    assert stored and not [f for f in stored if CANARY.encode() in f.read_bytes()]


def test_planted_bad_lines_are_quarantined_by_file_line_and_reason(fleet):
    out, _, planted = fleet
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        rows = con.execute(
            "select line, column_name, reason, partition_day from raw.quarantine_requests "
            "where source_file = ? and line > ? - 3 order by line",
            [planted["file"], planted["lines"]],
        ).fetchall()
        kept = con.execute(
            "select count(*) from raw.inference_requests where request_id = ?",
            [planted["first_id"]],
        ).fetchone()[0]
    n = planted["lines"]
    assert [r[:3] for r in rows] == [
        (n - 2, None, "malformed JSON: Expecting ',' delimiter"),
        (n - 1, "usage.prompt_tokens", "negative token count"),
        (n, "id", "request_id appears more than once with conflicting content"),
    ]
    assert kept == 0  # both copies of the conflicting id are out


def _truth_request(out: Path, request_id: str) -> tuple[tuple[str, str], tuple[int, ...]]:
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        dep, day, *values = con.execute(
            "select deployment_id, cast(cast(arrival_ts as date) as varchar), 1, "
            "(status = 'error')::int, input_tokens, output_tokens, cached_tokens "
            "from read_parquet(?) where request_id = ?",
            [str(out / "truth" / "requests" / "*" / "*.parquet"), request_id],
        ).fetchone()
    return (dep, day), tuple(values)


def test_requests_and_tokens_reproduce_the_ground_truth_exactly(fleet):
    out, _, planted = fleet
    truth = json.loads((out / "ground_truth.json").read_text())
    over = truth["request_logs"]["over_context_requests"]
    assert over, "the tiny fleet should include requests beyond an LLM's context"
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        rows = con.execute(
            "select deployment_id, cast(hour_start as date), sum(requests), sum(errors), "
            "sum(input_tokens), sum(output_tokens), sum(cached_tokens) "
            "from intermediate.int_requests__deployment_hourly group by all"
        ).fetchall()
    got = {(dep, day.isoformat()): tuple(map(int, v)) for dep, day, *v in rows}
    expected = {}
    for dep, body in truth["deployments"].items():
        for day, totals in body["days"].items():
            dropped = over.get(dep, {}).get(day, {})
            expected[(dep, day)] = tuple(totals[k] - dropped.get(k, 0) for k in KEYS)
    # The planted conflicting duplicate takes one real request out (both copies quarantined).
    key, values = _truth_request(out, planted["first_id"])
    expected[key] = tuple(e - v for e, v in zip(expected[key], values, strict=True))
    assert got == expected


def test_rerunning_the_range_gives_identical_tables(fleet):
    out, _, _ = fleet
    tables = [
        "raw.inference_requests",
        "raw.quarantine_requests",
        "intermediate.int_requests__deployment_hourly",
    ]

    def snapshot():
        with connect(out / "unitcost.duckdb", read_only=True) as con:
            return {
                t: sorted(con.execute(f"select * from {t}").fetchall(), key=repr) for t in tables
            }

    before = snapshot()
    os.environ[SALT_ENV] = "test-salt-0123456789"
    try:
        # One day from the middle of the range: it must replace exactly its own rows.
        args = ["--start", "2026-11-02", "--end", "2026-11-03"]
        assert main(["run", "--config", str(out / "unitcost.yaml"), *args]) == 0
    finally:
        del os.environ[SALT_ENV]
    assert snapshot() == before
