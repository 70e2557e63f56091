"""`unitcost run`: materialize every asset for the daily partitions in [start, end), in-process.

It executes the scheduled jobs (``pipelines/jobs.py``): the snapshot job (registry, catalogs,
instance types), the daily job over the whole range in one run (daily assets are single-run
backfills: one DuckDB writer, and two dbt invocations per range instead of per day: dimensions
and daily models, then the recommendation marts; pipelines/assets/dbt.py), then the weekly
report of the week ending on the range's last day.

Before any Dagster start-up it validates ``unitcost.yaml`` and the registry (a typo costs one
``file:line: key: message`` line, not a traceback), checks that the warehouse's filesystem has
room for the run (``pipelines/preflight.py``; ``disk_check=False`` skips it) and waits for the
warehouse lock (with backoff, ``UNITCOST_LOCK_TIMEOUT_S``). The runs are recorded in a
persistent Dagster instance (``Settings.dagster_instance_dir``: ``dagster/`` beside the
warehouse by default), which ``dagster dev`` then shows; one line per finished step goes to
stdout as the run goes (``pipelines/progress.py``). After a successful run it publishes the
analysts' read-only copy (``<name>.analytics.duckdb`` beside the warehouse).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import exported, load_settings
from pipelines.partitions import PARTITIONS_START_DATE
from pipelines.preflight import DiskSpaceError, check_disk_space
from pipelines.progress import StepProgress
from pipelines.registry import load_registry
from pipelines.warehouse import WarehouseLockedError, connect, publish_analytics_copy


class RunError(RuntimeError):
    """The run failed; the message names the failing step and its error."""


@dataclass(frozen=True)
class RunResult:
    duckdb_path: Path
    start: dt.date
    end: dt.date
    steps_succeeded: int
    analytics_path: Path | None = None
    run_ids: tuple[str, ...] = ()  # the Dagster runs (snapshot, daily, report)


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
    config_path: str | Path,
    start: dt.date,
    end: dt.date,
    *,
    log_level: str = "WARNING",
    disk_check: bool = True,
    step_lines: bool = True,
) -> RunResult:
    """Materialize all assets for [start, end) as configured in ``config_path``.

    ``log_level`` is Dagster's console level: WARNING (quiet), INFO (with dbt's output), or
    DEBUG (also every step as it starts and ends). ``step_lines``: print one line per
    finished step (``pipelines/progress.py``); a backfill's progress bar turns them off.
    """
    _check_range(start, end)
    settings = load_settings(config_path)  # fail on a bad config before any import cost
    # The registry_tables asset validates it again, but a failure there comes wrapped in
    # Dagster's step-failure logging; here it is the one ConfigError line per problem.
    load_registry(settings.registry_path)
    if disk_check:
        try:
            # Case 36: fail before writing anything rather than on a full disk mid-run.
            check_disk_space(settings, start, end)
        except DiskSpaceError as exc:
            raise RunError(str(exc)) from None
    try:
        # dbt (a subprocess) cannot retry a held lock; wait for it here, where we can.
        with connect(settings.duckdb_path):
            pass
    except WarehouseLockedError as exc:
        raise RunError(str(exc)) from None
    env = {
        "UNITCOST_CONFIG": str(settings.config_path),
        "UNITCOST_DUCKDB": str(settings.duckdb_path),
        # profiles.yml's target: `dev` (DuckDB) or the Spark one (unitcost.yaml `engine`)
        "UNITCOST_DBT_TARGET": settings.dbt_target,
        **settings.lake_env,  # the lake root dbt on Spark reads (UNITCOST_LAKE_ROOT)
    }
    with exported(env):  # Dagster's EnvVars and dbt's profile read them
        steps, run_ids = _execute(start, end, log_level, settings.dagster_instance_dir, step_lines)
    try:
        published = publish_analytics_copy(settings.duckdb_path)
    except WarehouseLockedError as exc:
        raise RunError(
            f"the run succeeded but publishing the analysts' copy failed: {exc}"
        ) from None
    return RunResult(settings.duckdb_path, start, end, steps, published, run_ids)


# The instance settings `make dev` runs with (pools: one writer of the warehouse at a time).
INSTANCE_YAML = Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml"


def open_instance(home: Path):
    """The persistent Dagster instance at ``home`` (created with unitcost's ``dagster.yaml``
    if new), so runs, materializations and check results stay for ``dagster dev`` to show."""
    import dagster as dg

    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(INSTANCE_YAML, home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


PID_TAG, HOST_TAG = "unitcost/pid", "unitcost/host"


def _process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def fail_runs_of_dead_processes(instance) -> list[str]:
    """Mark FAILURE the runs of this host's `unitcost run` processes that died mid-run.

    A run executes in its own process; killed (kill -9, OOM), it stays STARTED in the
    instance for good: the UI shows it running and a run queue would count it against the
    pool. The next run on this host ends those whose process is gone. Returns their ids.
    """
    import dagster as dg

    ended = []
    unfinished = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    runs = instance.get_runs(
        dg.RunsFilter(statuses=unfinished, tags={HOST_TAG: socket.gethostname()})
    )
    for dagster_run in runs:
        pid = int(dagster_run.tags.get(PID_TAG, "0"))
        if pid and not _process_alive(pid):
            instance.report_run_failed(
                dagster_run, f"the unitcost run process (pid {pid}) ended without finishing"
            )
            instance.event_log_storage.free_concurrency_slots_for_run(dagster_run.run_id)
            ended.append(dagster_run.run_id)
    return ended


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _execute(
    start: dt.date, end: dt.date, log_level: str, dagster_home: Path, step_lines: bool = True
) -> tuple[int, tuple[str, ...]]:
    from pipelines.dbt_project import prepare_dbt, sweep_stale_targets

    prepare_dbt()
    sweep_stale_targets()  # folders left by runs killed before they could retire them
    from pipelines.definitions import defs
    from pipelines.jobs import DAILY_JOB, SNAPSHOT_JOB, WEEKLY_REPORT_JOB

    last_day = (end - dt.timedelta(days=1)).isoformat()
    range_tags = {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": last_day,
        **_process_tags(),
    }
    # The report of the week ending on the window's last day, as the Monday schedule builds
    # it for Sunday: one partition, after the marts it reads.
    report_tags = {"dagster/partition": last_day, **_process_tags()}
    jobs = ((SNAPSHOT_JOB, _process_tags()), (DAILY_JOB, range_tags))
    jobs += ((WEEKLY_REPORT_JOB, report_tags),)
    steps, run_ids = 0, []
    with open_instance(dagster_home) as instance:
        fail_runs_of_dead_processes(instance)
        for job_name, tags in jobs:
            done, run_id = _execute_job(defs, instance, job_name, tags, log_level, step_lines)
            steps += done
            run_ids.append(run_id)
    return steps, tuple(run_ids)


def _execute_job(
    defs, instance, job_name: str, tags: dict, log_level: str, step_lines: bool = True
) -> tuple[int, str]:
    from dagster._core.utils import make_new_run_id

    # One line per finished step, as it finishes, on the real stdout.
    run_id = make_new_run_id()
    window = [tags.get(f"dagster/asset_partition_range_{end}") for end in ("start", "end")]
    label = "..".join(window) if all(window) else tags.get("dagster/partition")
    if step_lines:
        instance.add_event_listener(run_id, StepProgress(sys.stdout, label))
    # dagster-dbt echoes every dbt log line to stdout; keep it unless asked to be verbose,
    # and show it only if the job fails.
    captured = io.StringIO()
    with contextlib.redirect_stdout(sys.stdout if log_level != "WARNING" else captured):
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            run_id=run_id,
            tags=tags,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )
    if not result.success:
        sys.stderr.write(captured.getvalue())
        raise RunError(_failure_message(result))
    done = len(result.get_step_success_events())
    if step_lines:
        print(f"{job_name}: {done} steps succeeded", flush=True)
    return done, result.run_id
