"""The one place unitcost's Dagster ``Definitions`` are assembled."""

import dagster as dg

from pipelines.assets.dbt import dbt_daily_models, dbt_snapshot_models
from pipelines.assets.registry import gpu_catalog, llm_architectures, registry_tables
from pipelines.jobs import build_jobs
from pipelines.resources import build_resources

assets = [registry_tables, llm_architectures, gpu_catalog, dbt_snapshot_models, dbt_daily_models]
jobs, schedules = build_jobs(assets)

defs = dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, resources=build_resources())
