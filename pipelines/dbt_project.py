"""The dbt project (at the repository root) as Dagster sees it.

Importing this module never runs dbt: callers that need the manifest call ``prepare_dbt()``
first (``unitcost run`` and the tests), while ``dagster dev`` parses through ``prepare_if_dev``.

dbt's parse is reused across invocations: every invocation's folder starts with the last parse
kept in ``target/partial_parse.msgpack`` (``new_target_path``), and an invocation that had to
re-parse keeps its own there when it ends (``retire_target``). dbt re-parses only what changed,
or everything when its profile did (``profiles.yml``'s values, the warehouse path among them:
dbt hashes them), so a second run on the same warehouse skips parsing whatever its window.
"""

from __future__ import annotations

import contextlib
import filecmp
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent
REAL_DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=os.environ.get("UNITCOST_DBT_TARGET", "dev"),
)
TARGET_DIR = DBT_PROJECT_DIR / dbt_project.target_path
# The last target folder of each dbt asset (run_results.json, compiled SQL, dbt.log) is kept
# here for debugging; dagster-dbt's per-invocation folders are moved here when dbt ends.
LATEST_TARGETS_DIR = TARGET_DIR / "latest"
# dagster-dbt's per-invocation folder name: <op name>-<run id[:7]>-<uuid[:7]>.
_INVOCATION_DIR = re.compile(r"^dbt_\w+-[0-9a-f]{7}-[0-9a-f]{7}$")
STALE_TARGET_AGE_S = 24 * 3600
PARTIAL_PARSE_FILE = "partial_parse.msgpack"

# dagster-dbt starts dbt with a plain Popen (no preexec_fn), so dbt would outlive a `kill -9`
# of the run and keep DuckDB's write lock. dbt is started through this launcher instead: it
# asks Linux to SIGKILL it when its parent dies (prctl PR_SET_PDEATHSIG, kept across execv),
# then becomes dbt. Killing dbt mid-transaction is safe: DuckDB rolls it back (RELIABILITY.md
# §3 "Crash").
_LAUNCHER = """#!{python}
# Written by pipelines/dbt_project.py; do not edit. Runs {executable}
# so that it dies with the process that started it (prctl PR_SET_PDEATHSIG).
import ctypes
import os
import signal
import sys

parent = os.getppid()
if sys.platform.startswith("linux"):
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before prctl: nobody would kill us later
        sys.exit(1)
os.execv({executable!r}, [{executable!r}, *sys.argv[1:]])
"""


def write_launcher(path: Path, executable: str) -> Path:
    """Write (if changed) an executable that runs ``executable`` tied to its parent's life."""
    text = _LAUNCHER.format(python=sys.executable, executable=executable)
    if path.exists() and path.read_text() == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Other processes (parallel runs, tests) may be starting dbt through it: replace atomically.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


# Written at import: DbtCliResource checks its executable exists when it is constructed.
DBT_EXECUTABLE = str(write_launcher(TARGET_DIR / "bin" / "dbt", REAL_DBT_EXECUTABLE))


def new_target_path(name: str, run_id: str) -> Path:
    """A fresh folder for one dbt invocation (dagster-dbt's naming), holding the kept parse."""
    path = TARGET_DIR / f"{name}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"
    path.mkdir(parents=True)
    kept = TARGET_DIR / PARTIAL_PARSE_FILE
    if kept.is_file():
        shutil.copyfile(kept, path / PARTIAL_PARSE_FILE)
    return path


def _keep_partial_parse(target_path: Path) -> None:
    """Keep a finished invocation's parse for the next ones if dbt had to re-parse."""
    parsed, kept = target_path / PARTIAL_PARSE_FILE, TARGET_DIR / PARTIAL_PARSE_FILE
    if not parsed.is_file() or (kept.is_file() and filecmp.cmp(parsed, kept, shallow=False)):
        return
    # Concurrent runs copy it as it is replaced: rename a complete copy over it.
    fd, tmp = tempfile.mkstemp(dir=TARGET_DIR, prefix=f".{PARTIAL_PARSE_FILE}.")
    os.close(fd)
    try:
        shutil.copyfile(parsed, tmp)
        os.replace(tmp, kept)
    finally:
        Path(tmp).unlink(missing_ok=True)


def retire_target(target_path: Path, name: str) -> None:
    """Keep a finished dbt invocation's parse (if new), then move its target folder to
    ``target/latest/<name>``.

    Every invocation gets a fresh folder (~7 MB for the daily models) that nothing removes;
    keeping only the latest per asset bounds ``target/``. Cleanup never fails a run.
    """
    target_path = Path(target_path)
    if not target_path.is_dir():
        return
    with contextlib.suppress(OSError):  # then the next invocation parses: slower, never wrong
        _keep_partial_parse(target_path)
    dest = LATEST_TARGETS_DIR / name
    try:
        LATEST_TARGETS_DIR.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            # Rename first so that a concurrent reader never sees a half-deleted folder.
            old = dest.with_name(f".{name}.old-{os.getpid()}-{time.monotonic_ns()}")
            dest.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        target_path.rename(dest)
    except OSError:
        # Another run retired the same asset at the same moment: its folder is as good.
        shutil.rmtree(target_path, ignore_errors=True)


def sweep_stale_targets(max_age_s: float = STALE_TARGET_AGE_S) -> int:
    """Remove per-invocation folders untouched for ``max_age_s`` (left by killed runs)."""
    removed = 0
    if not TARGET_DIR.is_dir():
        return removed
    cutoff = time.time() - max_age_s
    for folder in TARGET_DIR.iterdir():
        # Only old ones: a folder in use by a concurrent run is younger than a day.
        if _INVOCATION_DIR.match(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _manifest_is_fresh() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "data-tests"):
        sources += (DBT_PROJECT_DIR / folder).rglob("*")
    return manifest.stat().st_mtime >= max(p.stat().st_mtime for p in sources if p.is_file())


def prepare_dbt() -> Path:
    """Run ``dbt parse`` unless the manifest is newer than every dbt file; returns its path."""
    if _manifest_is_fresh():
        return dbt_project.manifest_path
    from pipelines.dbt_resource import dbt_cli_resource  # it imports this module

    # DbtProject's own preparer looks for `dbt` on PATH, which a venv run without activation lacks.
    dbt_cli_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path
