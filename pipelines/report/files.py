"""Where reports land and what their files are called (no plotly or jinja: the CLI imports it)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

REPORTS_DIR_ENV = "UNITCOST_REPORTS_DIR"


def reports_dir(duckdb_path: str | Path) -> Path:
    """``$UNITCOST_REPORTS_DIR``, else ``reports/`` beside the DuckDB file (``var/reports/``)."""
    configured = os.environ.get(REPORTS_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(duckdb_path).resolve().parent / "reports"


@dataclass(frozen=True)
class ReportFiles:
    """The three files of the report for the week ending on ``last_day``, in ``folder``."""

    folder: Path
    last_day: dt.date

    @property
    def html(self) -> Path:
        return self.folder / f"weekly_rightsizing_{self.last_day.isoformat()}.html"

    @property
    def recommendations_csv(self) -> Path:
        return self.folder / f"recommendations_{self.last_day.isoformat()}.csv"

    @property
    def deployments_csv(self) -> Path:
        return self.folder / f"deployments_{self.last_day.isoformat()}.csv"
