"""`unitcost run`'s one line per finished step, from a hand-made event stream."""

from __future__ import annotations

import io
from types import SimpleNamespace as NS

import dagster as dg

from pipelines.progress import StepProgress


def _entry(kind, step, ts, **data):
    return NS(step_key=step, timestamp=ts, dagster_event=NS(event_type_value=kind, **data))


def _rows(n, asset="raw/inference_requests", partition="2026-11-01"):
    return NS(
        materialization=NS(
            asset_key=asset, partition=partition, metadata={"dagster/row_count": NS(value=n)}
        )
    )


def _check(passed, severity=dg.AssetCheckSeverity.ERROR):
    return NS(passed=passed, severity=severity)


def test_a_step_line_has_its_range_rows_seconds_and_check_verdicts():
    out = io.StringIO()
    progress = StepProgress(out, "2026-11-01..2026-11-07")
    events = [
        _entry("STEP_START", "request_log_tables", 100.0),
        _entry(
            "ASSET_MATERIALIZATION", "request_log_tables", 101.0, step_materialization_data=_rows(5)
        ),
        _entry(
            "ASSET_MATERIALIZATION",
            "request_log_tables",
            101.5,
            # the same asset's count again on the range's next day: counted once
            step_materialization_data=_rows(5, partition="2026-11-02"),
        ),
        _entry(
            "ASSET_MATERIALIZATION",
            "request_log_tables",
            102.0,
            step_materialization_data=_rows(7, asset="raw/quarantine_requests"),
        ),
        _entry(
            "ASSET_CHECK_EVALUATION", "request_log_tables", 103.0, event_specific_data=_check(True)
        ),
        _entry(
            "ASSET_CHECK_EVALUATION",
            "request_log_tables",
            103.1,
            event_specific_data=_check(False, dg.AssetCheckSeverity.WARN),
        ),
        _entry(
            "ASSET_CHECK_EVALUATION", "request_log_tables", 103.2, event_specific_data=_check(False)
        ),
        _entry("STEP_START", "weekly_report", 103.3),  # interleaved: lines are per step
        _entry("STEP_SUCCESS", "request_log_tables", 103.5),
        NS(step_key=None, timestamp=104.0, dagster_event=None),  # a plain log line: ignored
        _entry("STEP_FAILURE", "weekly_report", 104.3),
    ]
    for e in events:
        progress(e)
    first, second = out.getvalue().splitlines()
    assert first.split() == [
        "request_log_tables",
        "2026-11-01..2026-11-07",
        "12",  # 5 + 7 rows, the repeated 5 once
        "rows",
        "3.5",  # 100.0 -> 103.5
        "s",
        "checks",
        "1",
        "passed,",
        "1",
        "warned,",
        "1",
        "failed",
    ]
    # no rows, no checks: neither is printed; a failure says so
    assert second.split() == ["FAILED", "weekly_report", "2026-11-01..2026-11-07", "1.0", "s"]


def test_checks_that_all_pass_print_no_warned_count():
    out = io.StringIO()
    progress = StepProgress(out)
    progress(_entry("STEP_START", "billing_line_items", 0.0))
    progress(
        _entry("ASSET_CHECK_EVALUATION", "billing_line_items", 1, event_specific_data=_check(True))
    )
    progress(_entry("STEP_SUCCESS", "billing_line_items", 2.0))
    assert out.getvalue().split() == [
        "billing_line_items",
        "-",
        "2.0",
        "s",
        "checks",
        "1",
        "passed,",
        "0",
        "failed",
    ]
