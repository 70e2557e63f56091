"""One line per finished step of a `unitcost run`, as the run goes.

Dagster's own console log is every event (``--verbose``); by default an operator wants to see
that the run is moving and what each step did: its name, the partition range, the rows it
wrote, its seconds, and how many of its checks passed or failed. ``StepProgress`` listens to
the run's events on the instance (``DagsterInstance.add_event_listener``) and prints when a
step ends.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

ROW_COUNT = "dagster/row_count"


class StepProgress:
    """Event listener for one run: call it with each ``EventLogEntry``."""

    def __init__(self, stream: TextIO, partition_range: str | None = None) -> None:
        self._stream = stream
        self._range = partition_range or "-"
        self._started: dict[str, float] = {}
        # rows per asset of the step: an asset that wrote a range of days reports its rows
        # once and Dagster records that on every partition's event, so they are not summed
        self._rows: dict[str, dict[object, int]] = defaultdict(dict)
        self._checks: dict[str, list[str]] = defaultdict(list)  # passed / warned / failed

    def __call__(self, entry) -> None:
        event, step = entry.dagster_event, entry.step_key
        if event is None or step is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self._started[step] = entry.timestamp
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            rows = materialization.metadata.get(ROW_COUNT)
            if rows is not None:
                self._rows[step][materialization.asset_key] = int(rows.value)
        elif kind == "ASSET_CHECK_EVALUATION":
            self._checks[step].append(_verdict(event.event_specific_data))
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            self._stream.write(self.line(step, entry.timestamp, kind == "STEP_FAILURE") + "\n")
            self._stream.flush()

    def line(self, step: str, ended: float, failed: bool = False) -> str:
        seconds = ended - self._started.get(step, ended)
        rows = f"{sum(self._rows[step].values()):,} rows" if step in self._rows else ""
        checks = self._checks.get(step, [])
        counts = [(checks.count(v), v) for v in ("passed", "warned", "failed")]
        verdict = "checks " + ", ".join(f"{n} {v}" for n, v in counts if n or v != "warned")
        verdict = verdict if checks else ""
        status = "FAILED " if failed else ""
        return (
            f"  {status}{step:<44} {self._range:<23} {rows:>16} {seconds:7.1f} s  {verdict}"
        ).rstrip()


def _verdict(evaluation) -> str:
    # a failed check of WARN severity (e.g. a dbt test with severity warn) does not fail the run
    if evaluation.passed:
        return "passed"
    return "warned" if evaluation.severity.value == "WARN" else "failed"
