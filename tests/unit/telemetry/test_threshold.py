"""The day's quarantine threshold (issue 12): by count and fraction, a conflicting duplicate
counted once, and an error that says why the day failed (RELIABILITY.md rule 2, case 23)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import read_day
from pipelines.ingest.telemetry.samples import STORED_QUARANTINE_COLUMNS

DAY = dt.date(2026, 11, 1)
TS_MS = 1793527200000  # 2026-11-01T10:00:00Z
LABELS = 'gpu="0",UUID="GPU-a",Hostname="node-a",modelName="NVIDIA L4"'


def _scrapes(path: Path, values: list[float]) -> Path:
    """One GPU_UTIL sample a minute, one line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"DCGM_FI_DEV_GPU_UTIL{{{LABELS}}} {v} {TS_MS + 60_000 * i}\n" for i, v in enumerate(values)
    ]
    path.write_text("".join(lines))
    return path


def _day(folder: Path):
    return read_day(list_files(folder), DAY)


def test_three_bad_samples_of_seventeen_are_quarantined_not_a_failed_day(tmp_path):
    # Before: 3 > 1 % of 17 failed the whole day.
    _scrapes(tmp_path / "t" / "small.prom", [40.0] * 14 + [250.0] * 3)
    day = _day(tmp_path / "t")
    assert day.input_samples == 17
    assert day.quarantine.height == 3 and day.dcgm.height == 14
    assert day.quarantine.columns == STORED_QUARANTINE_COLUMNS  # the helper key is not stored


def test_one_conflicting_ha_key_counts_once_and_both_copies_are_quarantined(tmp_path):
    # An HA pair: 23 samples each, one timestamp with differing values. Before: 2 of 46
    # quarantine rows counted as 2 bad samples (4.3 %), failing the day.
    values = [40.0] * 23
    _scrapes(tmp_path / "t" / "prom-a.prom", values)
    _scrapes(tmp_path / "t" / "prom-b.prom", values[:22] + [41.0])
    day = _day(tmp_path / "t")
    assert day.input_samples == 46
    assert sorted(day.quarantine["source_file"].str.split("/").list.last()) == [
        "prom-a.prom",
        "prom-b.prom",
    ]
    assert day.dcgm.height == 22  # 22 agreeing minutes kept once; the conflicting one lost


def test_bad_samples_counts_a_conflicting_pair_once(tmp_path):
    a = _scrapes(tmp_path / "a.prom", [40.0, 40.0, 250.0])
    _scrapes(tmp_path / "b.prom", [40.0, 41.0])
    day = _day(tmp_path)
    assert day.quarantine.height == 3  # the 250 % and both copies of minute 1
    assert day.bad_by_file == [(str(a), 2)]


def test_a_day_over_count_and_fraction_fails_saying_why(tmp_path):
    _scrapes(tmp_path / "t" / "ok.prom", [40.0] * 600)
    bad = _scrapes(tmp_path / "t" / "broken.prom", [40.0] * 5 + [-1.0] * 25)
    with pytest.raises(SourceError) as err:
        _day(tmp_path / "t")
    assert (err.value.file, err.value.line) == (str(bad), 6)
    message = str(err.value)
    assert "25 of 630 telemetry samples on 2026-11-01 are bad (3.97%)" in message
    assert "over the limit max(20 samples, 1% of 630) = 20" in message
    assert "25 of them in this file (of 1 file(s))" in message
    assert "first: DCGM_FI_DEV_GPU_UTIL: value -1.0 is below 0.0" in message
