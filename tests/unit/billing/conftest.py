"""Billing test helpers: an in-memory UTC DuckDB and a tiny simulated bill (two periods)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sim_bill(tmp_path_factory) -> tuple[Path, dict]:
    """Simulated exports for 2026-10-31 and 2026-11-01 (periods 2026-10 and 2026-11)."""
    from pipelines.fleet.formats.billing import write_exports
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 10, 31), 2, 0.05, 42)
    out = tmp_path_factory.mktemp("bill") / "billing"
    return out, write_exports(plan, out)


@pytest.fixture
def bill(sim_bill, tmp_path) -> tuple[Path, dict]:
    """A private copy of the simulated exports, safe to damage."""
    out = tmp_path / "billing"
    shutil.copytree(sim_bill[0], out)
    return out, sim_bill[1]


class FocusFile:
    """Hand-made FOCUS CSVs: the real sample's header and first row (2024-09, USD), with the
    values a test sets; rows written by ``csv`` so equal rows are byte-identical."""

    def __init__(self):
        sample = FIXTURES / "focus_1.0_sample_1000.csv.gz"
        rows = list(csv.reader(io.StringIO(gzip.decompress(sample.read_bytes()).decode())))
        self.header, self._base = rows[0], dict(zip(rows[0], rows[1], strict=True))

    def csv(self, rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
        header = header or self.header
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            values = {**self._base, **row}
            writer.writerow([values.get(name, "") for name in header])
        return out.getvalue().encode()

    def write(self, path: Path, rows: list[dict[str, str]], header: list[str] | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.csv(rows, header))
        return path


@pytest.fixture(scope="session")
def focus_file() -> FocusFile:
    return FocusFile()
