"""`unitcost run`: materialize every asset for the daily partitions in [start, end), in-process.

Unpartitioned assets (registry, catalogs, dimensions) run first, then every daily asset over
the whole range in one run (their backfill policy is single-run: one DuckDB writer, one dbt
invocation per range instead of one per day).
"""

from __future__ import annotations

import datetime as dt
import os
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


def run(config_path: str | Path, start: dt.date, end: dt.date) -> RunResult:
    """Materialize all assets for [start, end) as configured in ``config_path``."""
    _check_range(start, end)
    settings = load_settings(config_path)  # fail on a bad config before any import cost
    os.environ["UNITCOST_CONFIG"] = str(settings.config_path)
    os.environ["UNITCOST_DUCKDB"] = str(settings.duckdb_path)

    import dagster as dg

    from pipelines.dbt_project import prepare_dbt

    prepare_dbt()
    from pipelines.definitions import defs

    everything = [*(defs.assets or []), *(defs.asset_checks or [])]
    partitioned = [
        key
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition) and a.partitions_def is not None
        for key in a.keys
    ]
    instance = dg.DagsterInstance.ephemeral()
    steps = 0
    runs = [
        (dg.AssetSelection.all() - dg.AssetSelection.assets(*partitioned), {}),
        (
            dg.AssetSelection.assets(*partitioned),
            {
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": (end - dt.timedelta(days=1)).isoformat(),
            },
        ),
    ]
    for selection, tags in runs:
        result = dg.materialize(
            everything,
            selection=selection,
            resources=defs.resources,
            instance=instance,
            tags=tags,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            raise_on_error=False,
        )
        if not result.success:
            raise RunError(_failure_message(result))
        steps += len(result.get_step_success_events())
    return RunResult(settings.duckdb_path, start, end, steps)
