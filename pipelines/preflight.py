"""Pre-flight disk check for ``unitcost run`` (RELIABILITY.md case 36): before anything is
written, the warehouse's filesystem must hold twice the input the run will read, plus room
for the analysts' copy that a successful run publishes.

The estimate, in bytes: ``2 × input + warehouse``, where

- *input* is the size of the local source files the window can read: files whose path names
  a day in ``[start, end]`` (``date=YYYY-MM-DD`` folders, dated log names, scrape files
  stamped ``YYYYMMDDTHHMMSSZ``; ``end`` because request logs dated the day after hold the
  last day's late completions) and every file that names no day (billing exports, which
  are per month, and undated logs). S3 sources are not listed here:
  their objects are downloaded to a temporary folder, not to the warehouse's filesystem, and
  listing them would need credentials before the run's own checks;
- *warehouse* is the current size of the DuckDB file and its WAL: publishing writes a full
  copy beside the old one before swapping it in (``warehouse.publish_analytics_copy``).

DuckDB's spill folder (``<db>.tmp``) is on the same filesystem; the factor 2 leaves it room.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import Settings
from pipelines.warehouse import analytics_path

FREE_SPACE_FACTOR = 2
_ISO_DAY = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
_STAMP_DAY = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})T\d{6}Z")


class DiskSpaceError(RuntimeError):
    """The warehouse's filesystem has less free space than the run needs."""


@dataclass(frozen=True)
class DiskNeed:
    folder: Path  # the existing folder whose filesystem holds the warehouse
    free_bytes: int
    input_bytes: int
    input_files: int
    warehouse_bytes: int

    @property
    def needed_bytes(self) -> int:
        return FREE_SPACE_FACTOR * self.input_bytes + self.warehouse_bytes

    @property
    def enough(self) -> bool:
        return self.free_bytes >= self.needed_bytes


def _day_in_path(relative_path: str) -> dt.date | None:
    try:
        if found := _ISO_DAY.findall(relative_path):
            return dt.date.fromisoformat(found[-1])
        if found := _STAMP_DAY.findall(relative_path):
            return dt.date(*(int(x) for x in found[-1]))
    except ValueError:
        return None
    return None


def input_files(settings: Settings, start: dt.date, end: dt.date) -> list[Path]:
    """The local source files a run over ``[start, end)`` may read (see the module doc)."""
    found = []
    for name in sorted(settings.sources):
        location = settings.source_location(name)
        if not isinstance(location, Path) or not location.is_dir():
            continue  # S3, or a missing folder: the ingest itself names that error
        for path in sorted(p for p in location.rglob("*") if p.is_file()):
            day = _day_in_path(path.relative_to(location).as_posix())
            if day is None or start <= day <= end:
                found.append(path)
    return found


def _existing_folder(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def disk_need(settings: Settings, start: dt.date, end: dt.date) -> DiskNeed:
    """Free space on the warehouse's filesystem against what the run needs."""
    files = input_files(settings, start, end)
    db = settings.duckdb_path
    warehouse = [db, db.with_name(db.name + ".wal")]
    folder = _existing_folder(db)
    return DiskNeed(
        folder=folder,
        free_bytes=shutil.disk_usage(folder).free,
        input_bytes=sum(p.stat().st_size for p in files),
        input_files=len(files),
        warehouse_bytes=sum(p.stat().st_size for p in warehouse if p.exists()),
    )


def check_disk_space(settings: Settings, start: dt.date, end: dt.date) -> DiskNeed:
    """Raise :class:`DiskSpaceError` naming the folder, its free bytes and the need."""
    need = disk_need(settings, start, end)
    if not need.enough:
        raise DiskSpaceError(
            f"not enough free disk space: {need.folder} has {need.free_bytes:,} bytes free, "
            f"the run needs {need.needed_bytes:,} ({FREE_SPACE_FACTOR} x {need.input_bytes:,} "
            f"bytes of input in {need.input_files} file(s) for [{start}, {end}), plus "
            f"{need.warehouse_bytes:,} bytes for the analysts' copy "
            f"{analytics_path(settings.duckdb_path).name}). Free some space, or skip this "
            "check with --no-disk-check."
        )
    return need
