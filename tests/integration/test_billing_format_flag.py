"""``unitcost simulate --billing-format``: each format's unitcost.yaml reads that export, and
ingesting it gives the simulator's billed and effective totals to the cent."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import load_settings
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from tests.unit.billing.test_simulated_export_schemas import FOCUS_13_NEW

CENT = Decimal("0.01")
# --billing-format -> (folder the yaml points at, its source format)
EXPECTED = {
    "cur1": ("billing/cur1", "cur1"),
    "cur2": ("billing/cur2", "cur2"),
    "focus-1.2": ("billing/focus", "focus"),
    "focus-1.3": ("billing/focus-1.3", "focus"),
}


@pytest.mark.parametrize("billing_format", sorted(EXPECTED))
def test_simulate_billing_format_writes_a_yaml_that_reads_it(tmp_path, billing_format):
    out = tmp_path / "fleet"
    args = ["simulate", "--out", str(out), "--days", "1", "--start", "2026-11-01",
            "--scale", "0.05", "--billing-format", billing_format]  # fmt: skip
    assert main(args) == 0
    settings = load_settings(out / "unitcost.yaml")
    entry = settings.sources["billing"]
    assert (entry.location, entry.format) == EXPECTED[billing_format]
    location = settings.source_location("billing")
    if billing_format == "focus-1.3":
        files = sorted(location.glob("*/data/*/*.csv.gz"))
        assert files
        for path in files:
            header = next(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
            assert set(header) >= FOCUS_13_NEW
    truth = json.loads((out / "ground_truth.json").read_text())["billing"]["periods"]
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    ingest_billing(con, BillingSource("billing", location, entry.format))
    got = con.execute(
        "select sum(billed_cost), sum(effective_cost) from raw.billing_line_items"
    ).fetchone()
    want = [
        sum(Decimal(p["USD"][k]) for p in truth.values()) for k in ("billed_usd", "effective_usd")
    ]
    assert [v.quantize(CENT) for v in got] == [w.quantize(CENT) for w in want]
    con.close()
