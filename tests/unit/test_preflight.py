"""Case 36, disk full or spill cap hit: `unitcost run` checks free space before writing, and a
write that fails mid-transaction leaves the previous table and the published copy as they were.
No Dagster run here: the run's steps are replaced by one failing DuckDB write."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from pipelines import runner
from pipelines.cli import main
from pipelines.config import load_settings
from pipelines.preflight import FREE_SPACE_FACTOR, disk_need
from pipelines.warehouse import analytics_path, connect, publish_analytics_copy

DAY = dt.date(2026, 11, 2)
RUN = ["--start", "2026-11-02", "--end", "2026-11-03"]
Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def config_with_logs(tiny_config: Path) -> Path:
    """tiny_config plus a local request-log source: files of the window, of the day after
    (late completions of the window's day), of another week, and one undated."""
    logs = tiny_config.parent / "logs"
    for name, size in {
        "date=2026-11-02/a.jsonl": 1000,
        "date=2026-11-03/a.jsonl": 300,
        "date=2026-11-09/a.jsonl": 50_000,
        "host-20261102T101500Z.jsonl": 20,
        "undated.jsonl": 7,
    }.items():
        (logs / name).parent.mkdir(parents=True, exist_ok=True)
        (logs / name).write_bytes(b"x" * size)
    tiny_config.write_text(
        tiny_config.read_text() + "sources:\n  requests: {location: logs, format: vllm_jsonl}\n"
    )
    return tiny_config


def _fake_disk(monkeypatch: pytest.MonkeyPatch, free: int) -> list[Path]:
    asked = []

    def disk_usage(path):
        asked.append(Path(path))
        return Usage(10**12, 10**12 - free, free)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    return asked


def test_disk_need_is_twice_the_windows_input_plus_the_published_copy(config_with_logs):
    settings = load_settings(config_with_logs)
    with connect(settings.duckdb_path) as con:
        con.execute("create table t as select range as i from range(1000)")
    need = disk_need(settings, DAY, DAY + dt.timedelta(days=1))
    # the week-later file is not read by this run; the undated one may be
    assert (need.input_files, need.input_bytes) == (4, 1000 + 300 + 20 + 7)
    warehouse = settings.duckdb_path.stat().st_size
    assert need.warehouse_bytes == warehouse > 0
    assert need.needed_bytes == FREE_SPACE_FACTOR * 1327 + warehouse
    assert need.folder == settings.duckdb_path.parent


def test_run_fails_before_writing_naming_the_path_free_bytes_and_need(
    config_with_logs, monkeypatch, capsys
):
    asked = _fake_disk(monkeypatch, free=2653)  # one byte short of 2 x 1,327
    code = main(["run", "--config", str(config_with_logs), *RUN])
    err = capsys.readouterr().err
    folder = config_with_logs.parent  # warehouse/ does not exist yet: its parent's filesystem
    assert code == 1
    assert asked == [folder]
    assert err.strip() == (
        f"unitcost run: not enough free disk space: {folder} has 2,653 bytes free, the run "
        "needs 2,654 (2 x 1,327 bytes of input in 4 file(s) for [2026-11-02, 2026-11-03), "
        "plus 0 bytes for the analysts' copy tiny.analytics.duckdb). Free some space, or skip "
        "this check with --no-disk-check."
    )
    assert not (folder / "warehouse").exists()  # nothing written, not even the lock probe


def test_the_disk_check_passes_with_enough_room_and_can_be_turned_off(
    config_with_logs, monkeypatch
):
    steps = []
    monkeypatch.setattr(runner, "_execute", lambda *args: steps.append(args) or (0, ()))
    _fake_disk(monkeypatch, free=2654)
    assert main(["run", "--config", str(config_with_logs), *RUN]) == 0
    _fake_disk(monkeypatch, free=0)
    assert main(["run", "--config", str(config_with_logs), *RUN, "--no-disk-check"]) == 0
    assert len(steps) == 2


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_write_failing_on_the_spill_cap_rolls_back_and_leaves_the_published_copy(
    tiny_config, monkeypatch
):
    warehouse = load_settings(tiny_config).duckdb_path
    with connect(warehouse) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select range as i from range(3)")
    published = publish_analytics_copy(warehouse)
    before = (_sha256(published), published.stat().st_ino, published.stat().st_mtime_ns)

    def step_that_spills_past_the_cap(start, end, log_level, *_):
        # A window rebuilt as the pipeline does it (one transaction: delete, insert), whose
        # sort must spill; the spill folder is capped as a nearly full disk would cap it.
        with connect(os.environ["UNITCOST_DUCKDB"]) as con:
            con.execute("set memory_limit = '20MB'")
            con.execute("set threads = 1")
            con.execute(f"set temp_directory = '{warehouse.parent / 'spill'}'")
            con.execute("set max_temp_directory_size = '1MB'")
            con.execute("begin transaction")
            try:
                con.execute("delete from marts.t")
                con.execute(
                    "insert into marts.t select i from "
                    "(select range as i, random() as r from range(3000000)) order by r"
                )
                con.execute("commit")
            except Exception as exc:
                con.execute("rollback")
                raise runner.RunError(f"step dbt_daily_models failed: {exc}") from None
        return 1, ()

    monkeypatch.setattr(runner, "_execute", step_that_spills_past_the_cap)
    with pytest.raises(runner.RunError) as err:
        runner.run(tiny_config, DAY, DAY + dt.timedelta(days=1))
    assert "Out of Memory Error: failed to offload data block" in str(err.value)
    assert "'max_temp_directory_size'" in str(err.value)

    with connect(warehouse, read_only=True) as con:
        assert con.execute("select i from marts.t order by i").fetchall() == [(0,), (1,), (2,)]
    after = (_sha256(published), published.stat().st_ino, published.stat().st_mtime_ns)
    assert after == before  # not republished: analysts still read the last good copy
    assert published == analytics_path(warehouse)
    assert sorted(p.name for p in published.parent.iterdir() if p.name.startswith(".")) == []
