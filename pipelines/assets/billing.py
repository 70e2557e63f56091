"""Billing assets: exports (FOCUS / CUR 2.0) into raw.billing_line_items, and the instance types.

Daily-partitioned for scheduling, but the unit of replacement is the billing period: a run
over [start, end) (re)ingests every period overlapping it; the ledger makes an unchanged
delivery a no-op, so the daily schedule re-checking this and last month is cheap.
"""

import datetime as dt

import dagster as dg

from pipelines.costmodel.prices import INSTANCE_PRICES_PATH
from pipelines.ingest.billing.currency import rates_frame
from pipelines.ingest.billing.gpu_catalog import CATALOG_PATH, unknown_gpu_like_lines
from pipelines.ingest.billing.gpu_catalog import instance_types as gpu_instance_types
from pipelines.ingest.billing.load import BillingSource, ensure_tables, ingest_billing
from pipelines.partitions import daily_partitions
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import replace_table

OWNERS = ["team:unitcost"]
LINE_ITEMS = dg.AssetKey(["raw", "billing_line_items"])
DELIVERIES = dg.AssetKey(["raw", "billing_deliveries"])
FX_RATES = dg.AssetKey(["raw", "fx_rates_usd"])


class BillingSourceConfig(dg.Config):
    """Overrides of unitcost.yaml's ``sources.billing`` and ``s3`` (e.g. from the launchpad);
    credentials are never configured: boto3's default chain finds them."""

    location: str | None = None  # local folder or s3://bucket/prefix
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


def periods_overlapping(start: dt.datetime, end: dt.datetime) -> set[dt.date]:
    """First days of the months that [start, end) touches."""
    month, last = start.date().replace(day=1), (end - dt.timedelta(microseconds=1)).date()
    found = set()
    while month <= last:
        found.add(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return found


def periods_to_ingest(start: dt.datetime, end: dt.datetime) -> set[dt.date]:
    """The window's periods and the month before: a closed period is still restated for about
    two weeks (credits, refunds, support fees: RELIABILITY.md case 4), and allocation rebuilds
    the same months (macros/allocation.sql), so a restatement is re-allocated the next day."""
    previous = (start.date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return periods_overlapping(start, end) | {previous}


def _source(config: BillingSourceConfig, unitcost: UnitcostConfigResource):
    settings = unitcost.settings()
    entry = settings.sources.get("billing")
    if entry is None and config.location is None:
        return None
    location = config.location or settings.source_location("billing")
    fmt = (entry.format if entry else None) or "cur2"
    overrides = {k: v for k, v in config.model_dump().items() if k != "location" and v}
    s3 = settings.s3.model_copy(update=overrides)
    return BillingSource("billing", location, fmt, s3, settings.billing.fx_rates_usd)


def _totals_check(con, delivery_ids: list[str]) -> dg.AssetCheckResult:
    """In = out: each delivery's ledger totals (from the files) equal the table's sums."""
    rows = con.execute(
        "with led as (select delivery_id, billing_period, billing_currency, billed_cost_total, "
        "effective_cost_total from raw.billing_deliveries where list_contains(?, delivery_id) "
        "and status <> 'unchanged' and billing_currency is not null), "
        "tab as (select delivery_id, billing_period, billing_currency, sum(billed_cost) b, "
        "sum(effective_cost) e from raw.billing_line_items group by all) "
        "select led.delivery_id, led.billing_period, led.billing_currency from led left join tab "
        "using (delivery_id, billing_period, billing_currency) "
        "where tab.b is distinct from led.billed_cost_total "
        "or tab.e is distinct from led.effective_cost_total",
        [delivery_ids],
    ).fetchall()
    return dg.AssetCheckResult(
        check_name="delivery_totals_in_equal_out",
        asset_key=LINE_ITEMS,
        passed=not rows,
        metadata={"deliveries_checked": len(delivery_ids), "mismatches": str(rows[:10])},
    )


def _unknown_gpu_check(con, periods: set[dt.date]) -> dg.AssetCheckResult:
    """WARN: usage lines that look like GPU compute (GPU-like or unknown instance family)
    but whose type the GPU catalog does not know: allocation treats them as non-GPU usage,
    so their dollars land in unallocated instead of a deployment's GPU-hours."""
    rows = unknown_gpu_like_lines(con, sorted(periods))
    dollars: dict = {}
    for _, _, currency, _, billed, _ in rows:
        dollars[currency] = dollars.get(currency, 0) + billed  # never across currencies
    return dg.AssetCheckResult(
        check_name="gpu_like_lines_with_unknown_instance_type",
        asset_key=LINE_ITEMS,
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "billed_cost_by_currency": {c: str(v) for c, v in dollars.items()},  # exact
            "instance_types": len(rows),
            "lines": sum(r[3] for r in rows),
            "top": [
                f"{t} ({kind}): {n} lines, {billed} {cur}"
                for t, kind, cur, n, billed, _ in rows[:20]
            ],
            "catalog": CATALOG_PATH.name,
        },
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            LINE_ITEMS,
            description="One row per delivered billing line item (FOCUS or CUR 2.0), money exact.",
            group_name="billing",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            DELIVERIES,
            description="One row per billing delivery check per currency: hashes, totals, delta.",
            group_name="billing",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            FX_RATES,
            description="One row per configured exchange rate to USD (unitcost.yaml "
            "billing.fx_rates_usd), valid from its date to the next one's.",
            group_name="billing",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec("delivery_totals_in_equal_out", asset=LINE_ITEMS, blocking=True),
        dg.AssetCheckSpec(
            "gpu_like_lines_with_unknown_instance_type",
            asset=LINE_ITEMS,
            description="Usage lines that look like GPU compute but whose instance type the "
            "GPU catalog does not know (WARN, with their dollars).",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def billing_line_items(
    context: dg.AssetExecutionContext,
    config: BillingSourceConfig,
    unitcost: UnitcostConfigResource,
    duckdb: WarehouseResource,
):
    """Ingest every billing period overlapping the run's window; replace restated periods."""
    window = context.partition_time_window
    periods = periods_to_ingest(window.start, window.end)
    source = _source(config, unitcost)
    fx_rates = rates_frame(unitcost.settings().billing.fx_rates_usd)
    with duckdb.get_connection() as con:
        ensure_tables(con)  # downstream dbt views need the tables even with no source
        # the rates the bills are checked against at ingest are the ones dbt converts with
        replace_table(con, "raw", "fx_rates_usd", fx_rates)
        result = ingest_billing(con, source, periods) if source else None
        deliveries = result.deliveries if result else []
        ids = [d.delivery_id for d in deliveries]
        check = _totals_check(con, ids)
        unknown_gpus = _unknown_gpu_check(con, periods)
    meta = {
        "periods": sorted(p.isoformat() for p in periods),
        "deliveries": [f"{d.billing_source} {d.periods} {d.status}" for d in deliveries],
        "ignored_files": len(result.ignored_files) if result else 0,
        "warnings": [w for d in deliveries for w in d.warnings][:20],
    }
    rows = sum(d.row_count for d in deliveries)
    yield dg.MaterializeResult(asset_key=LINE_ITEMS, metadata={**meta, "dagster/row_count": rows})
    yield dg.MaterializeResult(asset_key=DELIVERIES, metadata={"deliveries": len(deliveries)})
    yield dg.MaterializeResult(
        asset_key=FX_RATES,
        metadata={
            "dagster/row_count": fx_rates.height,
            "currencies": sorted(set(fx_rates["currency"])),
        },
    )
    yield check
    yield unknown_gpus


@dg.asset(
    key=["raw", "instance_types"],
    description="One row per GPU instance type: GPU type and count (GPU catalog), on-demand "
    "price where the cost model's price list has one.",
    group_name="billing",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    pool="duckdb",
)
def instance_types(duckdb: WarehouseResource) -> dg.MaterializeResult:
    """Load the GPU instance catalog (with the cost model's prices) that maps billing lines to
    GPUs: every size of the current GPU families, not only the priced ones."""
    frame = gpu_instance_types(INSTANCE_PRICES_PATH)
    with duckdb.get_connection() as con:
        rows = replace_table(con, "raw", "instance_types", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "source_files": [CATALOG_PATH.name, INSTANCE_PRICES_PATH.name],
        }
    )
