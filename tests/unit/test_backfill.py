"""`unitcost backfill`: the range cut into chunks, one run each, a bar and a line per chunk."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from pipelines import backfill as backfill_module
from pipelines.backfill import backfill, chunks
from pipelines.runner import RunError, RunResult

D = dt.date


def test_chunks_cover_the_range_once_the_last_one_shorter():
    assert list(chunks(D(2026, 11, 1), D(2026, 11, 9), 3)) == [
        (D(2026, 11, 1), D(2026, 11, 4)),
        (D(2026, 11, 4), D(2026, 11, 7)),
        (D(2026, 11, 7), D(2026, 11, 9)),
    ]
    assert list(chunks(D(2026, 11, 1), D(2026, 11, 2), 7)) == [(D(2026, 11, 1), D(2026, 11, 2))]
    with pytest.raises(ValueError, match="at least one day"):
        list(chunks(D(2026, 11, 1), D(2026, 11, 2), 0))


def test_each_chunk_is_one_quiet_run_and_a_failure_stops_after_the_built_ones(monkeypatch):
    calls = []

    def fake_run(config, start, end, *, disk_check, step_lines):
        calls.append((start, end, step_lines))
        if start == D(2026, 11, 5):
            raise RunError("step telemetry_tables failed: boom")
        return RunResult(Path("w.duckdb"), start, end, steps_succeeded=19)

    monkeypatch.setattr(backfill_module, "run", fake_run)
    out = io.StringIO()
    results = backfill("c.yaml", D(2026, 11, 1), D(2026, 11, 5), 2, stream=out)
    assert [(r.start, r.end) for r in results] == [
        (D(2026, 11, 1), D(2026, 11, 3)),
        (D(2026, 11, 3), D(2026, 11, 5)),
    ]
    assert all(step_lines is False for *_, step_lines in calls)  # the bar replaces them
    text = out.getvalue()
    assert "2026-11-01..2026-11-02: 19 steps in" in text
    assert "2026-11-03..2026-11-04: 19 steps in" in text
    assert "4/4" in text  # the bar counted every day

    with pytest.raises(RunError, match="boom"):
        backfill("c.yaml", D(2026, 11, 3), D(2026, 11, 7), 2, stream=io.StringIO())
    assert calls[-2:] == [
        (D(2026, 11, 3), D(2026, 11, 5), False),
        (D(2026, 11, 5), D(2026, 11, 7), False),
    ]
