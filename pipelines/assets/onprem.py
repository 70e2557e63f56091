"""On-prem hosts: ``onprem:`` in unitcost.yaml as the rates table the dbt models price from."""

import dagster as dg

from pipelines.onprem.config import rates_frame
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import replace_table


@dg.asset(
    key=["raw", "onprem_hosts"],
    description="One row per on-prem host entry of unitcost.yaml (onprem.hosts): GPUs, "
    "amortisation and overhead per day (USD, exact), $/kWh, PUE, fallback power.",
    group_name="onprem",
    kinds={"duckdb", "polars"},
    owners=["team:unitcost"],
    pool="duckdb",
)
def onprem_hosts(
    unitcost: UnitcostConfigResource, duckdb: WarehouseResource
) -> dg.MaterializeResult:
    """Replace ``raw.onprem_hosts`` with the configured entries (empty without ``onprem:``,
    so the dbt models that read it always find it)."""
    config = unitcost.settings().onprem
    frame = rates_frame(config)
    with duckdb.get_connection() as con:
        rows = replace_table(con, "raw", "onprem_hosts", frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "selectors": [h.selector for h in config.hosts] if config else [],
        }
    )
