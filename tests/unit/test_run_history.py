"""The persistent instance `unitcost run` records into: runs of a process that died mid-run
are ended by the next run on the host, so nothing stays "running" or holds a pool slot."""

from __future__ import annotations

import os
import socket
import subprocess

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from pipelines.runner import HOST_TAG, PID_TAG, fail_runs_of_dead_processes, open_instance


def _run(instance, run_id: str, pid: int, host: str) -> None:
    instance.add_run(
        DagsterRun(
            job_name="daily",
            run_id=run_id,
            status=dg.DagsterRunStatus.STARTED,
            tags={PID_TAG: str(pid), HOST_TAG: host},
        )
    )


def test_a_dead_processs_started_runs_fail_and_live_or_foreign_ones_stay(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: this pid runs nothing now
    here = socket.gethostname()
    with open_instance(tmp_path / "dagster") as instance:
        assert (tmp_path / "dagster" / "dagster.yaml").is_file()  # made with unitcost's settings
        _run(instance, "dead", gone.pid, here)
        _run(instance, "alive", os.getpid(), here)
        _run(instance, "elsewhere", gone.pid, "another-host")
        assert fail_runs_of_dead_processes(instance) == ["dead"]
        status = {r: instance.get_run_by_id(r).status for r in ("dead", "alive", "elsewhere")}
        assert status == {
            "dead": dg.DagsterRunStatus.FAILURE,
            "alive": dg.DagsterRunStatus.STARTED,  # still running: left alone
            "elsewhere": dg.DagsterRunStatus.STARTED,  # its pid means nothing on this host
        }
        assert fail_runs_of_dead_processes(instance) == []  # once only
