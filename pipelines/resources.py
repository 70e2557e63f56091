"""Resources: the run config, the DuckDB warehouse and the dbt CLI.

Paths reach Dagster through two environment variables, so `dagster dev`, `unitcost run` and
dbt's own profile agree on one warehouse: ``UNITCOST_CONFIG`` (the ``unitcost.yaml``) and
``UNITCOST_DUCKDB`` (the DuckDB file; ``unitcost run`` sets it from the config).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from pipelines.config import Settings, load_settings
from pipelines.dbt_resource import dbt_cli_resource
from pipelines.warehouse import connect


class UnitcostConfigResource(dg.ConfigurableResource):
    """The validated ``unitcost.yaml``: registry path and source locations."""

    config_path: str

    def settings(self) -> Settings:
        return load_settings(self.config_path)


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse, opened with unitcost's settings (UTC, memory limit, 2 threads)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.database) as con:
            yield con


def build_resources() -> dict[str, object]:
    return {
        "unitcost": UnitcostConfigResource(config_path=dg.EnvVar("UNITCOST_CONFIG")),
        "duckdb": WarehouseResource(database=dg.EnvVar("UNITCOST_DUCKDB")),
        # dbt through the launcher (not PATH's), without dagster-dbt's per-step version check
        "dbt": dbt_cli_resource(),
    }
