"""RELIABILITY case 2 end to end: a period whose manifest is missing FAILs, its last good
version (here: none) stays, and the billing freshness check goes red for its days while the
period that loaded stays green."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from pipelines.assets.freshness import run_freshness_check
from pipelines.config import SourceConfig
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

LATER = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)


class _Settings:
    def __init__(self, location):
        freshness = {"expected_by": "09:00", "on_missing": "fail"}
        self.sources = {"billing": SourceConfig(location=str(location), freshness=freshness)}


def _window(day: dt.date) -> dg.TimeWindow:
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return dg.TimeWindow(start, start + dt.timedelta(days=1))


def test_a_missing_manifest_turns_freshness_red_for_that_period_only(con, bill):
    out, _ = bill
    export = out / "cur2" / "unitcost-cur2"
    (export / "metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json").unlink()
    with pytest.raises(SourceError, match="data files without a manifest"):
        ingest_billing(con, BillingSource("billing", out / "cur2", "cur2"))

    settings = _Settings(out / "cur2")
    october = run_freshness_check(con, "billing", settings, _window(dt.date(2026, 10, 31)), LATER)
    november = run_freshness_check(con, "billing", settings, _window(dt.date(2026, 11, 1)), LATER)
    assert october.passed
    assert not november.passed and november.severity == dg.AssetCheckSeverity.ERROR
    assert november.metadata["days_missing"].value == ["2026-11-01"]
