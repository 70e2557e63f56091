"""Crash safety (RELIABILITY.md case 37): `kill -9` of `unitcost run` at each step leaves the
previous state, dbt dies with the run, the re-run completes, and its tables equal those of a
run never interrupted.

One small fleet (two deployments on three GPUs, one day) is loaded three times:

- warehouse A by one uninterrupted `unitcost run`, in the background;
- warehouses B and C by chains of runs (B killed in the steps up to the daily dbt build, C in
  the later ones, side by side to use both cores), each run SIGKILLed (the parent only) once
  it is inside the next step: it must get past the step the previous run was killed in. A
  last, uninterrupted run completes, and every table of B and C must then equal A's.

Steps are seen starting in the run's own `-vv` log (Dagster's STEP_START lines; dbt steps
once dbt has created some models, so that dbt is killed mid-build). After each kill:
no process of the run is left (dbt dies through its launcher's PR_SET_PDEATHSIG), the
warehouse opens at once (no lock left), the published copy is untouched, the ledger
reconciles with the rows (no half entries), and every table is at its value before the run
or at its final value (A's): a transaction is committed whole or not at all. The tables of
the steps this run completed are at their final value, those of steps it never reached are
unchanged. Table hashes are compared once A is done. Each run waits 0 s for the warehouse
lock: a lock left by the killed run would fail the next one at once.

Hashes are of every base table's rows (order-free) and every view's SQL. Excluded as
run-dependent, nothing else (``RUN_DEPENDENT``): the wall clock of a write (``recorded_at`` in
``raw.ingest_ledger`` and ``raw.billing_deliveries``, ``generated_at`` in
``reports.weekly_report_history``), and ``ledger_seq`` plus the ``unchanged`` rows of
``raw.billing_deliveries``: each run appends one ``unchanged`` check row per delivery it finds
already loaded (case 1), so their number is the number of runs. ``raw.ingest_ledger`` and
``raw.source_files`` are hashed per source, as each source's rows belong to a different step.

The last test puts a kill at one exact point no timing can hit reliably: between a billing
delivery's commit and its ingest-ledger rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from pipelines.cli import main
from pipelines.fleet.spec import DEFAULT_SPEC_PATH
from pipelines.warehouse import analytics_path, connect, quote_identifier

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, PR_SET_PDEATHSIG"),
]

START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
UNITCOST = str(Path(sys.executable).parent / "unitcost")
RUN_TIMEOUT_S = 300
_STEP_START = re.compile(r'STEP_START - Started execution of step "([^"]+)"')
_STEP_SUCCESS = re.compile(r'STEP_SUCCESS - Finished execution of step "([^"]+)"')
_DBT_MODEL_DONE = re.compile(r"^\d+ of \d+ OK created ")
# Columns that differ between two runs on the same input, and rows only a re-run adds.
RUN_DEPENDENT = {
    "raw.ingest_ledger": ("recorded_at",),
    "raw.billing_deliveries": ("ledger_seq", "recorded_at"),
    "reports.weekly_report_history": ("generated_at",),
}
RERUN_ONLY_ROWS = {"raw.billing_deliveries": "status <> 'unchanged'"}
# Tables that several steps write, one source each: hashed per source (``name[source]``).
PER_SOURCE = ("raw.ingest_ledger", "raw.source_files")
# Which step writes each source's rows of the PER_SOURCE tables.
LEDGER_STEPS = {
    "billing": "billing_line_items",
    "requests": "request_log_tables",
    "telemetry": "telemetry_tables",
}


@dataclass(frozen=True)
class Kill:
    step: str  # Dagster step key, as in the STEP_START line
    dbt_models: int = 0  # dbt steps: kill once dbt has created this many models
    delay_s: float = 0.0  # then wait this long, to land inside the step's writes


# In execution order: each run of the chain is killed at the next one.
KILLS = [
    Kill("registry_tables"),  # snapshot inputs: three tables replaced one by one
    Kill("billing_line_items"),
    Kill("request_log_tables", delay_s=0.05),
    Kill("telemetry_tables", delay_s=0.2),
    Kill("dbt_models", dbt_models=5),  # dimensions and daily models, one dbt build
    Kill("recommend_tables", delay_s=0.1),
    Kill("dbt_recommend_models", dbt_models=1),
    Kill("weekly_report", delay_s=0.2),
]


@pytest.fixture(autouse=True)
def _stop_runs():
    yield
    while Run.started:
        Run.started.pop().stop()


def _small_spec(path: Path) -> Path:
    """The default spec cut to two deployments (the idle-oversized chat model and one
    classifier) and the unused instance: every step has rows, recommendations included."""
    spec = yaml.safe_load(DEFAULT_SPEC_PATH.read_text())
    deployments = {d["id"]: d for d in spec["deployments"]}
    chat, classify = deployments["chat-qwen7b"], deployments["classify-mistral7b"]
    classify["placement"] = classify["placement"][:1]
    spec["deployments"] = [chat, classify]
    unused = spec["planted"]["d"]["instance"]
    hosts = {p["host"] for d in spec["deployments"] for p in d["placement"]}
    spec["instances"] = [i for i in spec["instances"] if i["host"] in hosts or i["id"] == unused]
    spec["planted"] = {k: v for k, v in spec["planted"].items() if k in ("a", "d")}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


class Run:
    """`unitcost run -vv` in a child process, its output read line by line in a thread."""

    started: list[Run] = []  # stopped at teardown if a failure left one running

    def __init__(self, config: Path, duckdb_path: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "UNITCOST_LOCK_TIMEOUT_S": "0"}
        env.pop("UNITCOST_DUCKDB", None)
        window = ["--start", str(START), "--end", str(END)]
        self.duckdb_path = duckdb_path
        self.proc = subprocess.Popen(
            [UNITCOST, "run", "--config", str(config), *window, "-vv"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        Run.started.append(self)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.deadline = time.monotonic() + RUN_TIMEOUT_S

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def next_line(self) -> str | None:
        """The next output line; None once the run has exited and its output is read."""
        line = self._queue.get(timeout=max(self.deadline - time.monotonic(), 0.1))
        if line is not None:
            self.lines.append(line)
        return line

    def wait_for(self, kill: Kill) -> None:
        """Return once the run is inside ``kill.step``; fail if it ends first."""
        started, models = False, 0
        while (line := self.next_line()) is not None:
            found = _STEP_START.search(line)
            if found is not None and found.group(1) == kill.step:
                started = True
            elif started and _DBT_MODEL_DONE.match(line):
                models += 1
            if started and models >= kill.dbt_models:
                time.sleep(kill.delay_s)
                return
        pytest.fail(f"the run ended before step {kill.step}:\n{self.tail()}")

    def finish(self) -> int:
        while self.next_line() is not None:
            pass
        return self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # its dbt child dies with it
            self.proc.wait(timeout=10)

    def steps_succeeded(self) -> list[str]:
        return [m.group(1) for line in self.lines if (m := _STEP_SUCCESS.search(line))]

    def tail(self, n: int = 40) -> str:
        return "".join(self.lines[-n:])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(stat.parent.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        kids = tree.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie holds no lock and runs no code


def _processes_of(duckdb_path: Path) -> list[int]:
    """Live processes started with UNITCOST_DUCKDB = this warehouse: the run's dbt children
    inherit it from the run (which sets it after it started, so it is not in its own)."""
    wanted = f"UNITCOST_DUCKDB={duckdb_path}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if wanted in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return [pid for pid in found if _alive(pid)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _kill_and_reap(run: Run) -> list[int]:
    """SIGKILL the run's own process only; return its dbt children seen just before."""
    # dbt itself (`.../bin/dbt build ...`), not any process whose path happens to hold "dbt"
    dbt = [p for p in _descendants(run.proc.pid) if "/bin/dbt " in _cmdline(p)]
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [p for p in dbt if _alive(p)] + _processes_of(run.duckdb_path)
        if not left:
            break
        time.sleep(0.05)
    survivors = {p: _cmdline(p) for p in left}
    assert not survivors, f"processes of the killed run still alive after 5 s: {survivors}"
    run.finish()  # the pipe is closed now that nothing of the run is left
    return dbt


def _table_hashes(duckdb_path: Path) -> dict[str, str]:
    """Every base table's row count and order-free digest (see the module doc), and every
    view's definition."""
    if not duckdb_path.exists():
        return {}
    # lock_timeout=0: a lock left by the killed run (or its dbt) fails here at once
    with connect(duckdb_path, lock_timeout=0) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and not internal order by 1, 2"
        ).fetchall()
        hashes = {}
        for schema, table in tables:
            name = f"{schema}.{table}"
            relation = f"{quote_identifier(schema, validate=False)}."
            relation += quote_identifier(table, validate=False)
            columns = "*"
            if name in RUN_DEPENDENT:
                columns += f" exclude ({', '.join(RUN_DEPENDENT[name])})"
            query = f"select {columns} from {relation} where {RERUN_ONLY_ROWS.get(name, 'true')}"
            if name not in PER_SOURCE:
                hashes[name] = _digest(con, query)
                continue
            for (source,) in con.execute(f"select distinct source from {relation}").fetchall():
                hashes[f"{name}[{source}]"] = _digest(con, query + " and source = ?", [source])
        for name, sql in con.execute(
            "select schema_name || '.' || view_name, sql from duckdb_views() "
            "where database_name = current_database() and not internal"
        ).fetchall():
            hashes[name] = "view " + hashlib.sha256(sql.encode()).hexdigest()
    return hashes


def _digest(con, query: str, params: list | None = None) -> str:
    rows, digest = con.execute(
        f"with r as ({query}) select count(*), "
        "md5(coalesce(string_agg(h, '' order by h), '')) "
        "from (select md5(cast(r as varchar)) as h from r)",
        params or [],
    ).fetchone()
    return f"{rows} rows {digest}"


def _file_hash(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _ledger_reconciles(duckdb_path: Path) -> list[str]:
    """The blocking rows_accounted_for checks, on the window: the problems they would report."""
    import dagster as dg

    from pipelines.assets.quality import run_ledger_check

    window = dg.TimeWindow(
        dt.datetime.combine(START, dt.time(), dt.UTC), dt.datetime.combine(END, dt.time(), dt.UTC)
    )
    problems = []
    with connect(duckdb_path, read_only=True, lock_timeout=0) as con:
        for source in LEDGER_STEPS:
            result = run_ledger_check(con, source, window)
            if not result.passed and result.severity == dg.AssetCheckSeverity.ERROR:
                problems.append(f"{source}: {result.metadata}")
    return problems


def _tables_of_steps() -> dict[str, set[str]]:
    """Step key -> the tables and views its assets are (schema.name), plus its ledger rows."""
    from pipelines.definitions import defs

    owned: dict[str, set[str]] = {}
    for asset in defs.assets:
        tables = {".".join(key.path) for key in asset.keys if len(key.path) == 2}
        owned.setdefault(asset.op.name, set()).update(tables)
    for source, step in LEDGER_STEPS.items():
        owned.setdefault(step, set()).update(f"{t}[{source}]" for t in PER_SOURCE)
    return owned


@dataclass
class KillRecord:
    kill: Kill
    before: dict[str, str]
    after: dict[str, str]
    completed: list[str]  # steps that succeeded in this run before the kill
    dbt_children: list[int]
    seconds: float
    ledger_problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        changed = sum(self.after.get(t) != self.before.get(t) for t in self.after)
        dbt = f", dbt pid {self.dbt_children}" if self.dbt_children else ""
        return f"{self.kill.step} ({self.seconds:.0f} s, {changed} tables changed{dbt})"


@dataclass
class Chain:
    """One warehouse loaded by runs killed at ``kills`` in turn, then a run left to finish."""

    warehouse: Path
    kills: list[Kill]
    records: list[KillRecord] = field(default_factory=list)
    final_s: float = 0.0

    def run(self, config: Path) -> Chain:
        published = analytics_path(self.warehouse)
        previous: Kill | None = None
        for kill in self.kills:
            before, copy_before = _table_hashes(self.warehouse), _file_hash(published)
            started = time.monotonic()
            run = Run(config, self.warehouse)
            run.wait_for(kill)
            dbt = _kill_and_reap(run)
            completed = run.steps_succeeded()
            if previous is not None:
                assert previous.step in completed, f"the re-run did not get past {previous.step}"
            assert kill.step not in completed, f"killed after {kill.step} had finished"
            if kill.dbt_models:
                assert dbt, f"no dbt child was running when {kill.step} was killed"
            after = _table_hashes(self.warehouse)  # opens at once: no lock left behind
            assert _file_hash(published) == copy_before, "the published copy changed"
            problems = _ledger_reconciles(self.warehouse) if self.warehouse.exists() else []
            seconds = time.monotonic() - started
            self.records.append(KillRecord(kill, before, after, completed, dbt, seconds, problems))
            previous = kill
        started = time.monotonic()
        final = Run(config, self.warehouse)
        assert final.finish() == 0, final.tail()
        assert previous.step in final.steps_succeeded()
        assert _file_hash(published) is not None
        self.final_s = time.monotonic() - started
        return self


def _configs(fleet: Path, names: list[str]) -> dict[str, Path]:
    """One unitcost.yaml per warehouse ``<name>/unitcost.duckdb``, all on the same input."""
    text = (fleet / "unitcost.yaml").read_text()
    configs = {}
    for name in names:
        configs[name] = fleet / f"unitcost_{name}.yaml"
        configs[name].write_text(text.replace("duckdb_path: ", f"duckdb_path: {name}/", 1))
    return configs


def test_sigkill_at_each_step_leaves_the_previous_state_and_the_rerun_equals_a_clean_run(
    tmp_path, dbt_manifest
):
    started = time.monotonic()
    fleet = tmp_path / "fleet"
    spec = _small_spec(tmp_path / "small_spec.yaml")
    sim = ["simulate", "--out", str(fleet), "--spec", str(spec), "--days", "1"]
    assert main([*sim, "--start", str(START), "--scale", "0.05", "--seed", "7"]) == 0
    configs = _configs(fleet, ["a", "b", "c"])
    warehouse = {name: fleet.resolve() / name / "unitcost.duckdb" for name in configs}

    # A, uninterrupted, in the background; the chains start once it is past dbt's parse.
    clean = Run(configs["a"], warehouse["a"])
    while (line := clean.next_line()) is not None and not _STEP_START.search(line):
        pass
    # Two chains side by side (B: the steps up to the daily dbt build, C: the later ones, which
    # each cost nearly a whole run to reach): a run is mostly one busy core.
    chains = {"b": Chain(warehouse["b"], KILLS[:5]), "c": Chain(warehouse["c"], KILLS[5:])}
    with ThreadPoolExecutor(len(chains)) as pool:
        futures = [pool.submit(chain.run, configs[name]) for name, chain in chains.items()]
        for future in futures:
            future.result()
    assert clean.finish() == 0, clean.tail()
    for name, chain in chains.items():
        kills = "; ".join(r.summary() for r in chain.records)
        print(f"\n{name}: killed in {kills}; final re-run {chain.final_s:.0f} s")
    print(f"test {time.monotonic() - started:.0f} s")

    expected = _table_hashes(warehouse["a"])
    for table in ("raw.inference_requests", "raw.billing_line_items", "raw.dcgm_samples"):
        assert not expected[table].startswith("0 rows"), f"{table} is empty: no real work"
    assert not expected["marts.fct_recommendations"].startswith("0 rows")
    owned = _tables_of_steps()
    for name, chain in chains.items():
        assert _table_hashes(chain.warehouse) == expected, f"{name} differs from a clean run"
        for csv in sorted((warehouse["a"].parent / "reports").glob("*.csv")):
            assert _file_hash(chain.warehouse.parent / "reports" / csv.name) == _file_hash(csv)
        for record in chain.records:
            _assert_previous_state(record, expected, owned)


def _assert_previous_state(
    record: KillRecord, final: dict[str, str], owned: dict[str, set[str]]
) -> None:
    where = f"killed in {record.kill.step}"
    assert not record.ledger_problems, f"{where}: ledger and rows disagree {record.ledger_problems}"
    names = set(record.before) | set(record.after)
    # Nothing half-written: each table is as it was or as the run completes it.
    half = {
        t: (record.before.get(t), record.after.get(t), final.get(t))
        for t in names
        if record.after.get(t) not in (record.before.get(t), final.get(t))
    }
    assert not half, f"{where}: tables neither previous nor final: {half}"
    done = set().union(*(owned.get(s, set()) for s in record.completed))
    not_final = {t for t in done if t in final and record.after.get(t) != final[t]}
    assert not not_final, f"{where}: tables of completed steps not final: {not_final}"
    reached = set(record.completed) | {record.kill.step}
    untouched = set().union(*(v for s, v in owned.items() if s not in reached)) - done
    changed = {t for t in untouched & names if record.after.get(t) != record.before.get(t)}
    assert not changed, f"{where}: tables of steps never started changed: {changed}"


class _Killed(BaseException):
    """Stands in for SIGKILL at one exact point: nothing after it runs, what was committed stays."""


def test_a_kill_before_a_billing_delivery_commits_leaves_neither_rows_nor_ledger(
    tmp_path, monkeypatch
):
    """Billing writes its delivery and its raw.ingest_ledger rows in one transaction: a kill
    inside it leaves neither (it used to commit the delivery first, so a kill between the
    two left it loaded and unledgered, the re-run skipped it as unchanged, and
    rows_accounted_for failed on every later run). The re-run loads it, ledger balanced."""
    from pipelines.config import load_settings
    from pipelines.ingest.billing import commit, load
    from pipelines.quality.ledger import ledger_report

    fleet = tmp_path / "fleet"
    spec = _small_spec(tmp_path / "small_spec.yaml")
    sim = ["simulate", "--out", str(fleet), "--spec", str(spec), "--days", "1"]
    assert main([*sim, "--start", str(START), "--seed", "7"]) == 0
    settings = load_settings(fleet / "unitcost.yaml")
    entry = settings.sources["billing"]
    source = load.BillingSource("billing", settings.source_location("billing"), entry.format)
    period = START.replace(day=1)

    def killed(*args, **kwargs):
        raise _Killed

    with connect(tmp_path / "w.duckdb") as con, monkeypatch.context() as patch:
        patch.setattr(commit, "write_ingest", killed)  # dies just before the commit
        with pytest.raises(_Killed):
            load.ingest_billing(con, source, {period})
    with connect(tmp_path / "w.duckdb") as con:  # the process died: nothing committed
        assert con.execute("select count(*) from raw.billing_line_items").fetchone() == (0,)
        assert con.execute("select count(*) from raw.ingest_ledger").fetchone() == (0,)
    with connect(tmp_path / "w.duckdb") as con:  # the re-run
        load.ingest_billing(con, source, {period})
        report = ledger_report(con, "billing", [period])
        stored = con.execute("select count(*) from raw.billing_line_items").fetchone()[0]
    assert stored > 0
    assert report.days_not_recorded == [], "rows of a loaded delivery with no ledger rows"
