"""`unitcost run`: materialize every asset for the daily partitions in [start, end), in-process.

It executes the scheduled jobs (``pipelines/jobs.py``): the snapshot job (registry, catalogs,
dimensions), then the daily job over the whole range in one run (daily assets are single-run
backfills: one DuckDB writer, one dbt invocation per range instead of one per day).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import load_settings
from pipelines.partitions import PARTITIONS_START_DATE


class RunError(RuntimeError):
    """The run failed; the message names the failing step and its error."""


@dataclass(frozen=True)
class RunResult:
    duckdb_path: Path
    start: dt.date
    end: dt.date
    steps_succeeded: int


def _check_range(start: dt.date, end: dt.date) -> None:
    earliest = dt.date.fromisoformat(PARTITIONS_START_DATE)
    if end <= start:
        raise RunError(f"--end {end} must be after --start {start} (the range is [start, end))")
    if start < earliest:
        raise RunError(f"--start {start} is before the first partition {earliest}")


def _root_cause(error) -> str:
    # Dagster wraps the asset's own exception ("Error occurred while executing op ..."); the
    # user needs the innermost one, which names the file, line and key.
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error is not None else "unknown error"


def _failure_message(result) -> str:
    lines = [
        f"step {event.step_key} failed: {_root_cause(event.step_failure_data.error)}"
        for event in result.all_events
        if event.is_step_failure
    ]
    return "\n".join(lines) or "the run failed"


def run(
    config_path: str | Path, start: dt.date, end: dt.date, *, log_level: str = "WARNING"
) -> RunResult:
    """Materialize all assets for [start, end) as configured in ``config_path``."""
    _check_range(start, end)
    settings = load_settings(config_path)  # fail on a bad config before any import cost
    env = {
        "UNITCOST_CONFIG": str(settings.config_path),
        "UNITCOST_DUCKDB": str(settings.duckdb_path),
    }
    with _environment(env):
        steps = _execute(start, end, log_level)
    return RunResult(settings.duckdb_path, start, end, steps)


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    """Export ``values`` for the run (Dagster's EnvVars and dbt's profile read them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _execute(start: dt.date, end: dt.date, log_level: str) -> int:
    import dagster as dg

    from pipelines.dbt_project import prepare_dbt

    prepare_dbt()
    from pipelines.definitions import defs
    from pipelines.jobs import DAILY_JOB, SNAPSHOT_JOB

    instance = dg.DagsterInstance.ephemeral()
    range_tags = {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": (end - dt.timedelta(days=1)).isoformat(),
    }
    steps = 0
    for job_name, tags in ((SNAPSHOT_JOB, {}), (DAILY_JOB, range_tags)):
        # dagster-dbt echoes every dbt log line to stdout; keep it unless asked to be verbose,
        # and show it only if the job fails.
        captured = io.StringIO()
        with contextlib.redirect_stdout(sys.stdout if log_level == "INFO" else captured):
            result = defs.resolve_job_def(job_name).execute_in_process(
                instance=instance,
                tags=tags,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                raise_on_error=False,
            )
        if not result.success:
            sys.stderr.write(captured.getvalue())
            raise RunError(_failure_message(result))
        done = len(result.get_step_success_events())
        print(f"{job_name}: {done} steps succeeded", flush=True)
        steps += done
    return steps
