"""Report: the weekly right-sizing report, one HTML file with charts plus two CSVs.

The logic is ``pipelines/report`` (no dagster there). The report covers the 7 UTC days
ending on the partition window's last day; re-running a partition replaces its files. It reads
fct_efficiency_daily (floor, modelled and actual per deployment; the 28 days it fits the 30-day
spend forecast on), fct_recommendations (cash and deferred savings), fct_cost_allocation_daily
(fleet spend), fct_gpu_busy_hourly (the busy heatmap) and dim_deployments.
Files land in ``$UNITCOST_REPORTS_DIR``, else in ``reports/`` beside the DuckDB file.
Each issue is recorded in ``reports.weekly_report_history`` with the billed cost it was built
on; when the bill of an issued week changes (RELIABILITY case 4), the week's next report is
marked restated with the delta (``pipelines/report/restated.py``).
"""

import datetime as dt

import dagster as dg

from pipelines.partitions import daily_partitions
from pipelines.report.files import reports_dir
from pipelines.report.render import write_report
from pipelines.report.restated import Restatement, record_issue
from pipelines.report.tables import headline_savings, load_tables
from pipelines.resources import WarehouseResource

REPORT_KEY = dg.AssetKey(["reports", "weekly_rightsizing"])
UPSTREAM = [
    dg.AssetKey(["marts", "fct_recommendations"]),
    dg.AssetKey(["marts", "fct_efficiency_daily"]),
    dg.AssetKey(["marts", "fct_cost_allocation_daily"]),
    dg.AssetKey(["marts", "fct_gpu_busy_hourly"]),
    dg.AssetKey(["marts", "fct_saturation_hourly"]),
    dg.AssetKey(["intermediate", "int_billing__usd_rates"]),
]


def _restated(restated: Restatement | None) -> str:
    if restated is None:
        return "no"
    return f"billed cost changed by {restated.delta_text()} since {restated.since.date()}"


# A one-spec multi_asset, like the other daily assets: @dg.asset warns that its
# backfill_policy parameter is beta, and that warning would end up in `unitcost run`'s output.
@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            REPORT_KEY,
            deps=UPSTREAM,
            description="One HTML report and two CSVs for the 7 UTC days ending on the "
            "window's last day.",
            group_name="report",
            kinds={"duckdb", "polars", "html"},
            owners=["team:unitcost"],
        )
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def weekly_report(
    context: dg.AssetExecutionContext, duckdb: WarehouseResource
) -> dg.MaterializeResult:
    """Query the marts for the week, render the HTML report and write the CSVs."""
    last_day = context.partition_time_window.end.date() - dt.timedelta(days=1)
    with duckdb.get_connection() as con:
        tables = load_tables(con, last_day)
        files = write_report(tables, reports_dir(duckdb.database))
        # after the files: an issue is recorded only once it exists
        record_issue(con, last_day, tables.billed_cost, dt.datetime.now(dt.UTC))
    headline = headline_savings(tables.recommendations)
    return dg.MaterializeResult(
        asset_key=REPORT_KEY,
        metadata={
            "first_day": tables.first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "html": dg.MetadataValue.path(str(files.html)),
            "recommendations_csv": dg.MetadataValue.path(str(files.recommendations_csv)),
            "deployments_csv": dg.MetadataValue.path(str(files.deployments_csv)),
            "recommendation_rows": tables.recommendations.height,
            "deployment_rows": tables.deployments.height,
            "restated": _restated(tables.restated),
            # the report's headline, rounded to cents for display (the CSV has exact values)
            "cash_monthly_savings_usd": float(round(headline.cash_monthly_usd, 2)),
            "deferred_monthly_savings_usd": float(round(headline.deferred_monthly_usd, 2)),
            "dagster/row_count": tables.recommendations.height,
        },
    )
