"""`unitcost backfill`: a long range of days in chunks, behind a progress bar.

Each chunk is one `unitcost run` (``runner.run``: the snapshot job, then the daily job over
the chunk's days in one run), so a failure stops the backfill with every earlier chunk built
and recorded, and re-running the same command rebuilds identical tables. Chunks of a week
keep dbt's per-run start-up (two invocations) small beside the work, and show progress at a
useful grain.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from pipelines.runner import RunResult, run

DEFAULT_CHUNK_DAYS = 7


def chunks(start: dt.date, end: dt.date, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """[start, end) cut into consecutive half-open windows of at most ``days`` days."""
    if days < 1:
        raise ValueError(f"a chunk is at least one day, not {days}")
    while start < end:
        stop = min(start + dt.timedelta(days=days), end)
        yield start, stop
        start = stop


def backfill(
    config_path: str | Path,
    start: dt.date,
    end: dt.date,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
    *,
    disk_check: bool = True,
    stream: TextIO = sys.stderr,
) -> list[RunResult]:
    """Run ``[start, end)`` chunk by chunk; the bar counts days, a line per chunk says what
    it built and how long it took."""
    results: list[RunResult] = []
    with tqdm(
        total=(end - start).days, unit="day", desc="backfill", file=stream, dynamic_ncols=True
    ) as bar:
        for first, stop in chunks(start, end, chunk_days):
            began = time.monotonic()
            result = run(config_path, first, stop, disk_check=disk_check, step_lines=False)
            last = stop - dt.timedelta(days=1)
            bar.write(
                f"{first}..{last}: {result.steps_succeeded} steps in "
                f"{time.monotonic() - began:.0f} s",
                file=stream,
            )
            bar.update((stop - first).days)
            results.append(result)
    return results
