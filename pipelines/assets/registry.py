"""Assets for what users declare: the deployment registry and the shipped catalogs."""

import hashlib

import dagster as dg
import polars as pl

from pipelines.costmodel.catalog import GPU_CATALOG_PATH, LLM_CATALOG_PATH
from pipelines.recommend.prefill_rates import prefill_rate_frame
from pipelines.registry import deployment_frame, load_registry, selector_frame
from pipelines.resources import UnitcostConfigResource, WarehouseResource
from pipelines.warehouse import replace_table

OWNERS = ["team:unitcost"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "registry_deployments"],
            description="One row per declared deployment: LLM, engine, precision, GPUs, validity.",
            group_name="registry",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            ["raw", "registry_prefill_rates"],
            description="One row per deployment: the cost model's prefill seconds per prompt "
            "token, the input/output split's fallback where the engine exports no prefill time.",
            group_name="registry",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            ["raw", "registry_selectors"],
            description="One row per (deployment, selector) recognising its resources in a source.",
            group_name="registry",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
        ),
    ],
    pool="duckdb",
)
def registry_tables(unitcost: UnitcostConfigResource, duckdb: WarehouseResource):
    """Load the deployment registry YAML (validated) into DuckDB, replacing the last snapshot."""
    path = unitcost.settings().registry_path
    registry = load_registry(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    deployments = deployment_frame(registry)
    with duckdb.get_connection() as con:
        n_deployments = replace_table(con, "raw", "registry_deployments", deployments)
        n_rates = replace_table(
            con, "raw", "registry_prefill_rates", prefill_rate_frame(deployments)
        )
        n_selectors = replace_table(con, "raw", "registry_selectors", selector_frame(registry))
    common = {"registry_file": str(path), "registry_sha256": sha256}
    yield dg.MaterializeResult(
        asset_key=["raw", "registry_deployments"],
        metadata={**common, "dagster/row_count": n_deployments},
    )
    yield dg.MaterializeResult(
        asset_key=["raw", "registry_prefill_rates"],
        metadata={**common, "dagster/row_count": n_rates},
    )
    yield dg.MaterializeResult(
        asset_key=["raw", "registry_selectors"],
        metadata={**common, "dagster/row_count": n_selectors},
    )


def _catalog_asset(name: str, path, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", name],
        description=description,
        group_name="registry",
        kinds={"duckdb", "polars"},
        owners=OWNERS,
        pool="duckdb",
    )
    def _load(duckdb: WarehouseResource) -> dg.MaterializeResult:
        frame = pl.read_csv(path, infer_schema_length=None)
        with duckdb.get_connection() as con:
            rows = replace_table(con, "raw", name, frame)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "source_file": path.name})

    return _load


llm_architectures = _catalog_asset(
    "llm_architectures",
    LLM_CATALOG_PATH,
    "One row per LLM in the shipped architecture catalog, with its source.",
)
gpu_catalog = _catalog_asset(
    "gpu_catalog", GPU_CATALOG_PATH, "One row per GPU type in the shipped catalog, with sources."
)
