"""The run machinery (issues 12, 13): registry errors up front, dbt target folders bounded, the
analysts' read-only copy and lock retries, dbt dying with the run, DuckDB's settings, dbt's
start-up per step. No Dagster run here."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.warehouse import (
    WarehouseLockedError,
    analytics_path,
    connect,
    publish_analytics_copy,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _hold(path: Path, *, read_only: bool) -> subprocess.Popen:
    """Another process holding ``path`` open, as an analyst's session does, until killed."""
    code = textwrap.dedent(
        f"""
        import sys, time, duckdb
        con = duckdb.connect({str(path)!r}, read_only={read_only})
        print(con.execute("select count(*) from marts.t").fetchone()[0], flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()  # the file is open and locked once it has answered
    return proc


def _small_warehouse(path: Path, rows: int) -> None:
    with connect(path) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.t as select range as i from range(?)", [rows])
        con.execute("create or replace view marts.v as select * from marts.t")


# 1. A registry typo: one `file:line: key: message` line, no Dagster traceback.


def test_cli_run_reports_a_registry_typo_in_one_line_before_any_step(tmp_path, capsys):
    registry = tmp_path / "registry_tiny.yaml"
    shutil.copy(FIXTURES / "registry_tiny.yaml", registry)
    registry.write_text(registry.read_text().replace("count: 2}", "count: 0}", 1))
    config = tmp_path / "unitcost.yaml"
    config.write_text("duckdb_path: w.duckdb\nregistry: registry_tiny.yaml\n")

    code = main(["run", "--config", str(config), "--start", "2026-11-02", "--end", "2026-11-03"])

    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines() == [
        f"{registry}:10: deployments[0].gpu.count: Input should be greater than or equal to 1"
    ]
    assert "Traceback" not in out + err
    assert not (tmp_path / "w.duckdb").exists()  # rejected before anything ran


# 2. dbt target folders: one kept per asset, however many runs.


def test_retired_dbt_targets_keep_one_folder_per_asset(tmp_path, monkeypatch):
    from pipelines import dbt_project

    monkeypatch.setattr(dbt_project, "TARGET_DIR", tmp_path)
    monkeypatch.setattr(dbt_project, "LATEST_TARGETS_DIR", tmp_path / "latest")
    for run in range(4):
        for asset in ("dbt_daily_models", "dbt_snapshot_models"):
            folder = tmp_path / f"{asset}-{run:07x}-abcdef{run}"
            (folder / "compiled").mkdir(parents=True)
            (folder / "run_results.json").write_text(str(run))
            dbt_project.retire_target(folder, asset)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]
    latest = tmp_path / "latest"
    assert sorted(p.name for p in latest.iterdir()) == ["dbt_daily_models", "dbt_snapshot_models"]
    assert (latest / "dbt_daily_models" / "run_results.json").read_text() == "3"


def test_stale_invocation_folders_of_killed_runs_are_swept(tmp_path, monkeypatch):
    from pipelines import dbt_project

    monkeypatch.setattr(dbt_project, "TARGET_DIR", tmp_path)
    old, fresh = tmp_path / "dbt_daily_models-09ee13e-6ad334a", tmp_path / "dbt_daily_models-1-2"
    for folder in (old, fresh, tmp_path / "compiled"):
        folder.mkdir()
    fresh_live = tmp_path / "dbt_recommend_models-131ce22-6e33d9c"
    fresh_live.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    assert dbt_project.sweep_stale_targets() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, "compiled", fresh_live.name]
    )


# 3. Analysts read a published copy; the writer retries a held lock, then names the holder.


def test_published_copy_is_read_only_and_atomically_replaced_under_a_reader(tmp_path):
    writer = tmp_path / "unitcost.duckdb"
    _small_warehouse(writer, 3)
    published = publish_analytics_copy(writer)
    assert published == tmp_path / "unitcost.analytics.duckdb" == analytics_path(writer)
    assert stat.S_IMODE(published.stat().st_mode) == 0o444

    analyst = _hold(published, read_only=True)
    try:
        # The writer neither waits for nor is blocked by the analyst's session.
        started = time.monotonic()
        with connect(writer, lock_timeout=0) as con:
            con.execute("insert into marts.t select 100 + range from range(4)")
        assert publish_analytics_copy(writer, lock_timeout=0) == published
        assert time.monotonic() - started < 5
    finally:
        analyst.kill()
        analyst.wait()
    with connect(published, read_only=True) as con:
        assert con.execute("select count(*) from marts.t").fetchone() == (7,)
        assert con.execute("select count(*) from marts.v").fetchone() == (7,)  # views resolve
    assert sorted(p.name for p in tmp_path.iterdir()) == [published.name, writer.name]


def test_writer_retries_a_held_lock_then_fails_naming_the_holder(tmp_path):
    writer = tmp_path / "w.duckdb"
    _small_warehouse(writer, 1)
    holder = _hold(writer, read_only=True)  # an analyst on the writer file
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as err, connect(writer, lock_timeout=1.2):
            pass
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    message = str(err.value)
    assert "Conflicting lock is held in" in message
    assert f"(PID {holder.pid})" in message
    assert "gave up after 3 attempts" in message  # 0.5 s, then 0.7 s of the 1.2 s budget
    assert 1.1 < elapsed < 5
    with connect(writer, lock_timeout=0) as con:  # free again once the holder is gone
        assert con.execute("select count(*) from marts.t").fetchone() == (1,)


def test_lock_budget_comes_from_the_environment(tmp_path, monkeypatch):
    writer = tmp_path / "w.duckdb"
    _small_warehouse(writer, 1)
    monkeypatch.setenv("UNITCOST_LOCK_TIMEOUT_S", "0")
    holder = _hold(writer, read_only=False)
    try:
        locked = pytest.raises(WarehouseLockedError, match=r"gave up after 1 attempts")
        with locked, connect(writer, read_only=True):
            pass
    finally:
        holder.kill()
        holder.wait()


# 4. dbt dies with the run: it is started through a launcher that sets PR_SET_PDEATHSIG.


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie waiting to be reaped holds no locks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_child_started_through_the_dbt_launcher_dies_with_its_parent(tmp_path):
    from pipelines.dbt_project import DBT_EXECUTABLE, REAL_DBT_EXECUTABLE, write_launcher

    # The resource starts dbt through the launcher...
    assert (
        Path(DBT_EXECUTABLE).read_text()
        == write_launcher(tmp_path / "dbt", REAL_DBT_EXECUTABLE).read_text()
    )
    # ...which, started as dagster-dbt starts dbt (a plain Popen), dies with its parent.
    launcher = write_launcher(tmp_path / "sleep", shutil.which("sleep"))
    parent_code = textwrap.dedent(
        f"""
        import subprocess, time
        child = subprocess.Popen([{str(launcher)!r}, "300"])
        print(child.pid, flush=True)
        time.sleep(300)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    child_pid = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 10
        # wait until the launcher has become sleep (argv[0]); its own path holds "sleep" too
        real = shutil.which("sleep")
        while not Path(f"/proc/{child_pid}/cmdline").read_text().startswith(real + "\0"):
            assert time.monotonic() < deadline, "the launcher never became the child"
            time.sleep(0.05)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child_pid), "the child outlived its SIGKILLed parent"
    finally:
        if _alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)


# 5. Case 39, input larger than memory: one set of DuckDB settings for Python and dbt, a
# memory limit set in one place (UNITCOST_DUCKDB_MEMORY_LIMIT), a spill folder beside the file.

_SETTINGS = [
    "memory_limit",
    "threads",
    "preserve_insertion_order",
    "TimeZone",
    "max_temp_directory_size",
    "temp_directory",
    "asof_loop_join_threshold",
]


def _duckdb_settings(con) -> dict[str, object]:
    query = "select " + ", ".join(f"current_setting('{n}')" for n in _SETTINGS)
    return dict(zip(_SETTINGS, con.execute(query).fetchone(), strict=True))


def _expected_settings(warehouse: Path) -> dict[str, object]:
    import duckdb

    from pipelines.warehouse import connection_config

    config = connection_config(warehouse)
    sizes = {name: config[name] for name in ("memory_limit", "max_temp_directory_size")}
    # DuckDB reports sizes in its own units ('2GB' reads back as '1.8 GiB')
    with duckdb.connect(config=sizes) as con:
        memory, spill_cap = con.execute(
            "select current_setting('memory_limit'), current_setting('max_temp_directory_size')"
        ).fetchone()
    return {
        "memory_limit": memory,
        "threads": 2,
        "preserve_insertion_order": False,
        "TimeZone": "UTC",
        "max_temp_directory_size": spill_cap,
        "temp_directory": f"{warehouse}.tmp",  # spills beside the file
        "asof_loop_join_threshold": 0,
    }


def test_an_asof_join_is_never_planned_as_a_nested_loop_on_a_low_estimate(tmp_path):
    # DuckDB turns an ASOF join whose left side it estimates under asof_loop_join_threshold
    # rows into a nested loop; joined to a grouped CTE, 3 M rows were estimated at 45 and the
    # tenant model never finished. On the warehouse's connections it stays an ASOF join.
    import duckdb

    query = (
        "with l as (select range as k, range as t from range(10)) "
        "select * from l asof join (select range as k, range as t from range(1000)) r "
        "on l.k = r.k and l.t >= r.t"
    )

    def plan(con) -> str:
        return "\n".join(row[1] for row in con.execute("explain " + query).fetchall())

    with duckdb.connect() as con:  # DuckDB's default: 10 rows estimated, a nested loop
        assert "NESTED_LOOP_JOIN" in plan(con) and "ASOF_JOIN" not in plan(con)
    with connect(tmp_path / "w.duckdb") as con:
        assert "ASOF_JOIN" in plan(con) and "NESTED_LOOP_JOIN" not in plan(con)


def test_every_pipeline_connection_has_the_memory_limit_two_threads_and_no_insertion_order(
    tmp_path, monkeypatch
):
    from pipelines.resources import WarehouseResource

    monkeypatch.delenv("UNITCOST_DUCKDB_MEMORY_LIMIT", raising=False)
    writer = tmp_path / "w.duckdb"
    expected = _expected_settings(writer)
    assert expected["memory_limit"] == "1.8 GiB"  # the default, 2GB: a 4 GiB run leaves room
    with connect(writer) as con:
        assert _duckdb_settings(con) == expected
    with connect(writer, read_only=True) as con:
        assert _duckdb_settings(con) == expected
    with WarehouseResource(database=str(writer)).get_connection() as con:  # the assets' own
        assert _duckdb_settings(con) == expected


def test_the_memory_limit_is_set_in_one_place_for_python_and_dbt(tmp_path, monkeypatch):
    import duckdb
    import yaml

    from pipelines.dbt_project import DBT_PROJECT_DIR
    from pipelines.warehouse import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV, connection_config

    # dbt's profile reads the variable the Python connections read, with the same default
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    setting = profile["unitcost"]["outputs"]["dev"]["settings"]["memory_limit"]
    assert setting == f"{{{{ env_var('{MEMORY_LIMIT_ENV}', '{DEFAULT_MEMORY_LIMIT}') }}}}"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    with connect(tmp_path / "w.duckdb") as con:  # the warehouse
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("953.6 MiB",)
    with duckdb.connect(config=connection_config()) as con:  # an ingest reader's, in memory
        assert con.execute("select current_setting('memory_limit')").fetchone() == ("953.6 MiB",)


# More than 100MB of distinct strings: their count spills (40MB sometimes failed outright).
_SPILL_LIMIT = "100MB"
# A sort of ~64 MB of strings under a 100 MB limit: it must spill, with margin. (Counting 3 M
# distinct hashes, ~100 MB of table alone, ran out of memory instead of spilling once in a
# busy full run.)
_SPILL_TABLE = "create table t as select md5(range::varchar) as s from range(1000000)"
_SPILL_QUERY = "select count(*) from (select s || s as x from t order by x)"


def test_connections_spill_past_the_limit_into_their_own_folder(tmp_path, monkeypatch):
    import duckdb

    from pipelines.warehouse import MEMORY_LIMIT_ENV, connection_config

    monkeypatch.setenv(MEMORY_LIMIT_ENV, _SPILL_LIMIT)
    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        con.execute(_SPILL_TABLE)
        assert not Path(f"{warehouse}.tmp").exists()
        assert con.execute(_SPILL_QUERY).fetchone() == (1_000_000,)
        assert Path(f"{warehouse}.tmp").is_dir()  # it spilled, beside the file
    # In-memory databases: a folder each (DuckDB names spill files alike), gone once closed.
    assert connection_config()["temp_directory"] != connection_config()["temp_directory"]
    with duckdb.connect(config=connection_config()) as con:
        (folder,) = con.execute("select current_setting('temp_directory')").fetchone()
        folder = Path(folder)
        assert folder.name.startswith("unitcost-duckdb-")
        con.execute(_SPILL_TABLE)
        assert con.execute(_SPILL_QUERY).fetchone() == (1_000_000,)
        assert folder.is_dir()
    assert not folder.exists()


def test_dbt_profile_sets_the_same_duckdb_settings_as_warehouse_py():
    import yaml

    from pipelines.dbt_project import DBT_PROJECT_DIR
    from pipelines.warehouse import (
        DEFAULT_MEMORY_LIMIT,
        MEMORY_LIMIT_ENV,
        connection_config,
        spill_directory,
    )

    dev = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["unitcost"]["outputs"]
    dev = dev["dev"]
    python = connection_config(dev["path"])
    # the spill folder is set once, when dbt opens the file (see the next test); the rest is
    # SET on every cursor
    assert dev["config_options"] == {"temp_directory": spill_directory(dev["path"])}
    assert dev["config_options"]["temp_directory"] == python.pop("temp_directory")
    assert dev["settings"] == {
        **python,
        "memory_limit": f"{{{{ env_var('{MEMORY_LIMIT_ENV}', '{DEFAULT_MEMORY_LIMIT}') }}}}",
        "TimeZone": "UTC",
    }


def test_every_dbt_setting_can_be_set_again_after_duckdb_has_spilled(tmp_path):
    import duckdb
    import yaml

    from pipelines.dbt_project import DBT_PROJECT_DIR

    # dbt-duckdb SETs each setting on every new cursor, also after a model has spilled; DuckDB
    # refuses that for temp_directory ("Cannot switch temporary directory after the current
    # one has been used"), which failed every later model of a run that spilled: it is a
    # config option (set when the file opens), never a setting.
    dev = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["unitcost"]["outputs"]
    settings = {k: v for k, v in dev["dev"]["settings"].items() if k != "memory_limit"}
    assert "temp_directory" not in settings
    warehouse = tmp_path / "w.duckdb"
    config = {"memory_limit": _SPILL_LIMIT, "threads": 2, "temp_directory": f"{warehouse}.tmp"}
    with duckdb.connect(str(warehouse), config=config) as con:
        con.execute(_SPILL_TABLE)
        con.execute(_SPILL_QUERY).fetchall()  # spills
        cursor = con.cursor()
        with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary"):
            cursor.execute(f"set temp_directory = '{warehouse}.tmp'")  # it did spill
        for key, value in settings.items():
            cursor.execute(f"set {key} = '{value}'")


@pytest.mark.slow
def test_dbt_connects_with_the_same_duckdb_settings(tmp_path, monkeypatch):
    import json

    from pipelines.dbt_project import DBT_EXECUTABLE, DBT_PROJECT_DIR

    monkeypatch.setenv("UNITCOST_DUCKDB_MEMORY_LIMIT", "3GB")  # one setting, both sides see it
    warehouse = tmp_path / "w.duckdb"
    query = "select " + ", ".join(f"current_setting('{n}') as {n}" for n in _SETTINGS)
    done = subprocess.run(
        [DBT_EXECUTABLE, "show", "--inline", query, "--output", "json", "--log-format", "json",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target")],
        env={**os.environ, "UNITCOST_DUCKDB": str(warehouse)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    shown = [
        json.loads(event["data"]["preview"])
        for event in map(json.loads, done.stdout.splitlines())
        if event["info"]["name"] == "ShowNode"
    ]
    expected = _expected_settings(warehouse)
    assert expected["memory_limit"] == "2.7 GiB"
    assert shown == [[expected]]


# 6. dbt start-up per step: no `dbt --version`, no adapter in this process, the window in dbt's
# environment only, and dbt's parse kept for the next invocation.


def test_dagster_dbt_still_has_the_private_members_the_dbt_resource_replaces():
    """pipelines/dbt_resource.py overrides two private members of dagster-dbt's
    DbtCliResource (no public option skips them). An upgrade that renames them, changes
    their kind or signature, or stops calling them from ``cli`` fails here instead of
    silently bringing back `dbt --version` and the in-process adapter on every step."""
    import inspect
    from functools import cached_property

    import dagster_dbt.core.resource
    from dagster_dbt import DbtCliResource

    from pipelines.dbt_resource import UnitcostDbtCliResource

    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    adapter = inspect.signature(DbtCliResource._initialize_dbt_core_adapter)
    assert list(adapter.parameters) == ["self", "args"]
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli
    assert "self._initialize_dbt_core_adapter(args)" in cli
    # `dbt --version` is run in that one place only
    assert inspect.getsource(dagster_dbt.core.resource).count('"--version"') == 1
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(UnitcostDbtCliResource)


def test_the_dbt_resource_starts_only_dbt_with_the_window_in_its_environment(tmp_path, monkeypatch):
    from pipelines.dbt_project import dbt_project
    from pipelines.dbt_resource import UnitcostDbtCliResource

    calls = tmp_path / "calls"
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(f'#!/bin/sh\necho "$* min=$UNITCOST_DBT_MIN_DATE" >> {calls}\n')
    fake_dbt.chmod(0o755)
    monkeypatch.delenv("UNITCOST_DBT_MIN_DATE", raising=False)
    dbt = UnitcostDbtCliResource(project_dir=dbt_project, dbt_executable=str(fake_dbt))
    window = {"UNITCOST_DBT_MIN_DATE": "2026-11-02"}
    dbt.cli(["build"], env=window, target_path=tmp_path / "target").wait()
    # one process, dbt itself: no `dbt --version` before it
    assert calls.read_text().splitlines() == [f"build --target {dbt_project.target} min=2026-11-02"]
    assert "UNITCOST_DBT_MIN_DATE" not in os.environ  # set for dbt only


def test_an_invocation_that_parsed_keeps_its_parse_for_the_next_ones(tmp_path, monkeypatch):
    from pipelines import dbt_project

    monkeypatch.setattr(dbt_project, "TARGET_DIR", tmp_path)
    monkeypatch.setattr(dbt_project, "LATEST_TARGETS_DIR", tmp_path / "latest")
    kept = tmp_path / "partial_parse.msgpack"

    first = dbt_project.new_target_path("dbt_daily_models", "0123456789abcdef")
    assert dbt_project._INVOCATION_DIR.match(first.name)  # swept if a killed run leaves it
    assert list(first.iterdir()) == []  # nothing kept yet: dbt parses the project
    (first / kept.name).write_bytes(b"parse of the project")
    dbt_project.retire_target(first, "dbt_daily_models")
    assert kept.read_bytes() == b"parse of the project"

    second = dbt_project.new_target_path("dbt_recommend_models", "0123456789abcdef")
    assert (second / kept.name).read_bytes() == b"parse of the project"  # dbt reuses it
    before = kept.stat().st_mtime_ns
    dbt_project.retire_target(second, "dbt_recommend_models")  # unchanged: not rewritten
    assert kept.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", kept.name]
